"""Marketing's part of the flow (registered in ``flow.handlers``): an authorization that
arrives through the gateway (8101) is credited to the outreach that preceded it. The gateway
only publishes ``AuthorizationGranted``; it knows nothing of marketing (import contract)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import AuthorizationRow
from yibaodai.domain.events import AuthorizationGranted
from yibaodai.marketing.campaigns import attribute_authorization


def credit_authorization(session: Session, event: AuthorizationGranted) -> None:
    """Mark the prospect authorized and credit each running campaign (see
    ``campaigns.attribute_authorization``), in the gateway's unit of work: the credit commits
    with the authorization or not at all. Handling the event again credits nothing more (one
    credit per campaign and prospect; an authorized prospect gets no second log entry)."""
    uscc = session.scalars(select(AuthorizationRow.uscc).where(
        AuthorizationRow.auth_no == event.auth_no)).first()
    attribute_authorization(session, fixmedins_code=event.fixmedins_code, uscc=uscc,
                            authorized_at=event.at)
