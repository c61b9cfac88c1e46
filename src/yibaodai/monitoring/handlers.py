"""Monitoring's part of the flow: new settlement data, a bureau event or an external source's
fact about a borrower is checked against the warning rules (step 8). Registered as a
*deferred* handler in ``flow.handlers``: the gateway answers the bureau without waiting for
it, and a worker runs it soon after, at the time of the event (so a late run gives the same
warnings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from yibaodai.domain.events import (
    BureauEventRecorded,
    ExternalFactRecorded,
    SettlementDataStored,
    WarningLevelRaised,
    WarningRaised,
)
from yibaodai.monitoring.service import monitoring_events


def monitor(session: Session, *, now: datetime, fixmedins_code: str | None = None,
            ) -> list[WarningRaised | WarningLevelRaised]:
    """The rules' run as events: new warnings and raised levels (the monthly job publishes
    them; their handlers tell the client managers)."""
    return monitoring_events(session, now=now, fixmedins_code=fixmedins_code)


def watch_new_data(session: Session,
                   event: SettlementDataStored | BureauEventRecorded | ExternalFactRecorded,
                   ) -> list[WarningRaised | WarningLevelRaised]:
    return monitor(session, now=event.at, fixmedins_code=event.fixmedins_code)
