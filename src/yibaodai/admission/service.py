"""Decision service: facts -> features -> rule -> decision -> (case) -> answer to the bureau.

Runs inside the caller's unit of work, so the decision, the case and the outbox row commit
together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.cases.assignment import assign_case
from yibaodai.db.models import (
    DecisionRow,
    InstitutionEventRow,
    InstitutionRow,
    SettlementFactRow,
    SubBranchRow,
)
from yibaodai.domain.admission import AdmissionInputs, AdmissionOutcome, decide, rule_hash
from yibaodai.features.settlement import DailyAmounts, previous_months, settlement_features
from yibaodai.gateway.ingest import active_authorization
from yibaodai.outbound.outbox import BUREAU, KIND_ADMISSION_RESULT, enqueue

#: Data counts as current when it reaches this close to the end of the last complete month.
CURRENT_DATA_SLACK_DAYS = 7

def segment_of(inst: InstitutionRow) -> str:
    if inst.fixmedins_type == "2":
        return "pharmacy"
    if inst.fixmedins_type == "1":
        return "hospital" if (inst.hosp_lv or "") in {"一级", "二级", "三级"} else "clinic"
    return "other"


def load_daily(session: Session, code: str, since: date) -> list[DailyAmounts]:
    rows = session.execute(
        select(SettlementFactRow.setl_date, SettlementFactRow.setl_cnt,
               SettlementFactRow.refd_setl_cnt, SettlementFactRow.medfee_sumamt,
               SettlementFactRow.fund_pay_sumamt)
        .where(SettlementFactRow.fixmedins_code == code, SettlementFactRow.setl_date >= since)
    ).all()
    return [DailyAmounts(*r) for r in rows]


def data_is_current(session: Session, code: str, today: date) -> bool:
    latest = session.scalar(select(func.max(SettlementFactRow.setl_date)).where(
        SettlementFactRow.fixmedins_code == code))
    month_start = today.replace(day=1)
    return latest is not None and latest >= month_start - timedelta(days=CURRENT_DATA_SLACK_DAYS)


def gather_inputs(session: Session, inst: InstitutionRow, today: date) -> AdmissionInputs:
    first_month = previous_months(today, 27)[0]
    since = date(int(first_month[:4]), int(first_month[5:]), 1)
    features = settlement_features(load_daily(session, inst.fixmedins_code, since), as_of=today)
    window_start = today - timedelta(days=730)
    penalties = session.scalar(select(func.count()).select_from(InstitutionEventRow).where(
        InstitutionEventRow.fixmedins_code == inst.fixmedins_code,
        InstitutionEventRow.evt_type.in_(["penalty", "suspension"]),
        InstitutionEventRow.evt_date >= window_start)) or 0
    return AdmissionInputs(
        fixmedins_code=inst.fixmedins_code, segment=segment_of(inst),
        ownership=inst.ownership or "private", biz_stas=inst.biz_stas or "",
        cred_lv_name=inst.cred_lv_name or "", penalties_24m=int(penalties), features=features,
    )


def inputs_json(inputs: AdmissionInputs) -> dict[str, Any]:
    return {
        "fixmedins_code": inputs.fixmedins_code, "segment": inputs.segment,
        "ownership": inputs.ownership, "biz_stas": inputs.biz_stas,
        "cred_lv_name": inputs.cred_lv_name, "penalties_24m": inputs.penalties_24m,
        "features": inputs.features,
    }


def inputs_from_json(data: dict[str, Any]) -> AdmissionInputs:
    return AdmissionInputs(**data)


def content_hash(inputs: dict[str, Any], outcome: AdmissionOutcome) -> str:
    content = {"inputs": inputs, "rule_version": outcome.rule_version, "rule_hash": rule_hash(),
               "admitted": outcome.admitted, "credit_limit": str(outcome.credit_limit),
               "reasons": outcome.reasons_json()}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.new("sm3", canonical.encode()).hexdigest()


def replay(decision: DecisionRow) -> tuple[bool, str]:
    """Recompute a stored decision from its stored inputs; (same?, explanation)."""
    outcome = decide(inputs_from_json(decision.inputs))
    if outcome.rule_version != decision.rule_version:
        return False, f"rule version now {outcome.rule_version}, decision used " \
                      f"{decision.rule_version}"
    recomputed = content_hash(decision.inputs, outcome)
    if recomputed != decision.content_hash:
        return False, (f"recomputed result {outcome.admitted}/{outcome.credit_limit} hash "
                       f"{recomputed[:12]} differs from stored {decision.content_hash[:12]}")
    return True, "identical"


def should_decide(session: Session, code: str, now: datetime) -> bool:
    """A first decision needs a valid authorization, a profile and current data."""
    has_decision = session.scalar(select(func.count()).select_from(DecisionRow).where(
        DecisionRow.fixmedins_code == code))
    return (
        not has_decision
        and session.get(InstitutionRow, code) is not None
        and active_authorization(session, code, now.date()) is not None
        and data_is_current(session, code, now.date())
    )


def make_decision(session: Session, *, code: str, trigger: str, now: datetime) -> DecisionRow:
    inst = session.get(InstitutionRow, code)
    assert inst is not None
    inputs = gather_inputs(session, inst, now.date())
    outcome = decide(inputs)
    stored_inputs = inputs_json(inputs)
    decision = DecisionRow(
        fixmedins_code=code, decided_at=now, trigger=trigger,
        result="admitted" if outcome.admitted else "refused",
        credit_limit=outcome.credit_limit, reasons=outcome.reasons_json(),
        inputs=stored_inputs, rule_version=outcome.rule_version,
        content_hash=content_hash(stored_inputs, outcome),
    )
    session.add(decision)
    session.flush()
    answer: dict[str, Any] = {
        "fixmedins_code": code, "fixmedins_name": inst.fixmedins_name,
        "decision_id": decision.id, "result": decision.result,
        "credit_limit": str(decision.credit_limit), "reasons": decision.reasons,
        "decided_at": now.isoformat(),
    }
    if outcome.admitted:
        case = assign_case(session, decision=decision, inst=inst, now=now)
        branch = session.get(SubBranchRow, case.sub_branch_code)
        assert branch is not None
        answer["sub_branch"] = {"code": branch.code, "name": branch.name_zh,
                                "phone": branch.phone, "address": branch.address}
    enqueue(session, destination=BUREAU, kind=KIND_ADMISSION_RESULT,
            idempotency_key=f"decision-{decision.id}", payload=answer, now=now)
    return decision
