"""SQLAlchemy tables. Rows are plain storage; rules live in ``domain``.

One module per area; a new area adds its module and one import here (Alembic sees
every table through this package).

Append-only tables (``raw_messages``, ``decisions``, ``case_events``, ``audit_log``,
``chain_checkpoints``) have no update path in code; ``raw_messages``, ``case_events`` and
``audit_log`` are also hash-chained, and they and ``chain_checkpoints`` refuse UPDATE and
DELETE in the database itself (triggers, ``db.append_only``).
"""

from __future__ import annotations

from yibaodai.db.models.base import NAMING, Base, ChainLink
from yibaodai.db.models.bureau import (
    AuthorizationRow,
    DataQualityFlagRow,
    FundDisbursementRow,
    InstitutionEventRow,
    InstitutionRow,
    MessageOutcomeRow,
    NonceRow,
    QuarantineRow,
    RawMessageRow,
    ReconciliationTotalRow,
    SettlementFactRow,
    SettlementMonthRow,
)
from yibaodai.db.models.cases import (
    CaseAttachmentRow,
    CaseEventRow,
    CaseRow,
    DecisionRow,
    WarningRow,
)
from yibaodai.db.models.integrity import (
    ChainCheckpointRow,
)
from yibaodai.db.models.limits import ExternalFactRow, LimitActionRow
from yibaodai.db.models.marketing import (
    CampaignAttributionRow,
    CampaignRow,
    CampaignTargetRow,
    ListImportRow,
    OutreachEventRow,
    ProspectMatchRow,
    ProspectRow,
)
from yibaodai.db.models.model_versions import (
    ModelVersionEventRow,
    ModelVersionRow,
    ShadowDecisionRow,
)
from yibaodai.db.models.modelkit import ModelReportRow
from yibaodai.db.models.organisation import (
    NotificationRow,
    SlaPenaltyRow,
    SubBranchRow,
    UserRow,
)
from yibaodai.db.models.outbound import (
    AuditRow,
    OutboxRow,
)
from yibaodai.db.models.platform import (
    ApiTokenRow,
    PasswordHistoryRow,
    WebSessionRow,
)
from yibaodai.db.models.runtime import (
    DataChangeRow,
    FlowEventRow,
    JobLeaseRow,
    JobRunRow,
)

__all__ = [
    "NAMING",
    "ApiTokenRow",
    "AuditRow",
    "AuthorizationRow",
    "Base",
    "CampaignAttributionRow",
    "CampaignRow",
    "CampaignTargetRow",
    "CaseAttachmentRow",
    "CaseEventRow",
    "CaseRow",
    "ChainCheckpointRow",
    "ChainLink",
    "DataChangeRow",
    "DataQualityFlagRow",
    "DecisionRow",
    "ExternalFactRow",
    "FlowEventRow",
    "FundDisbursementRow",
    "InstitutionEventRow",
    "InstitutionRow",
    "JobLeaseRow",
    "JobRunRow",
    "LimitActionRow",
    "ListImportRow",
    "MessageOutcomeRow",
    "ModelReportRow",
    "ModelVersionEventRow",
    "ModelVersionRow",
    "NonceRow",
    "NotificationRow",
    "OutboxRow",
    "OutreachEventRow",
    "PasswordHistoryRow",
    "ProspectMatchRow",
    "ProspectRow",
    "QuarantineRow",
    "RawMessageRow",
    "ReconciliationTotalRow",
    "SettlementFactRow",
    "SettlementMonthRow",
    "ShadowDecisionRow",
    "SlaPenaltyRow",
    "SubBranchRow",
    "UserRow",
    "WarningRow",
    "WebSessionRow",
]
