"""Bulk writing of an import's rows (``marketing.bulk.insert_rows``: COPY on PostgreSQL, one
driver ``executemany`` on SQLite) against SQLAlchemy's own ``executemany`` of the same rows,
on real SQLite and PostgreSQL: the stored rows are the same, awkward text included, a
rolled-back unit of work leaves none of them, and an import's report on the simulator's messy
list is the same whichever way its rows are written (and adds up: new + updated + merged +
refused = read)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from tests.conftest import START
from yibaodai.bootstrap import seed_demo_users
from yibaodai.db.models import ListImportRow, ProspectMatchRow, ProspectRow
from yibaodai.db.session import Database
from yibaodai.marketing import import_list, importer
from yibaodai.marketing.bulk import insert_rows
from yibaodai.sim.bureau_list import write_bureau_list
from yibaodai.sim.city import generate_city

_prospects = cast(Table, ProspectRow.__table__)
AWKWARD = ["tab\there", "line\nbreak", "back\\slash", "quote'\"", "\\N", "大连 康宁\u3000大药房",
           "emoji 🏥", "", "comma,semi;colon|pipe", "trailing space "]


def _batch(s: Session) -> int:
    batch = ListImportRow(filename="x.csv", file_sm3="0" * 64, imported_at=START,
                          imported_by="test", read=0, new=0, updated=0, merged=0, refused=0,
                          report={}, matching_version="t")
    s.add(batch)
    s.flush()
    return batch.id


def _rows(batch: int, first: int, n: int) -> list[dict[str, Any]]:
    shared = START + timedelta(hours=1)  # one object in every row, as an import's ``now``
    return [{
        "fixmedins_code": None, "uscc": None if i % 3 else f"91210200MA0{i:06d}X"[:18],
        "name": AWKWARD[i % len(AWKWARD)] + str(i), "name_key": f"k{i}",
        "address": None if i % 4 == 0 else AWKWARD[(i + 3) % len(AWKWARD)],
        "address_key": "", "district": "210202",
        "phones": [] if i % 2 else ["0411-82345678", AWKWARD[i % len(AWKWARD)]],
        "contact": None, "kind": "2" if i % 2 else None, "kind_text": None,
        "designated_on": date(2020, 1, 1) + timedelta(days=i) if i % 5 else None,
        "latitude": 38.9 + i / 1e6 if i % 2 else None, "longitude": 121.6 if i % 2 else None,
        "institution_code": None, "link_reason": None, "link_score": i if i % 2 else None,
        "sub_branch_code": None, "client_manager_id": None,
        "assigned_at": shared if i % 2 else START + timedelta(minutes=i),
        "assignment": {"rule": "district_nearest", "note": AWKWARD[i % len(AWKWARD)],
                       "skipped": [], "n": i},
        "do_not_contact": bool(i % 7 == 0), "first_import_id": batch, "first_row": first + i,
        "created_at": shared, "updated_at": shared} for i in range(n)]


def _stored(s: Session, batch: int) -> list[tuple[Any, ...]]:
    columns = [c for c in _prospects.c if c.name not in ("id", "first_import_id")]
    return [tuple(r) for r in s.execute(select(*columns).where(
        _prospects.c.first_import_id == batch).order_by(_prospects.c.first_row))]


def test_bulk_rows_are_stored_exactly_as_sqlalchemy_stores_them(db: Database) -> None:
    with db.unit_of_work() as s:
        plain, bulk = _batch(s), _batch(s)
        s.execute(insert(_prospects), _rows(plain, 1, 60))
        insert_rows(s, _prospects, _rows(bulk, 1, 60))
        s.commit()
    with db.unit_of_work() as s:
        mine, theirs = _stored(s, bulk), _stored(s, plain)
    assert len(mine) == 60
    assert mine == theirs
    assert {r[2].rstrip("0123456789") for r in mine} == set(AWKWARD)  # the text came back
    assert all(isinstance(r[-1], datetime) and r[-1].tzinfo is not None for r in mine)


def test_bulk_rows_roll_back_with_their_unit_of_work(db: Database) -> None:
    with db.unit_of_work() as s:
        batch = _batch(s)
        s.commit()
    with db.unit_of_work() as s:
        insert_rows(s, _prospects, _rows(batch, 1, 25))
        assert s.scalar(select(func.count()).select_from(_prospects)) == 25  # same transaction
        s.rollback()
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(_prospects)) == 0


def test_a_column_with_a_python_default_must_be_given(db: Database) -> None:
    with db.unit_of_work() as s:
        rows = _rows(_batch(s), 1, 2)
        for row in rows:
            del row["do_not_contact"]
        with pytest.raises(ValueError, match="do_not_contact"):
            insert_rows(s, _prospects, rows)


def _plain(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """The reference: SQLAlchemy's own executemany, as the import wrote before."""
    session.execute(insert(table), list(rows))


def _import(db: Database, data: bytes, at: datetime) -> dict[str, Any]:
    with db.unit_of_work() as s:
        report = import_list(s, data=data, filename="名单.xlsx", actor="admin", now=at).as_dict()
        s.commit()
    return report


def test_the_report_on_a_messy_list_is_the_same_with_bulk_and_plain_writes(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.unit_of_work() as s:
        seed_demo_users(s, seed=1)
        s.commit()
    out = io.BytesIO()
    city = generate_city(seed=23, institutions=400, as_of=date(2026, 8, 31))
    manifest = write_bureau_list(city, out, seed=23, as_of=date(2026, 8, 31))
    data = out.getvalue()
    reports = []
    for writer in (_plain, insert_rows):
        monkeypatch.setattr(importer, "insert_rows", writer)
        with db.unit_of_work() as s:  # the first import, rolled back after its report
            reports.append(import_list(s, data=data, filename="名单.xlsx", actor="admin",
                                       now=START).as_dict())
            s.rollback()
    plain, bulk = ({k: v for k, v in r.items() if k != "import_id"} for r in reports)
    assert bulk == plain
    first = _import(db, data, START)
    again = _import(db, data, START + timedelta(days=1))
    for report in (first, again):
        assert report["read"] == manifest.data_rows
        assert (report["new"] + report["updated"] + report["merged"] + len(report["refused"])
                == report["read"])
    assert (first["new"], first["merged"]) == (manifest.institutions, manifest.near_duplicates)
    assert (again["new"], again["updated"]) == (0, first["new"])
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(_prospects)) == first["new"]
        assert s.scalar(select(func.count()).select_from(ProspectMatchRow)) == 2 * first["read"]
