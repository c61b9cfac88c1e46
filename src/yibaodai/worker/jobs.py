"""The jobs the bank runs on its own, and when (intervals from ``Settings``, env prefix
``YIBAODAI_``):

=====================  ===========================================  ============================
job                    what it does                                 when
=====================  ===========================================  ============================
``outbox``             deliver due outbox rows (answers to the      whenever rows are due;
                       bureau, whitelist entries to head office)    polled every
                                                                    ``dispatch_interval_seconds``
``deferred_events``    run deferred handlers (monitoring after      whenever events are due
                       new data)                                    (same poll)
``sla_sweep``          SLA reminders, breaches (penalties) and      ``sla_sweep_interval_seconds``
                       escalations (``cases.sla_sweep``)
``warning_escalation`` open warnings past their deadline go to the  ``escalation_interval_seconds``
                       department manager
``monitoring``         the warning rules over every borrower        monthly: ``monitoring_day``
                                                                    at ``monitoring_hour``
``external_sources``   ask the external sources (court list) about  every
                       every borrower; new facts run the rules      ``external_interval_seconds``
                                                                    (only with a source URL)
``retention``          delete data whose retention has run out;     weekly: ``retention_weekday``
                       prune ``job_runs`` (``job_runs_keep_days``)  at ``retention_hour``
=====================  ===========================================  ============================

The demo runs exactly these (``Worker.run_due`` after moving its clock).
"""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from yibaodai.audit.log import record as audit
from yibaodai.cases.sla_policy import bank_calendar, policy_of
from yibaodai.cases.sla_sweep import run_sweep
from yibaodai.db.models import OutboxRow
from yibaodai.db.session import Database
from yibaodai.flow.bus import MessageBus
from yibaodai.gateway import retention
from yibaodai.monitoring.handlers import monitor
from yibaodai.monitoring.service import escalate_overdue
from yibaodai.monitoring.sources import CourtEnforcementSource, ExternalSource, fetch_external
from yibaodai.settings import Settings
from yibaodai.worker import deferred, leases
from yibaodai.worker.dispatcher import Dispatcher
from yibaodai.worker.runner import Job
from yibaodai.worker.schedules import Every, Monthly, Weekly


def standard_jobs(*, db: Database, bus: MessageBus, dispatcher: Dispatcher | None,
                  settings: Settings) -> list[Job]:
    """The bank's jobs. Without a ``dispatcher`` (no receiver URLs) the outbox job refuses to
    run, naming the settings it needs; the others run as usual."""

    def deliver(now: datetime, stop: threading.Event) -> dict[str, int]:
        if dispatcher is None:  # no receiver URLs: the refusal names the settings to set
            settings.require_receivers()
            return {"delivered": 0}
        return {"delivered": dispatcher.dispatch_due(stop=stop)}

    def outbox_pending() -> datetime | None:
        query = select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
        if dispatcher is not None:
            query = query.where(OutboxRow.destination.in_(sorted(dispatcher.endpoints)))
        with db.unit_of_work() as session:
            return session.scalar(query)

    def handle_deferred(now: datetime, stop: threading.Event) -> dict[str, int]:
        run = deferred.handle_due(db, bus, now=now, stop=stop)
        return {"handled": run.handled, "failed": run.failed, "coalesced": run.coalesced}

    def sla_sweep(now: datetime, stop: threading.Event) -> dict[str, int]:
        with db.unit_of_work() as session:
            result = run_sweep(session, now=now, calendar=bank_calendar(settings),
                               policy=policy_of(settings))
            session.commit()
        return {"penalties": len(result.breaches), "reminders": len(result.reminders),
                "escalations": len(result.escalations)}

    def escalation(now: datetime, stop: threading.Event) -> dict[str, int]:
        with db.unit_of_work() as session:
            escalated = escalate_overdue(session, now=now, calendar=bank_calendar(settings),
                                         deadline_days=settings.warning_deadline_days)
            session.commit()
        return {"escalated": len(escalated)}

    def monitoring(now: datetime, stop: threading.Event) -> dict[str, int]:
        with db.unit_of_work() as session:
            raised = monitor(session, now=now)
            bus.publish(session, raised)
            session.commit()
        return {"warnings": len(raised)}

    sources: list[ExternalSource] = []
    if settings.court_source_url:
        sources.append(CourtEnforcementSource(settings.court_source_url))

    def external(now: datetime, stop: threading.Event) -> dict[str, int]:
        with db.unit_of_work() as session:
            facts = fetch_external(session, sources, now=now)
            bus.publish(session, facts)  # deferred: the rules run for those borrowers
            session.commit()
        return {"facts": len(facts)}

    def retention_run(now: datetime, stop: threading.Event) -> dict[str, int]:
        items = retention.apply(db, now=now)
        keep = timedelta(days=settings.job_runs_keep_days)
        with db.unit_of_work() as session:
            runs = leases.prune_runs(session, now=now, keep=keep)
            if runs:
                audit(session, at=now, actor=retention.RETENTION_ACTOR,
                      action="retention.job_runs", target="job_runs", details={
                          "deleted": runs, "rule": f"runs older than {keep.days} days, "
                          "each job's last run of each outcome kept"})
            session.commit()
        return {"institutions": len(items), "rows": sum(item.total for item in items),
                "job_runs": runs}

    jobs = [Job("deferred_events", handle_deferred, "run deferred event handlers",
                pending=lambda: deferred.next_due(db)),
            Job("sla_sweep", sla_sweep, "penalise missed SLA deadlines",
                schedule=Every(timedelta(seconds=settings.sla_sweep_interval_seconds))),
            Job("warning_escalation", escalation, "escalate unhandled warnings",
                schedule=Every(timedelta(seconds=settings.escalation_interval_seconds))),
            Job("monitoring", monitoring, "warning rules over every borrower",
                schedule=Monthly(settings.monitoring_day, time(settings.monitoring_hour))),
            *([Job("external_sources", external, "ask the external sources",
                   schedule=Every(timedelta(seconds=settings.external_interval_seconds)))]
              if sources else []),
            Job("retention", retention_run, "delete data past its retention",
                schedule=Weekly(settings.retention_weekday, time(settings.retention_hour)))]
    # Last: what the jobs above queue goes out in the same tick.
    jobs.append(Job("outbox", deliver, "deliver due outbox messages", pending=outbox_pending))
    return jobs

__all__ = ["standard_jobs"]
