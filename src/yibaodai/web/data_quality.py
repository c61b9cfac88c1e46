"""Data-quality flags (e.g. 8302 reconciliation totals that differ from the summed 8301 daily
facts) for department managers and above: the branch manager sees all, a sub-branch manager
only institutions whose case is in the sub-branch; everyone else 403, anonymous 401."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import select

from yibaodai.auth.roles import Actor
from yibaodai.db.models import CaseRow, DataQualityFlagRow, InstitutionRow
from yibaodai.web.deps import DbSession, require_settlement_viewer

router = APIRouter(prefix="/api", tags=["api"])

MAX_FLAGS = 1000


@router.get("/data-quality")
def data_quality_flags(s: DbSession, actor: Actor = Depends(require_settlement_viewer)
                       ) -> list[dict[str, Any]]:
    """The newest flags in the actor's scope (at most 1000), newest first."""
    stmt = (select(DataQualityFlagRow, InstitutionRow.fixmedins_name)
            .outerjoin(InstitutionRow,
                       InstitutionRow.fixmedins_code == DataQualityFlagRow.fixmedins_code)
            .order_by(DataQualityFlagRow.raised_at.desc(), DataQualityFlagRow.id.desc())
            .limit(MAX_FLAGS))
    scope = actor.sub_branch_scope()
    if scope is not None:
        stmt = stmt.where(DataQualityFlagRow.fixmedins_code.in_(
            select(CaseRow.fixmedins_code).where(CaseRow.sub_branch_code.in_(sorted(scope)))))
    return [{
        "id": f.id, "fixmedins_code": f.fixmedins_code, "fixmedins_name": name,
        "kind": f.kind, "period_begin": f.period_begin.isoformat(),
        "period_end": f.period_end.isoformat(), "details": f.details,
        "raised_at": f.raised_at.isoformat(), "source_msgid": f.source_msgid,
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
    } for f, name in s.execute(stmt).all()]
