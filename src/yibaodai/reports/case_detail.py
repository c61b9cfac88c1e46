"""The case detail, scoped and masked for the viewer: the LATEST decision of the institution
with the whole history, reasons and inputs formatted for people (settlement figures only for
department managers and above), a timeline of every case event, decision, warning and
penalty, the verification checklist with the bureau's data beside each item, and head
office's loan status. Which buttons show comes from the same refusal rules the actions enforce
(``cases.service``)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record_direct
from yibaodai.auth.roles import Actor
from yibaodai.cases.attachments import attach_refusal
from yibaodai.cases.overrides import override_refusal
from yibaodai.cases.reassignment import reassign_allowed
from yibaodai.cases.service import (
    CHECKLIST,
    claim_refusal,
    confirm_refusal,
    verify_refusal,
    visible_case,
)
from yibaodai.cases.verification import CaseRead, outstanding_in
from yibaodai.db.models import (
    CaseEventRow,
    CaseRow,
    DecisionRow,
    InstitutionRow,
    SlaPenaltyRow,
    UserRow,
    WarningRow,
)
from yibaodai.db.session import core_rows
from yibaodai.domain.verification import FIELDS
from yibaodai.errors import NotFound
from yibaodai.reports.cases import CaseFilters, CaseListItem, case_item, filtered_cases, money
from yibaodai.reports.formatting import format_inputs, format_reasons
from yibaodai.reports.labels import (
    BIZ_STAS,
    CASE_EVENTS,
    CASE_STATES,
    DECISION_RESULTS,
    DECISION_TRIGGERS,
    DISTRICTS,
    INSTITUTION_TYPES,
    LOAN_STATUSES,
    WARNING_RULES,
    name,
)
from yibaodai.reports.masking import MaskingRules
from yibaodai.reports.schema import Labelled, Out
from yibaodai.reports.scope import Scope


class ReasonOut(Out):
    code: str
    rank: int
    text_zh: str
    text_en: str
    values: list[Labelled]


class Decision(Out):
    id: int
    decided_at: datetime
    trigger: str
    trigger_zh: str
    trigger_en: str
    result: str
    result_zh: str
    result_en: str
    credit_limit: str
    score: int | None
    model_version: str
    reasons: list[ReasonOut]
    inputs: list[Labelled] | None


class InstitutionOut(Out):
    fixmedins_code: str
    fixmedins_name: str
    uscc: str
    district: str | None
    district_zh: str
    district_en: str
    addr: str
    institution_type: str
    institution_type_zh: str
    institution_type_en: str
    hosp_lv: str
    biz_stas: str
    biz_stas_zh: str
    biz_stas_en: str
    cred_lv_name: str
    begntime: date | None
    endtime: date | None
    legrep_name: str
    bankacct: str


class TimelineEntry(Out):
    at: datetime
    kind: str
    event: str
    label_zh: str
    label_en: str
    actor: str | None
    detail_zh: str
    detail_en: str


class BureauFact(Out):
    label_zh: str
    label_en: str
    value: str


class OnSiteFinding(Out):
    """A value the client manager found on site, and whether it matches the bureau's."""

    field: str
    label_zh: str
    label_en: str
    found: str
    match: bool


class FindingField(Out):
    """A value the verifier may record on site for this item (``domain.verification.FIELDS``)."""

    field: str
    label_zh: str
    label_en: str


class ChecklistItem(Out):
    key: str
    label_zh: str
    label_en: str
    bureau: list[BureauFact]
    checked: bool | None
    found: list[OnSiteFinding]
    fields: list[FindingField]


class Approval(Out):
    verified_by: str | None
    verified_at: datetime | None
    confirmed_by: str | None
    confirmed_at: datetime | None


class HeadOfficeReason(Out):
    code: str
    text_zh: str
    text_en: str


class HeadOffice(Out):
    reported_at: datetime | None
    #: When head office returned the whitelist entry, and its reasons (``ho_rejected``).
    returned_at: datetime | None
    returned_reasons: list[HeadOfficeReason]
    limit_signed: str | None
    loan_status: str | None
    loan_status_zh: str
    loan_status_en: str
    drawn: str | None
    balance: str | None
    overdue_days: int | None


