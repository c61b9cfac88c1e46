"""The registry: for each event, the handlers that run in the same unit of work (atomic, in
this order) and those a worker runs later (deferred). Adding a subscriber is one line here.

``docs/architecture.md`` ("Events and handlers") has the same table with what each handler
writes or sends.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from yibaodai.admission import handlers as admission
from yibaodai.cases import handlers as cases
from yibaodai.domain.events import (
    AuthorizationGranted,
    AuthorizationRevoked,
    BureauEventRecorded,
    CaseAssigned,
    CaseConfirmed,
    DecisionMade,
    DeliveryFailed,
    Event,
    ExternalFactRecorded,
    LoanStatusReported,
    MessageDelivered,
    ProfileChanged,
    SettlementDataStored,
    WarningHandled,
    WarningLevelRaised,
    WarningRaised,
)
from yibaodai.flow.bus import CoalesceKey, Handler, MessageBus
from yibaodai.marketing import handlers as marketing
from yibaodai.monitoring import handlers as monitoring
from yibaodai.monitoring import limit_actions, publishing

HANDLERS: dict[type[Event], list[Handler]] = {
    # the decision first; then the authorization is credited to the outreach before it
    AuthorizationGranted: [admission.consider_decision, marketing.credit_authorization],
    AuthorizationRevoked: [],  # later data is refused at the gateway (no valid authorization)
    ProfileChanged: [admission.consider_decision],
    BureauEventRecorded: [admission.consider_decision],
    SettlementDataStored: [admission.consider_decision],
    LoanStatusReported: [cases.record_loan_status],
    # The case first: the answer tells an admitted institution its sub-branch.
    DecisionMade: [cases.open_case_if_admitted, admission.queue_bureau_answer],
    CaseAssigned: [],
    CaseConfirmed: [cases.queue_whitelist_entry],
    MessageDelivered: [cases.record_head_office_receipt, limit_actions.record_limit_action_ack],
    DeliveryFailed: [],
    # the client manager hears of a new warning, and again when its level goes up
    WarningRaised: [publishing.publish_warning],
    WarningLevelRaised: [publishing.publish_warning],
    # "reduce limit" and "freeze" go to head office through the outbox
    WarningHandled: [limit_actions.report_limit_action],
    ExternalFactRecorded: [],
}

DEFERRED: dict[type[Event], list[Handler]] = {
    SettlementDataStored: [monitoring.watch_new_data],
    BureauEventRecorded: [monitoring.watch_new_data],
    ExternalFactRecorded: [monitoring.watch_new_data],
}


def _institution(payload: Mapping[str, Any]) -> Hashable:
    return str(payload["fixmedins_code"])


#: Deferred handlers whose work depends only on the institution and the moment (the event's
#: ``at``): rows queued for the same institution at the same moment are run once.
COALESCED: dict[Handler, CoalesceKey] = {monitoring.watch_new_data: _institution}


def message_bus() -> MessageBus:
    return MessageBus(handlers=HANDLERS, deferred=DEFERRED, coalesce=COALESCED)
