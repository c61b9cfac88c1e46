"""Monitoring's part of the flow: new settlement data or a bureau event about a borrower is
checked against the warning rules (step 8). Registered as a *deferred* handler in
``flow.handlers``: the gateway answers the bureau without waiting for it, and a worker runs it
soon after, at the time of the event (so a late run gives the same warnings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from yibaodai.domain.events import BureauEventRecorded, SettlementDataStored, WarningRaised
from yibaodai.monitoring.service import run_monitoring


def monitor(session: Session, *, now: datetime,
            fixmedins_code: str | None = None) -> list[WarningRaised]:
    """``run_monitoring`` with the warnings it raised as events (the monthly job uses it)."""
    return [WarningRaised(at=now, warning_id=w.id, case_id=w.case_id, rule_code=w.rule_code,
                          period=w.period)
            for w in run_monitoring(session, now=now, fixmedins_code=fixmedins_code)]


def watch_new_data(session: Session,
                   event: SettlementDataStored | BureauEventRecorded) -> list[WarningRaised]:
    return monitor(session, now=event.at, fixmedins_code=event.fixmedins_code)