class CaseActions(Out):
    claim: bool
    verify: bool
    confirm: bool
    #: the department manager may let the outstanding mismatches through (with a reason)
    override: bool
    #: may move the case: anywhere (branch) or to a colleague (sub-branch manager)
    reassign: bool
    #: may attach on-site evidence (the holder, while verifying or awaiting sign-off)
    attach: bool


class CaseDetail(Out):
    case: CaseListItem
    version: int
    institution: InstitutionOut
    decision: Decision
    decisions: list[Decision]
    timeline: list[TimelineEntry]
    checklist: list[ChecklistItem]
    verification_note: str | None
    #: Mismatched findings still blocking the confirmation (none once overridden).
    mismatches: list[str]
    approval: Approval
    head_office: HeadOffice
    actions: CaseActions


def trigger_name(trigger: str) -> tuple[str, str]:
    """Stored triggers read ``infno-8301/first``: the message that caused it, then why."""
    return name(DECISION_TRIGGERS, trigger.rsplit("/", 1)[-1])


#: The institution's decisions (``code`` bound at execution), newest first: the columns the
#: page prints, as rows, in a statement built once (py-spy: loading the full entities from a
#: statement built on every request was a sixth of the page's own Python).
_DECISIONS = (select(DecisionRow.id, DecisionRow.decided_at, DecisionRow.trigger,
                     DecisionRow.result, DecisionRow.credit_limit.label("credit_limit"),
                     DecisionRow.score,
                     DecisionRow.rule_version, DecisionRow.reasons, DecisionRow.inputs)
              .where(DecisionRow.fixmedins_code == bindparam("code"))
              .order_by(DecisionRow.id.desc()))


def decision_out(d: Row[Any], *, sees_settlement: bool) -> Decision:
    result_zh, result_en = name(DECISION_RESULTS, d.result)
    trigger_zh, trigger_en = trigger_name(d.trigger)
    return Decision(
        id=d.id, decided_at=d.decided_at, trigger=d.trigger, trigger_zh=trigger_zh,
        trigger_en=trigger_en, result=d.result, result_zh=result_zh, result_en=result_en,
        credit_limit=f"{d.credit_limit:.2f}", score=d.score, model_version=d.rule_version,
        reasons=[ReasonOut.model_validate(r) for r in format_reasons(
            d.reasons, sees_settlement=sees_settlement)],
        inputs=([Labelled.model_validate(x) for x in format_inputs(d.inputs)]
                if sees_settlement else None))


def institution_out(inst: InstitutionRow, *, actor: Actor, rules: MaskingRules,
                    segment: str) -> InstitutionOut:
    district_zh, district_en = name(DISTRICTS, inst.area_code)
    type_zh, type_en = name(INSTITUTION_TYPES, segment)
    biz_zh, biz_en = name(BIZ_STAS, inst.biz_stas)
    return InstitutionOut(
        fixmedins_code=inst.fixmedins_code, fixmedins_name=inst.fixmedins_name,
        uscc=inst.uscc, district=inst.area_code, district_zh=district_zh,
        district_en=district_en, addr=inst.addr or "", institution_type=segment,
        institution_type_zh=type_zh, institution_type_en=type_en, hosp_lv=inst.hosp_lv or "",
        biz_stas=inst.biz_stas or "", biz_stas_zh=biz_zh, biz_stas_en=biz_en,
        cred_lv_name=inst.cred_lv_name or "", begntime=inst.begntime, endtime=inst.endtime,
        legrep_name=rules.mask("legrep_name", inst.legrep_name, role=actor.role),
        bankacct=rules.mask("bankacct", inst.bankacct, role=actor.role))


def unmasked_fields(inst: InstitutionRow, *, actor: Actor, rules: MaskingRules) -> list[str]:
    """The personal fields this viewer gets whole (each such view is audited)."""
    return [f for f in ("legrep_name", "bankacct")
            if getattr(inst, f) and rules.sees_whole(actor.role, f)]


def audit_personal_view(session: Session, *, actor: Actor, target: str, fields: list[str],
                        now: datetime) -> None:
    """The audit row of a view of personal data (``fields``: those seen whole), if any, and
    the end of the unit of work: called once the page's reads are done, it commits, so the
    view is on record before the page is answered. The row is not read back, so it is
    inserted directly, and with its COMMIT (``audit.log.record_direct``)."""
    if fields:
        record_direct(session, at=now, actor=actor.username, action="personal_data.view",
                      target=target, details={"fields": fields}, commit=True)
    else:
        session.commit()


