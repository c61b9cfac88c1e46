"""Marketing over the bureau's list of designated institutions (DESIGN step 10): import and
matching (``importer``), assignment to sub-branches and client managers (``assignment``),
outreach and call lists (``outreach``), campaigns, funnel, leaderboard and attribution
(``campaigns``), Excel reports. Pure rules live in ``yibaodai.domain.marketing``."""

from __future__ import annotations

from yibaodai.marketing.assignment import AssignmentSummary, assign_prospects
from yibaodai.marketing.campaigns import (
    attribute_authorization,
    campaign_funnel,
    create_campaign,
    list_campaigns,
)
from yibaodai.marketing.importer import ImportReport, import_list
from yibaodai.marketing.outreach import (
    CallListEntry,
    call_list,
    call_list_xlsx,
    current_states,
    outreach_log,
    record_outcome,
    set_do_not_contact,
)
from yibaodai.marketing.report import import_report_xlsx

__all__ = [
    "AssignmentSummary",
    "CallListEntry",
    "ImportReport",
    "assign_prospects",
    "attribute_authorization",
    "call_list",
    "call_list_xlsx",
    "campaign_funnel",
    "create_campaign",
    "current_states",
    "import_list",
    "import_report_xlsx",
    "list_campaigns",
    "outreach_log",
    "record_outcome",
    "set_do_not_contact",
]
