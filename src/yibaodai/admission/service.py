"""Decision service: facts -> features -> active model -> decision.

Runs inside the caller's unit of work; the case and the answer to the bureau are handlers of
the ``DecisionMade`` event in the same unit of work (``flow.handlers``), so the decision, its
shadow, the case and the outbox row commit together or not at all. Decisions are
append-only: a re-evaluation adds a new decision and a new answer; the history stays.

When to decide (``decision_trigger``; docs/admission.md "Re-evaluation"): a valid
authorization, a profile and current data are always required; then

* ``first``            no decision yet;
* ``profile-change``   segment, ownership, operating status or credit grade differ from the
                       inputs of the latest decision;
* ``penalty-event``    more penalty/suspension events in the window than the latest decision saw;
* ``fund-pay-change``  a complete month was added since the latest decision and the 6- or
                       12-month average monthly fund payment moved by more than 20%.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibaodai.admission.versions import LoadedVersion, load_version, version_in_stage
from yibaodai.admission.versions import active_version as _active_version
from yibaodai.db.models import (
    DecisionRow,
    InstitutionEventRow,
    InstitutionRow,
    ModelVersionRow,
    SettlementFactRow,
    ShadowDecisionRow,
)
from yibaodai.domain.admission import (
    AdmissionInputs,
    AdmissionOutcome,
    canonical_json,
    decide,
)
from yibaodai.domain.model_version import Stage
from yibaodai.features import engines
from yibaodai.gateway.ingest import active_authorization

#: Data counts as current when it reaches this close to the end of the last complete month.
CURRENT_DATA_SLACK_DAYS = 7
#: A new month moving the average monthly fund payment by more than this re-decides.
MATERIAL_FUND_PAY_CHANGE = Decimal("0.20")
PENALTY_EVENTS = ("penalty", "suspension")
PENALTY_WINDOW_DAYS = 730
PROFILE_FIELDS = ("segment", "ownership", "biz_stas", "cred_lv_name")
_MEMO = "yibaodai.admission.trigger"
log = structlog.get_logger(__name__)


def segment_of(inst: InstitutionRow) -> str:
    if inst.fixmedins_type == "2":
        return "pharmacy"
    if inst.fixmedins_type == "1":
        return "hospital" if (inst.hosp_lv or "") in {"一级", "二级", "三级"} else "clinic"
    return "other"


def data_is_current(session: Session, code: str, today: date) -> bool:
    latest = session.scalar(select(func.max(SettlementFactRow.setl_date)).where(
        SettlementFactRow.fixmedins_code == code))
    month_start = today.replace(day=1)
    return latest is not None and latest >= month_start - timedelta(days=CURRENT_DATA_SLACK_DAYS)


def institution_features(session: Session, code: str, today: date) -> dict[str, Any]:
    """The one place features are computed for a decision: the Ibis definitions
    (``features/definitions.py``, the same ones the DuckDB and PySpark batch runs use), as
    SQL compiled once per day and dialect, run for this institution inside the caller's
    unit of work (so facts pushed in the same transaction count). docs/features.md."""
    return engines.institution_features(session, fixmedins_code=code, as_of=today)


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (
        1 if later.day < earlier.day else 0)


def _penalty_facts(session: Session, code: str, today: date) -> tuple[int, int | None]:
    q = select(func.count(), func.max(InstitutionEventRow.evt_date)).where(
        InstitutionEventRow.fixmedins_code == code,
        InstitutionEventRow.evt_type.in_(PENALTY_EVENTS))
    count = session.execute(q.where(
        InstitutionEventRow.evt_date >= today - timedelta(days=PENALTY_WINDOW_DAYS))).one()[0]
    last = session.execute(q).one()[1]
    return int(count or 0), _months_between(last, today) if last else None


def _profile_inputs(session: Session, inst: InstitutionRow, today: date) -> dict[str, Any]:
    penalties, since_last = _penalty_facts(session, inst.fixmedins_code, today)
    return {
        "fixmedins_code": inst.fixmedins_code, "segment": segment_of(inst),
        "ownership": inst.ownership or "private", "biz_stas": inst.biz_stas or "",
        "cred_lv_name": inst.cred_lv_name or "", "penalties_24m": penalties,
        "months_since_last_penalty": since_last,
        "designation_days_left": (inst.endtime - today).days if inst.endtime else None,
        "months_designated": _months_between(inst.begntime, today) if inst.begntime else None,
    }


def gather_inputs(session: Session, inst: InstitutionRow, today: date) -> AdmissionInputs:
    profile = _profile_inputs(session, inst, today)
    features = institution_features(session, inst.fixmedins_code, today)
    return AdmissionInputs(features=features, **profile)


def inputs_json(inputs: AdmissionInputs) -> dict[str, Any]:
    return {
        "fixmedins_code": inputs.fixmedins_code, "segment": inputs.segment,
        "ownership": inputs.ownership, "biz_stas": inputs.biz_stas,
        "cred_lv_name": inputs.cred_lv_name, "penalties_24m": inputs.penalties_24m,
        "months_since_last_penalty": inputs.months_since_last_penalty,
        "designation_days_left": inputs.designation_days_left,
        "months_designated": inputs.months_designated,
        "features": inputs.features,
    }


def inputs_from_json(data: dict[str, Any]) -> AdmissionInputs:
    return AdmissionInputs(**data)


def content_hash(inputs: dict[str, Any], outcome: AdmissionOutcome) -> str:
    """SM3 over everything a decision claims: inputs, model (label and content hash), score,
    result, limit and reasons."""
    content = {"inputs": inputs, "model_version": outcome.model_version,
               "model_hash": outcome.model_hash, "score": outcome.score,
               "admitted": outcome.admitted, "credit_limit": str(outcome.credit_limit),
               "reasons": outcome.reasons_json()}
    return hashlib.new("sm3", canonical_json(content).encode()).hexdigest()


# --- when to decide -------------------------------------------------------------------------


def latest_decision(session: Session, code: str) -> DecisionRow | None:
    return session.scalars(select(DecisionRow).where(DecisionRow.fixmedins_code == code)
                           .order_by(DecisionRow.id.desc()).limit(1)).first()


def _relative_change(old: str | None, new: str | None) -> Decimal:
    a, b = Decimal(old or "0"), Decimal(new or "0")
    if a == 0:
        return Decimal(0) if b == 0 else Decimal(1)
    return abs(b - a) / a


def material_change(previous: dict[str, Any], current_profile: dict[str, Any],
                    current_features: dict[str, Any] | None) -> str | None:
    """The documented re-evaluation rule on stored vs current inputs (pure)."""
    for name in PROFILE_FIELDS:
        if previous.get(name) != current_profile[name]:
            return "profile-change"
    if current_profile["penalties_24m"] > int(previous.get("penalties_24m") or 0):
        return "penalty-event"
    if current_features is not None:
        old = previous["features"]
        for key in ("avg_monthly_fund_pay_6m", "avg_monthly_fund_pay_12m"):
            if _relative_change(old.get(key), current_features.get(key)) > \
                    MATERIAL_FUND_PAY_CHANGE:
                return "fund-pay-change"
    return None


def decision_trigger(session: Session, code: str, now: datetime) -> str | None:
    """Why to decide now (see the module docstring), or None. Memoised in the unit of work
    with the inputs it gathered, so ``make_decision`` does not gather them twice."""
    memo: dict[tuple[str, datetime], tuple[str | None, AdmissionInputs | None]] = \
        session.info.setdefault(_MEMO, {})
    if (code, now) in memo:
        return memo[(code, now)][0]
    today = now.date()
    inst = session.get(InstitutionRow, code)
    trigger: str | None = None
    inputs: AdmissionInputs | None = None
    if (inst is not None and active_authorization(session, code, today) is not None
            and data_is_current(session, code, today)):
        previous = latest_decision(session, code)
        profile = _profile_inputs(session, inst, today)
        if previous is None:
            trigger = "first"
        else:
            old_month = str(previous.inputs.get("features", {}).get("as_of", ""))[:7]
            new_month = old_month != f"{today:%Y-%m}"
            features = institution_features(session, code, today) if new_month else None
            trigger = material_change(previous.inputs, profile, features)
            if features is not None:
                inputs = AdmissionInputs(features=features, **profile)
    memo[(code, now)] = (trigger, inputs)
    return trigger


def should_decide(session: Session, code: str, now: datetime) -> bool:
    """A first decision, or a re-evaluation on material change (``decision_trigger``)."""
    return decision_trigger(session, code, now) is not None


# --- deciding ---------------------------------------------------------------------------------


def active_version(session: Session, now: datetime) -> LoadedVersion:
    return _active_version(session, now)


def make_decision(session: Session, *, code: str, trigger: str, now: datetime) -> DecisionRow:
    """Decide on ``code`` now and store the decision (with the challenger's shadow opinion).
    What follows from it, the case and the answer to the bureau, are handlers of
    ``DecisionMade`` (``admission.handlers.decision_made`` builds the event)."""
    inst = session.get(InstitutionRow, code)
    assert inst is not None
    why = decision_trigger(session, code, now)
    memo = session.info.get(_MEMO, {}).get((code, now))
    inputs = memo[1] if memo and memo[1] is not None else gather_inputs(session, inst,
                                                                          now.date())
    session.info.get(_MEMO, {}).pop((code, now), None)  # the next push re-checks
    active = active_version(session, now)
    outcome = decide(inputs, active.model)
    stored_inputs = inputs_json(inputs)
    decision = DecisionRow(
        fixmedins_code=code, decided_at=now, trigger=f"{trigger}/{why or 'forced'}"[:40],
        result="admitted" if outcome.admitted else "refused",
        credit_limit=outcome.credit_limit, reasons=outcome.reasons_json(),
        inputs=stored_inputs, rule_version=outcome.model_version,
        content_hash=content_hash(stored_inputs, outcome),
        model_version_id=active.id, score=outcome.score,
    )
    session.add(decision)
    session.flush()
    _shadow(session, decision, inputs, now)
    return decision


def _shadow(session: Session, decision: DecisionRow, inputs: AdmissionInputs,
            now: datetime) -> ShadowDecisionRow | None:
    """The challenger's opinion on the same inputs, stored apart. Never raises into the real
    decision's path for a bad challenger: a challenger that cannot load is skipped."""
    try:
        challenger = version_in_stage(session, Stage.CHALLENGER)
        if challenger is None:
            return None
        outcome = decide(inputs, challenger.model)
    except Exception:  # a broken challenger must not stop real decisions
        log.warning("challenger_skipped", decision_id=decision.id, exc_info=True)
        return None
    row = ShadowDecisionRow(
        decision_id=decision.id, model_version_id=challenger.id, decided_at=now,
        result="admitted" if outcome.admitted else "refused",
        credit_limit=outcome.credit_limit, score=outcome.score,
        reasons=outcome.reasons_json(),
        content_hash=content_hash(decision.inputs, outcome))
    session.add(row)
    return row


# --- replay and reports -----------------------------------------------------------------------


def _version_for(session: Session, decision: DecisionRow) -> LoadedVersion:
    if decision.model_version_id is not None:
        return load_version(session, decision.model_version_id)
    vid = session.scalar(select(ModelVersionRow.id).where(
        ModelVersionRow.label == decision.rule_version))
    if vid is None:
        raise LookupError(f"no stored model version {decision.rule_version}")
    return load_version(session, vid)


def replay(session: Session, decision: DecisionRow) -> tuple[bool, list[str]]:
    """Recompute a stored decision from its stored inputs with its stored model version;
    (identical?, the differences)."""
    try:
        version = _version_for(session, decision)
        outcome = decide(inputs_from_json(decision.inputs), version.model)
    except Exception as exc:  # a tampered or unreadable row is a difference, loudly
        return False, [f"cannot recompute: {type(exc).__name__}: {exc}"]
    diffs: list[str] = []
    recomputed = {"result": "admitted" if outcome.admitted else "refused",
                  "credit_limit": str(outcome.credit_limit), "score": outcome.score,
                  "rule_version": outcome.model_version,
                  "reasons": canonical_json(outcome.reasons_json())}
    stored = {"result": decision.result, "credit_limit": str(decision.credit_limit),
              "score": decision.score, "rule_version": decision.rule_version,
              "reasons": canonical_json(decision.reasons)}
    for key, value in recomputed.items():
        if stored[key] != value:
            diffs.append(f"{key}: stored {stored[key]!s:.200} != recomputed {value!s:.200}")
    rehash = content_hash(decision.inputs, outcome)
    if rehash != decision.content_hash:
        diffs.append(f"content hash: stored {decision.content_hash[:16]} != recomputed "
                     f"{rehash[:16]} (stored inputs or outcome were altered)")
    return not diffs, diffs


def shadow_report(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Active and challenger side by side, latest first."""
    rows = session.execute(
        select(DecisionRow, ShadowDecisionRow)
        .join(ShadowDecisionRow, ShadowDecisionRow.decision_id == DecisionRow.id)
        .order_by(ShadowDecisionRow.id.desc()).limit(limit)).all()
    labels: dict[int, str] = {vid: label for vid, label in session.execute(
        select(ModelVersionRow.id, ModelVersionRow.label))}
    return [{
        "decision_id": d.id, "fixmedins_code": d.fixmedins_code,
        "decided_at": d.decided_at.isoformat(),
        "active": {"model_version": d.rule_version, "result": d.result,
                   "credit_limit": str(d.credit_limit), "score": d.score},
        "challenger": {"model_version": labels.get(s.model_version_id), "result": s.result,
                       "credit_limit": str(s.credit_limit), "score": s.score},
        "agree": d.result == s.result and d.credit_limit == s.credit_limit,
    } for d, s in rows]