def _found(details: dict[str, Any], masked: frozenset[str]) -> dict[str, list[OnSiteFinding]]:
    """The verification's findings per checklist item; personal values this viewer sees
    masked on the bureau's side are masked here too."""
    out: dict[str, list[OnSiteFinding]] = {}
    for f in details.get("findings", []):
        item, zh, en = FIELDS.get(f["field"], ("", f["field"], f["field"]))
        value = "***" if f["field"] in masked else str(f["found"])
        out.setdefault(item, []).append(OnSiteFinding(field=f["field"], label_zh=zh,
                                                      label_en=en, found=value,
                                                      match=bool(f["match"])))
    return out


def _checklist(inst: InstitutionOut, ticked: dict[str, bool] | None,
               found: dict[str, list[OnSiteFinding]] | None = None) -> list[ChecklistItem]:
    def fact(zh: str, en: str, value: object) -> BureauFact:
        return BureauFact(label_zh=zh, label_en=en, value=str(value) if value else "—")

    period = f"{inst.begntime or '—'} ~ {inst.endtime or '—'}"
    bureau = {
        "identity": [fact("机构名称", "Name", inst.fixmedins_name),
                     fact("定点机构编号", "Institution code", inst.fixmedins_code),
                     fact("统一社会信用代码", "USCC", inst.uscc)],
        "licence": [fact("机构类型", "Type", inst.institution_type_zh),
                    fact("医院等级", "Hospital level", inst.hosp_lv),
                    fact("定点协议期限", "Designation period", period)],
        "address": [fact("登记地址", "Registered address", inst.addr),
                    fact("所属区县", "District", inst.district_zh)],
        "settlement_account": [fact("医保结算账户", "Settlement account", inst.bankacct)],
        "operating_status": [fact("经营状态", "Operating status", inst.biz_stas_zh),
                             fact("医保信用等级", "Credit grade", inst.cred_lv_name)],
    }
    return [ChecklistItem(key=k, label_zh=zh, label_en=en, bureau=bureau[k],
                          checked=None if ticked is None else bool(ticked.get(k)),
                          found=(found or {}).get(k, []),
                          fields=[FindingField(field=f, label_zh=fzh, label_en=fen)
                                  for f, (item, fzh, fen) in FIELDS.items() if item == k])
            for k, (zh, en) in CHECKLIST.items()]


#: A case's events (``case_id`` bound at execution) in order, only the columns the page and
#: its buttons read (never the chain's), with the name of who acted: built once.
_EVENTS = (select(CaseEventRow.id, CaseEventRow.at, CaseEventRow.event, CaseEventRow.to_state,
                  CaseEventRow.actor_id, CaseEventRow.details, UserRow.display_name)
           .outerjoin(UserRow, UserRow.id == CaseEventRow.actor_id)
           .where(CaseEventRow.case_id == bindparam("case_id"))
           .order_by(CaseEventRow.at, CaseEventRow.id))


def _events(session: Session, case_id: int) -> tuple[list[Row[Any]], dict[int, str]]:
    """The case's events in order, and the names of who acted in them: joined in the same
    round trip, so the page never reads every user to name the few on its timeline."""
    rows = core_rows(session, _EVENTS, {"case_id": case_id})
    names = {e.actor_id: e.display_name for e in rows
             if e.actor_id is not None and e.display_name is not None}
    return rows, names


def _warnings(session: Session, case_id: int) -> tuple[list[Row[Any]], dict[int, str]]:
    """The case's warnings (only what the timeline prints) with the name of who handled
    each, in one round trip."""
    w = WarningRow
    rows = session.execute(
        select(w.rule_code, w.reasons, w.raised_at, w.handled_at, w.handled_by, w.outcome,
               UserRow.display_name)
        .outerjoin(UserRow, UserRow.id == w.handled_by)
        .where(w.case_id == case_id).order_by(w.id)).all()
    return list(rows), {r.handled_by: r.display_name for r in rows
                        if r.handled_by is not None and r.display_name is not None}


def _penalties(session: Session, case_id: int) -> list[Row[Any]]:
    p = SlaPenaltyRow
    return list(session.execute(select(p.kind, p.detected_at, p.until)
                                .where(p.case_id == case_id).order_by(p.id)).all())


