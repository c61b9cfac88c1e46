"""SQLAlchemy tables. Rows are plain storage; rules live in ``domain``.

One module per area; a new area adds its module and one import here (Alembic sees
every table through this package).

Append-only tables (``raw_messages``, ``decisions``, ``case_events``, ``audit_log``) have no
update path in code; ``raw_messages`` and ``audit_log`` are also hash-chained.
"""

from __future__ import annotations

from yibaodai.db.models.base import NAMING, Base
from yibaodai.db.models.bureau import (
    AuthorizationRow,
    DataQualityFlagRow,
    FundDisbursementRow,
    InstitutionEventRow,
    InstitutionRow,
    MessageOutcomeRow,
    QuarantineRow,
    RawMessageRow,
    ReconciliationTotalRow,
    SettlementFactRow,
)
from yibaodai.db.models.cases import (
    CaseEventRow,
    CaseRow,
    DecisionRow,
    WarningRow,
)
from yibaodai.db.models.model_versions import (
    ModelVersionEventRow,
    ModelVersionRow,
    ShadowDecisionRow,
)
from yibaodai.db.models.modelkit import ModelReportRow
from yibaodai.db.models.organisation import (
    SlaPenaltyRow,
    SubBranchRow,
    UserRow,
)
from yibaodai.db.models.outbound import (
    AuditRow,
    OutboxRow,
)

__all__ = [
    "NAMING",
    "AuditRow",
    "AuthorizationRow",
    "Base",
    "CaseEventRow",
    "CaseRow",
    "DataQualityFlagRow",
    "DecisionRow",
    "FundDisbursementRow",
    "InstitutionEventRow",
    "InstitutionRow",
    "MessageOutcomeRow",
    "ModelReportRow",
    "ModelVersionEventRow",
    "ModelVersionRow",
    "OutboxRow",
    "QuarantineRow",
    "RawMessageRow",
    "ReconciliationTotalRow",
    "SettlementFactRow",
    "ShadowDecisionRow",
    "SlaPenaltyRow",
    "SubBranchRow",
    "UserRow",
    "WarningRow",
]
