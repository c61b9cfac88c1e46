"""Job leases and the record of job runs (pruned by the weekly retention job:
:func:`prune_runs`).

A lease is one ``job_leases`` row per job, taken with a conditional UPDATE: it succeeds only
when the lease is free, expired, or already this holder's, and on PostgreSQL a concurrent
UPDATE of the same row waits and re-checks the condition, so exactly one worker wins. The
lease expires by itself (``lease_for``) if its holder dies; it is released when the run ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibaodai.db.models import JobLeaseRow, JobRunRow
from yibaodai.db.session import Database


def acquire(db: Database, *, job: str, holder: str, now: datetime,
            lease_for: timedelta) -> bool:
    """Take ``job``'s lease until ``now + lease_for``; False if another holder has it."""
    with db.unit_of_work() as session:
        if session.get(JobLeaseRow, job) is None:
            session.add(JobLeaseRow(job=job, holder=None, expires_at=None))
            try:
                session.commit()
            except IntegrityError:  # another worker created it first
                session.rollback()
    with db.unit_of_work() as session:
        taken = cast(CursorResult[Any], session.execute(update(JobLeaseRow).where(
            JobLeaseRow.job == job,
            or_(JobLeaseRow.holder.is_(None), JobLeaseRow.expires_at < now,
                JobLeaseRow.holder == holder),
        ).values(holder=holder, expires_at=now + lease_for)))
        session.commit()
        return taken.rowcount == 1


def release(db: Database, *, job: str, holder: str) -> None:
    with db.unit_of_work() as session:
        session.execute(update(JobLeaseRow).where(
            JobLeaseRow.job == job, JobLeaseRow.holder == holder,
        ).values(holder=None, expires_at=None))
        session.commit()


def record_run(db: Database, *, job: str, holder: str, started_at: datetime,
               finished_at: datetime, outcome: str, counts: dict[str, Any],
               error: str | None) -> None:
    with db.unit_of_work() as session:
        session.add(JobRunRow(job=job, holder=holder, started_at=started_at,
                              finished_at=finished_at, outcome=outcome, counts=counts,
                              error=error))
        session.commit()


def prune_runs(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete ``job_runs`` rows started before ``now - keep`` (inside the caller's
    transaction), always keeping each job's last run of each outcome: the schedule counts
    from a job's last ``ok`` run and waits ``RETRY_AFTER`` after its last ``failed`` one
    (:meth:`Worker.next_due`), and ``jobs list`` shows when a rare job last ran. Returns
    how many rows went."""
    last = select(func.max(JobRunRow.id)).group_by(JobRunRow.job, JobRunRow.outcome)
    gone = session.execute(delete(JobRunRow).where(
        JobRunRow.started_at < now - keep, JobRunRow.id.not_in(last.scalar_subquery())))
    return int(getattr(gone, "rowcount", 0) or 0)


def last_started(db: Database, job: str, *, outcome: str | None = None) -> datetime | None:
    """When ``job`` last started (only runs that ended with ``outcome``, if given)."""
    query = select(JobRunRow.started_at).where(JobRunRow.job == job)
    if outcome is not None:
        query = query.where(JobRunRow.outcome == outcome)
    with db.unit_of_work() as session:
        return session.scalars(query.order_by(JobRunRow.id.desc()).limit(1)).first()


def recent_runs(db: Database, job: str, *, limit: int) -> list[dict[str, Any]]:
    """``job``'s latest runs, newest first, as JSON-ready data."""
    with db.unit_of_work() as session:
        return [{"started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat(),
                 "outcome": r.outcome, "counts": r.counts, "error": r.error, "holder": r.holder}
                for r in session.scalars(select(JobRunRow).where(JobRunRow.job == job)
                                         .order_by(JobRunRow.id.desc()).limit(limit))]