@lru_cache(maxsize=64)
def _scoped_case_statement(scope: Scope) -> Select[Any]:
    """The case list's statement for one case (``case_id`` bound at execution), and whether
    the case has warnings and penalties. Built once per scope: building it, and its cache
    key, cost more Python per request than its round trip (py-spy), and only the id varies.
    Without filters the statement never reads the clock (only the overdue filter does), so
    the time it is built with does not matter."""
    return (filtered_cases(scope, CaseFilters(), datetime.min)
            .where(CaseRow.id == bindparam("case_id"))
            .add_columns(exists().where(WarningRow.case_id == CaseRow.id),
                         exists().where(SlaPenaltyRow.case_id == CaseRow.id)))


def _scoped_case(session: Session, actor: Actor, case_id: int) -> Row[Any]:
    """The case list's row of the case in the viewer's scope (the visibility check too),
    and whether the case has warnings and penalties: asked in the same round trip, so the
    page skips the reads that would come back empty (most cases have neither)."""
    row = session.execute(_scoped_case_statement(Scope.of(actor)),
                          {"case_id": case_id}).first()
    if row is None:
        visible_case(session, actor, case_id)  # unknown or out of scope: its NotFound
        raise NotFound("案件不存在", "case not found", code="case_not_found")
    return row


def case_detail(session: Session, *, actor: Actor, case_id: int, rules: MaskingRules,
                now: datetime) -> CaseDetail:
    """Everything the case page shows; unknown and out-of-scope ids raise NotFound. Ends the
    unit of work: the view's audit row is committed before the page is answered."""
    row = _scoped_case(session, actor, case_id)
    case_row: CaseRow = row[0]
    item = case_item(row[:-2], now)
    inst: InstitutionRow = row[1]
    sees = actor.sees_settlement_data
    decisions = core_rows(session, _DECISIONS, {"code": inst.fixmedins_code})
    events, names = _events(session, case_row.id)
    warnings, handlers = _warnings(session, case_row.id) if row[-2] else ([], {})
    penalties = _penalties(session, case_row.id) if row[-1] else []
    names |= handlers
    verification = next((e for e in reversed(events)
                         if e.event in ("verify_pass", "verify_fail")), None)
    confirmation = next((e for e in events if e.event == "confirm"), None)
    institution = institution_out(inst, actor=actor, rules=rules, segment=item.institution_type)
    whole = unmasked_fields(inst, actor=actor, rules=rules)
    masked = frozenset(f for f, col in (("legal_representative", "legrep_name"),
                                        ("settlement_account", "bankacct")) if col not in whole)
    loan_zh, loan_en = name(LOAN_STATUSES, case_row.loan_status)
    reported = case_row.reported_at is not None
    returned = next((e for e in events if e.event == "mark_ho_rejected"), None)
    out_decisions = [decision_out(d, sees_settlement=sees) for d in decisions]
    read = CaseRead(events=events, latest=decisions[0])
    detail = CaseDetail(
        case=item, version=case_row.version, institution=institution,
        decision=out_decisions[0], decisions=out_decisions,
        timeline=_timeline(events, decisions, warnings, penalties, names),
        checklist=_checklist(institution, verification.details.get("checklist")
                             if verification else None,
                             _found(verification.details, masked) if verification else None),
        mismatches=outstanding_in(events),
        verification_note=str(verification.details.get("note") or "") if verification
        else None,
        approval=Approval(
            verified_by=names.get(verification.actor_id or -1) if verification else None,
            verified_at=verification.at if verification else None,
            confirmed_by=names.get(confirmation.actor_id or -1) if confirmation else None,
            confirmed_at=confirmation.at if confirmation else None),
        head_office=HeadOffice(
            reported_at=case_row.reported_at,
            returned_at=returned.at if returned else None,
            returned_reasons=[HeadOfficeReason.model_validate(r) for r in
                              (returned.details.get("reasons") or [])] if returned else [],
            limit_signed=money(case_row.credit_limit) if reported else None,
            loan_status=case_row.loan_status, loan_status_zh=loan_zh, loan_status_en=loan_en,
            drawn=money(case_row.loan_drawn), balance=money(case_row.loan_balance),
            overdue_days=case_row.overdue_days),
        actions=CaseActions(
            claim=claim_refusal(actor, case_row) is None,
            verify=verify_refusal(actor, case_row) is None,
            confirm=confirm_refusal(session, actor, case_row, read) is None,
            override=override_refusal(session, actor, case_row, read) is None,
            reassign=reassign_allowed(actor, case_row),
            attach=attach_refusal(actor, case_row) is None))
    # last, once every read is done: the audit append locks the audit chain until it
    # commits, and every other viewer of personal data waits on that lock
    audit_personal_view(session, actor=actor, target=f"case:{case_row.id}", fields=whole,
                        now=now)
    return detail


