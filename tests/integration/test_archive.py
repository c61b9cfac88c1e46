"""The keyed, hash-chained raw-message archive after real gateway traffic: intact; altering a
body or a link, or deleting a record (as a DBA would, past the triggers), is found by
``verify_archive`` and by ``yibaodai archive verify``."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select

from tests.integration.test_gateway_refusals import (
    Bureau,
    bureau,  # noqa: F401  (the fixture)
    daily_row,
    profile_row,
)
from tests.support.operator import as_dba, run_cli
from yibaodai.db.models import RawMessageRow
from yibaodai.gateway.archive import verify_archive
from yibaodai.settings import Settings


def _traffic(b: Bureau) -> list[int]:
    assert b.send("8201", [profile_row()]).infcode == 0
    assert b.send("8301", [daily_row()]).infcode == 0
    assert b.send("8301", [daily_row(hifp_pay="1.001")]).infcode != 0  # archived, refused
    with b.db.unit_of_work() as s:
        return list(s.scalars(select(RawMessageRow.id).order_by(RawMessageRow.id)))


def _cli(b: Bureau, settings: Settings) -> Result:
    return run_cli(settings, "archive", "verify", "--no-checkpoint")


def _execute(b: Bureau, sql: str, **params: Any) -> None:
    as_dba(b.db, sql, **params)


def test_intact_archive_verifies(bureau: Bureau, settings: Settings) -> None:  # noqa: F811
    ids = _traffic(bureau)
    assert len(ids) == 4
    with bureau.db.unit_of_work() as s:
        assert verify_archive(s) is None
    result = _cli(bureau, settings)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


@pytest.mark.parametrize("column", ["body", "prev_hash", "record_hash", "body_sm3", "infno",
                                    "key_id", "fixmedins_code"])
def test_altered_record_is_named(bureau: Bureau, settings: Settings,  # noqa: F811
                                 column: str) -> None:
    ids = _traffic(bureau)
    target = ids[1]
    with bureau.db.unit_of_work() as s:
        row = s.get(RawMessageRow, target)
        assert row is not None
        value = getattr(row, column)
    new = (value.replace(b'"infno":"8', b'"infno":"9', 1) if column == "body"
           else "0" * 64 if column.endswith(("hash", "sm3")) else "9" + value[1:])
    assert new != value
    _execute(bureau, f"UPDATE raw_messages SET {column} = :v WHERE id = :id", v=new, id=target)
    with bureau.db.unit_of_work() as s:
        assert verify_archive(s) == target
    result = _cli(bureau, settings)
    assert result.exit_code == 1
    assert f"archive record {target} " in result.output


def test_deleted_middle_record_is_found(bureau: Bureau, settings: Settings  # noqa: F811
                                        ) -> None:
    ids = _traffic(bureau)
    middle = ids[1]
    with bureau.db.unit_of_work() as s:
        msgid = s.get(RawMessageRow, middle).msgid  # type: ignore[union-attr]
    _execute(bureau, "DELETE FROM message_outcomes WHERE msgid = :m", m=msgid)
    _execute(bureau, "DELETE FROM raw_messages WHERE id = :id", id=middle)
    with bureau.db.unit_of_work() as s:
        assert verify_archive(s) == ids[2]  # the next record's link no longer matches
    result = _cli(bureau, settings)
    assert result.exit_code == 1
    assert f"archive record {ids[2]} " in result.output
