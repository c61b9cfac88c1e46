"""The unit of work of a GET (``Database.read_unit_of_work``): on PostgreSQL it opens no
transaction while it only reads, and its first write or lock opens one, so what it writes
commits or rolls back together exactly as in an ordinary unit of work; the audit chain's
append from it still holds the chain's lock until commit (concurrent appenders, one chain).
On SQLite it is the ordinary unit of work, and the same tests hold."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import START
from yibaodai.audit.log import record, record_direct, verify_chain
from yibaodai.db.models import AuditRow, SubBranchRow
from yibaodai.db.session import Database, writes


def _status(session: Session) -> Any:
    return session.connection().connection.driver_connection.info.transaction_status  # type: ignore[union-attr]


def _names(db: Database) -> dict[str, str]:
    with db.unit_of_work() as s:
        return {code: name for code, name in s.execute(select(SubBranchRow.code,
                                                              SubBranchRow.name_en))}


def _audit_count(db: Database) -> int:
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRow)) or 0)


def test_a_read_opens_no_transaction_on_postgresql(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's unit of work begins IMMEDIATE, a read session too")
    with db.read_unit_of_work() as s:
        assert s.execute(select(SubBranchRow.code)).first() is not None
        assert _status(s) == TransactionStatus.IDLE  # no BEGIN was sent, nothing is open
    with db.unit_of_work() as s:  # the ordinary unit of work, for contrast
        s.execute(select(SubBranchRow.code)).first()
        assert _status(s) == TransactionStatus.INTRANS


@pytest.mark.parametrize("commit", [False, True])
def test_the_writes_of_a_read_session_commit_or_roll_back_together(db: Database,
                                                                   commit: bool) -> None:
    before = _names(db)
    first, second = sorted(before)[:2]
    with db.read_unit_of_work() as s:
        s.execute(select(SubBranchRow.code)).all()  # a read first, as a page does
        for code in (first, second):
            s.execute(update(SubBranchRow).where(SubBranchRow.code == code)
                      .values(name_en=f"renamed {code}"))
        if db.engine.dialect.name == "postgresql":
            assert _status(s) == TransactionStatus.INTRANS  # the first write opened it
        if commit:
            s.commit()
    after = _names(db)
    if commit:
        assert after == {**before, first: f"renamed {first}", second: f"renamed {second}"}
    else:
        assert after == before  # neither update stayed: they were one transaction


def test_an_audit_row_of_a_read_session_is_written_only_on_commit(db: Database) -> None:
    before = _audit_count(db)
    with db.read_unit_of_work() as s:
        s.execute(select(SubBranchRow.code)).all()
        record_direct(s, at=START, actor="gm", action="personal_data.view", target="case:1",
                      details={"fields": ["legrep_name"]})
        # no commit: the page failed after its audit row
    assert _audit_count(db) == before
    with db.read_unit_of_work() as s:
        record(s, at=START, actor="gm", action="cases.export", target="cases")
        s.commit()
    assert _audit_count(db) == before + 1


def test_concurrent_read_sessions_append_one_unbroken_chain(db: Database) -> None:
    """Twelve threads each append 15 views from read sessions at once: every row is there
    and every link holds (without the lock two appenders would link onto the same tail)."""
    before = _audit_count(db)

    def views(n: int) -> None:
        for i in range(15):
            with db.read_unit_of_work() as s:
                s.execute(select(SubBranchRow.code)).first()
                record_direct(s, at=datetime(2026, 9, 1, 9, 0, tzinfo=START.tzinfo),
                              actor=f"user{n}", action="personal_data.view",
                              target=f"case:{i}", details={"fields": ["bankacct"]})
                s.commit()

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(views, range(12)))
    assert _audit_count(db) == before + 12 * 15
    with db.unit_of_work() as s:
        assert verify_chain(s) is None


def test_a_streamed_read_works_in_a_read_session(db: Database) -> None:
    """A server-side cursor (the exports stream their rows) needs a transaction on
    PostgreSQL: the read session opens one for it."""
    with db.read_unit_of_work() as s:
        codes = [r.code for r in s.execute(select(SubBranchRow.code).order_by(SubBranchRow.code)
                                           .execution_options(yield_per=5))]
    assert codes == sorted(_names(db)) and len(codes) > 5


@pytest.mark.parametrize(("statement", "expected"), [
    ("SELECT 1", False),
    ("  select code FROM sub_branches WHERE name_en = 'UPDATE'", False),
    ("WITH x AS (SELECT 1) SELECT * FROM x", False),
    ("INSERT INTO audit_log (actor) VALUES ('a')", True),
    ("\n update cases SET version = 2", True),
    ("DELETE FROM data_changes WHERE id <= 3", True),
    ("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE", True),
    ("WITH moved AS (DELETE FROM outbox RETURNING id) SELECT count(*) FROM moved", True),
    ("SELECT id FROM outbox ORDER BY id FOR UPDATE SKIP LOCKED", True),
    ("SELECT id FROM flow_events FOR NO KEY UPDATE", True),
    ("SELECT id FROM cases FOR SHARE", True),
])
def test_which_statements_open_the_transaction(statement: str, expected: bool) -> None:
    """A false alarm (a literal that reads like a locking clause) costs one BEGIN; a write
    taken for a read would commit on its own, so every kind of write must be found."""
    assert writes(statement) is expected


def test_a_view_committed_with_its_audit_row_leaves_the_session_usable(db: Database) -> None:
    """``commit=True``: the row and the COMMIT in one round trip on PostgreSQL; the row is
    on record for every other session at once, and the session goes on reading."""
    before = _audit_count(db)
    with db.read_unit_of_work() as s:
        s.execute(select(SubBranchRow.code)).all()
        record_direct(s, at=START, actor="gm", action="personal_data.view",
                      target="institution:H1", details={"fields": ["bankacct"]}, commit=True)
        assert _audit_count(db) == before + 1  # seen from another connection: committed
        assert s.execute(select(SubBranchRow.code)).first() is not None
    with db.unit_of_work() as s:
        assert verify_chain(s) is None
        newest = s.execute(select(AuditRow.target, AuditRow.details)
                           .order_by(AuditRow.id.desc()).limit(1)).one()
    assert tuple(newest) == ("institution:H1", {"fields": ["bankacct"]})


def test_a_failed_audit_row_with_its_commit_writes_nothing(db: Database) -> None:
    """The database refuses the row (no action): the error is SQLAlchemy's on both
    backends, nothing of the unit of work is written, and the next view appends cleanly."""
    before, names = _audit_count(db), _names(db)
    code = sorted(names)[0]
    with db.read_unit_of_work() as s:
        s.execute(update(SubBranchRow).where(SubBranchRow.code == code)
                  .values(name_en="renamed"))
        with pytest.raises(IntegrityError):
            record_direct(s, at=START, actor="gm", action=None,  # type: ignore[arg-type]
                          target="case:1", details={}, commit=True)
    assert (_audit_count(db), _names(db)) == (before, names)
    with db.read_unit_of_work() as s:
        record_direct(s, at=START, actor="gm", action="personal_data.view", target="case:1",
                      details={"fields": ["legrep_name"]}, commit=True)
    assert _audit_count(db) == before + 1
    with db.unit_of_work() as s:
        assert verify_chain(s) is None