#: How the assignment read the district (``domain.address.DistrictReading.source``).
DISTRICT_SOURCES = {
    "area_code": ("按医保区划代码", "by the bureau's area code"),
    "address": ("按登记地址解析", "parsed from the registered address"),
    "address_over_code": ("登记地址与区划代码不符，按地址", "the address overrides the area code"),
    "institution_code": ("按机构编号区划", "by the institution code's district"),
}


def _event_note(details: dict[str, Any]) -> tuple[str, str]:
    """The part of an event's details a person reads on the timeline: the note, the reason,
    head office's reasons, an attachment's name, how the district was read."""
    if details.get("reasons"):
        reasons = details["reasons"]
        return ("；".join(str(r.get("text_zh", "")) for r in reasons),
                "; ".join(str(r.get("text_en", "")) for r in reasons))
    for key in ("note", "reason", "filename"):
        if details.get(key):
            return str(details[key]), str(details[key])
    source = DISTRICT_SOURCES.get(str(details.get("district_source")))
    if source is not None:
        return (f"{details.get('sub_branch')}（{source[0]}）",
                f"{details.get('sub_branch')} ({source[1]})")
    return "", ""


def _timeline(events: Any, decisions: Any, warnings: list[Row[Any]],
              penalties: list[Row[Any]], names: dict[int, str]) -> list[TimelineEntry]:
    out: list[TimelineEntry] = []
    for e in events:
        zh, en = name(CASE_EVENTS, e.event)
        to_zh, to_en = name(CASE_STATES, e.to_state)
        note_zh, note_en = _event_note(e.details or {})
        out.append(TimelineEntry(
            at=e.at, kind="case", event=e.event, label_zh=zh, label_en=en,
            actor=names.get(e.actor_id) if e.actor_id else None,
            detail_zh=f"→ {to_zh}" + (f"；{note_zh}" if note_zh else ""),
            detail_en=f"→ {to_en}" + (f"; {note_en}" if note_en else "")))
    for d in decisions:
        result_zh, result_en = name(DECISION_RESULTS, d.result)
        trigger_zh, trigger_en = trigger_name(d.trigger)
        out.append(TimelineEntry(
            at=d.decided_at, kind="decision", event=d.trigger, label_zh=trigger_zh,
            label_en=trigger_en, actor=None,
            detail_zh=f"{result_zh}，额度 {d.credit_limit:,.2f} 元（{d.rule_version}）",
            detail_en=f"{result_en}, limit {d.credit_limit:,.2f} yuan ({d.rule_version})"))
    for w in warnings:
        rule_zh, rule_en = name(WARNING_RULES, w.rule_code[:3])
        text = (w.reasons or [{}])[0]
        out.append(TimelineEntry(
            at=w.raised_at, kind="warning", event=w.rule_code, label_zh=f"预警：{rule_zh}",
            label_en=f"Warning: {rule_en}", actor=None,
            detail_zh=str(text.get("text_zh", "")), detail_en=str(text.get("text_en", ""))))
        if w.handled_at is not None:
            out.append(TimelineEntry(
                at=w.handled_at, kind="warning", event="handled", label_zh="预警已处理",
                label_en="Warning handled", actor=names.get(w.handled_by or -1),
                detail_zh=w.outcome or "", detail_en=w.outcome or ""))
    for p in penalties:
        what_zh = "认领" if p.kind == "claim" else "核实"
        out.append(TimelineEntry(
            at=p.detected_at, kind="penalty", event=f"sla_{p.kind}",
            label_zh=f"{what_zh}超时", label_en=f"{p.kind.capitalize()} deadline missed",
            actor=None, detail_zh=f"支行暂停分配新案件至 {p.until:%Y-%m-%d}",
            detail_en=f"sub-branch gets no new cases until {p.until:%Y-%m-%d}"))
    return sorted(out, key=lambda t: t.at)
