"""Campaigns: a period and targets per sub-branch; the funnel over the list's prospects, the
leaderboard, and crediting an authorization that arrives from the bureau to the outreach that
preceded it.

The funnel's evidence, per prospect and within the period (Asia/Shanghai days, both ends in):

* contacted — an outreach outcome in which someone was reached;
* interested — an outcome of interested, visit scheduled, visited or authorized;
* authorized — an authorization the gateway received (``authorizations.granted_at``), or one
  recorded by ``attribute_authorization``; what staff say alone does not count;
* admitted — a case created (cases exist only for admitted institutions), its limit;
* reported — the case reported to head office; drawn — the loan drawn, its amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import Actor, Role
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    AuthorizationRow,
    CampaignAttributionRow,
    CampaignRow,
    CampaignTargetRow,
    CaseEventRow,
    CaseRow,
    InstitutionRow,
    OutreachEventRow,
    ProspectRow,
    SubBranchRow,
)
from yibaodai.domain.case import Command
from yibaodai.domain.marketing.funnel import (
    STAGE_NAMES,
    FunnelStep,
    Progress,
    Target,
    creditable_outreach,
    funnel,
    funnel_by_sub_branch,
    furthest_stage,
    leaderboard,
)
from yibaodai.domain.marketing.outreach import REACHED, TERMINAL, Outcome, OutreachState
from yibaodai.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from yibaodai.marketing.outreach import GATEWAY, STAFF, current_states

MAX_DAYS: Final = 366
#: Department managers and above run campaigns (the permission table's ``marketing.manage``);
#: a sub-branch's manager sets targets for their own sub-branch only.
CAN_RUN_CAMPAIGNS: Final = frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER})
_INTERESTED: Final = frozenset({Outcome.INTERESTED.value, Outcome.VISIT_SCHEDULED.value,
                                Outcome.VISITED.value, Outcome.AUTHORIZED.value})


def _bad(field: str, zh: str, en: str) -> FieldError:
    return FieldError(field, zh, en)


def _targets(session: Session, targets: Mapping[str, Target], actor: Actor
             ) -> list[FieldError]:
    known = set(session.scalars(select(SubBranchRow.code)))
    errors = []
    for code, target in targets.items():
        where = f"targets.{code}"
        if code not in known:
            errors.append(_bad(where, f"支行“{code}”不存在", f"no sub-branch {code!r}"))
        elif not actor.can_see_sub_branch(code):
            errors.append(_bad(where, "只能为本支行设定目标",
                               "you may set targets for your own sub-branch only"))
        if target.count < 0:
            errors.append(_bad(f"{where}.count", "目标户数不能为负", "target count is negative"))
        if target.amount < 0 or target.amount != target.amount.quantize(Decimal("0.01")):
            errors.append(_bad(f"{where}.amount", "目标金额应为非负数，最多两位小数",
                               "target amount must be >= 0 with at most 2 decimals"))
    return errors


def create_campaign(session: Session, *, name: str, starts_on: date, ends_on: date,
                    targets: Mapping[str, Target], actor: Actor, now: datetime
                    ) -> CampaignRow:
    """A campaign with its period and per-sub-branch targets (amounts in yuan); department
    managers and above run campaigns (``CAN_RUN_CAMPAIGNS``)."""
    if actor.role not in CAN_RUN_CAMPAIGNS:
        raise PermissionDenied("仅部门经理及以上可创建营销活动",
                               "only department managers and above run campaigns",
                               code="role_not_allowed")
    created_by = actor.username
    clean = name.strip()
    errors = [] if 0 < len(clean) <= 100 else [_bad("name", "名称须为1至100字",
                                                     "the name must have 1-100 characters")]
    if ends_on < starts_on:
        errors.append(_bad("ends_on", "结束日期早于开始日期", "the end is before the start"))
    elif (ends_on - starts_on).days >= MAX_DAYS:
        errors.append(_bad("ends_on", "活动期不能超过一年", "a campaign lasts at most a year"))
    errors += _targets(session, targets, actor)
    if errors:
        raise ValidationFailed("营销活动信息有误", "the campaign is not valid",
                               code="invalid_campaign", fields=errors)
    if session.scalars(select(CampaignRow.id).where(CampaignRow.name == clean)).first():
        raise Conflict("已有同名营销活动", "a campaign with this name exists",
                       code="campaign_exists")
    campaign = CampaignRow(name=clean, starts_on=starts_on, ends_on=ends_on, created_at=now,
                           created_by=created_by)
    session.add(campaign)
    session.flush()
    session.add_all(CampaignTargetRow(campaign_id=campaign.id, sub_branch_code=code,
                                      target_count=t.count, target_amount=t.amount)
                    for code, t in sorted(targets.items()))
    audit(session, at=now, actor=created_by, action="marketing.campaign.create",
          target=f"campaign:{campaign.id}",
          details={"name": clean, "starts_on": starts_on.isoformat(),
                   "ends_on": ends_on.isoformat(),
                   "targets": {c: {"count": t.count, "amount": str(t.amount)}
                               for c, t in sorted(targets.items())}})
    return campaign


def parse_target(text: str) -> tuple[str, Target]:
    """``DL001=5:2000000`` (sub-branch = borrowers : yuan), as the command line takes it."""
    try:
        code, rest = text.split("=", 1)
        count, amount = rest.split(":", 1)
        return code.strip(), Target(int(count), Decimal(amount.strip()))
    except (ValueError, InvalidOperation) as exc:
        raise ValidationFailed("目标格式应为 支行=户数:金额（元）",
                               "a target reads CODE=COUNT:YUAN", code="invalid_target",
                               fields=[_bad("targets", text, text)]) from exc


def _window(campaign: CampaignRow) -> tuple[datetime, datetime]:
    start = datetime.combine(campaign.starts_on, time(0), SHANGHAI)
    return start, datetime.combine(campaign.ends_on + timedelta(days=1), time(0), SHANGHAI)


def _campaign(session: Session, campaign_id: int) -> CampaignRow:
    campaign = session.get(CampaignRow, campaign_id)
    if campaign is None:
        raise NotFound("营销活动不存在", "campaign not found", code="campaign_not_found")
    return campaign


def _target_map(session: Session, campaign_id: int) -> dict[str, Target]:
    return {t.sub_branch_code: Target(t.target_count, t.target_amount)
            for t in session.scalars(select(CampaignTargetRow).where(
                CampaignTargetRow.campaign_id == campaign_id))}


def list_campaigns(session: Session) -> list[dict[str, Any]]:
    out = []
    for c in session.scalars(select(CampaignRow).order_by(CampaignRow.starts_on, CampaignRow.id)):
        targets = _target_map(session, c.id)
        out.append({"id": c.id, "name": c.name, "starts_on": c.starts_on.isoformat(),
                    "ends_on": c.ends_on.isoformat(), "created_by": c.created_by,
                    "target_count": sum(t.count for t in targets.values()),
                    "target_amount": str(sum((t.amount for t in targets.values()),
                                             Decimal("0.00")))})
    return out


# ---------------------------------------------------------------------------------------------
# Funnel and leaderboard
# ---------------------------------------------------------------------------------------------


def campaign_progress(session: Session, campaign: CampaignRow) -> list[Progress]:
    """How far each prospect got during the campaign (see the module docstring)."""
    start, end = _window(campaign)
    prospects = session.execute(select(ProspectRow.id, ProspectRow.sub_branch_code,
                                       ProspectRow.institution_code, ProspectRow.fixmedins_code,
                                       ProspectRow.uscc)).all()
    by_code = {code: pid for pid, _, inst, own, _ in prospects for code in (own, inst) if code}
    by_uscc = {uscc: pid for pid, *_, uscc in prospects if uscc}
    contacted: set[int] = set()
    interested: set[int] = set()
    authorized: set[int] = set()
    for pid, outcome, source in session.execute(select(
            OutreachEventRow.prospect_id, OutreachEventRow.outcome, OutreachEventRow.source
    ).where(OutreachEventRow.at >= start, OutreachEventRow.at < end)):
        if source == GATEWAY:
            authorized.add(pid)
            continue
        if Outcome(outcome) in REACHED:
            contacted.add(pid)
        if outcome in _INTERESTED:
            interested.add(pid)
    for code, uscc in session.execute(select(AuthorizationRow.fixmedins_code,
                                             AuthorizationRow.uscc).where(
            AuthorizationRow.granted_at >= start, AuthorizationRow.granted_at < end)):
        pid = by_code.get(code) or by_uscc.get(uscc)
        if pid is not None:
            authorized.add(pid)
    admitted: dict[int, Decimal] = {}
    reported: set[int] = set()
    drawn: dict[int, Decimal] = {}
    for case in session.scalars(select(CaseRow).where(CaseRow.fixmedins_code.in_(list(by_code)))
                                .order_by(CaseRow.id)):
        pid = by_code[case.fixmedins_code]
        if start <= case.assigned_at < end:
            admitted[pid] = case.credit_limit
        if case.reported_at is not None and start <= case.reported_at < end:
            reported.add(pid)
    drawn_in_period = select(CaseRow).join(CaseEventRow, CaseEventRow.case_id == CaseRow.id).where(
        CaseEventRow.event == Command.MARK_DRAWN.value, CaseEventRow.at >= start,
        CaseEventRow.at < end)
    for case in session.scalars(drawn_in_period):
        pid = by_code.get(case.fixmedins_code)
        if pid is not None:
            drawn[pid] = drawn.get(pid, Decimal("0.00")) + (case.loan_drawn or Decimal("0.00"))
            admitted.setdefault(pid, case.credit_limit)
    out = []
    for pid, sub, *_ in prospects:
        stage = furthest_stage(contacted=pid in contacted, interested=pid in interested,
                               authorized=pid in authorized, admitted=pid in admitted,
                               reported=pid in reported, drawn=pid in drawn)
        out.append(Progress(sub, stage, admitted.get(pid, Decimal("0.00")),
                            drawn.get(pid, Decimal("0.00"))))
    return out


def _steps(steps: list[FunnelStep]) -> list[dict[str, Any]]:
    return [{"stage": s.stage.value, "stage_zh": STAGE_NAMES[s.stage][0],
             "stage_en": STAGE_NAMES[s.stage][1], "count": s.count,
             "amount": str(s.amount) if s.amount is not None else None,
             "amount_wan": str(wan(s.amount)) if s.amount is not None else None}
            for s in steps]


def wan(yuan: Decimal) -> Decimal:
    """Yuan in 万元 (ten thousands), two decimals, as the branch reports amounts."""
    return (yuan / Decimal(10_000)).quantize(Decimal("0.01"))


def campaign_funnel(session: Session, *, campaign_id: int,
                    sub_branches: frozenset[str] | None = None) -> dict[str, Any]:
    """The funnel in total and per sub-branch, and the leaderboard. ``sub_branches`` limits
    what is shown to a data scope (None: every sub-branch); the leaderboard ranks them all."""
    campaign = _campaign(session, campaign_id)
    progress = campaign_progress(session, campaign)
    by_sub = funnel_by_sub_branch(progress)
    visible = [p for p in progress if sub_branches is None or p.sub_branch in sub_branches]
    names = dict(session.execute(select(SubBranchRow.code, SubBranchRow.name_zh)).tuples().all())
    board = leaderboard(by_sub, targets=_target_map(session, campaign_id),
                        sub_branches=sorted(names))
    return {
        "campaign": {"id": campaign.id, "name": campaign.name,
                     "starts_on": campaign.starts_on.isoformat(),
                     "ends_on": campaign.ends_on.isoformat()},
        "unit": "yuan",
        "total": _steps(funnel(visible)),
        "by_sub_branch": {code: _steps(steps) for code, steps in by_sub.items()
                          if sub_branches is None or code in sub_branches},
        "leaderboard": [{"rank": s.rank, "sub_branch": s.sub_branch,
                         "sub_branch_name_zh": names.get(s.sub_branch),
                         "drawn_count": s.drawn_count, "drawn_amount": str(s.drawn_amount),
                         "drawn_amount_wan": str(wan(s.drawn_amount)),
                         "authorized_count": s.authorized_count,
                         "target_count": s.target_count,
                         "target_amount": str(s.target_amount) if s.target_amount is not None
                         else None, "count_attainment": s.count_attainment,
                         "amount_attainment": s.amount_attainment} for s in board],
    }


# ---------------------------------------------------------------------------------------------
# Attribution
# ---------------------------------------------------------------------------------------------


def _prospect_for(session: Session, *, fixmedins_code: str, uscc: str | None
                  ) -> ProspectRow | None:
    found = session.scalars(select(ProspectRow).where(
        (ProspectRow.fixmedins_code == fixmedins_code)
        | (ProspectRow.institution_code == fixmedins_code)).order_by(ProspectRow.id)).first()
    if found is None and uscc:
        same = session.scalars(select(ProspectRow).where(ProspectRow.uscc == uscc)).all()
        found = same[0] if len(same) == 1 else None
    return found


def attribute_authorization(session: Session, *, fixmedins_code: str, uscc: str | None,
                            authorized_at: datetime) -> list[CampaignAttributionRow]:
    """An authorization arrived from the bureau: mark the prospect authorized in its outreach
    log and, for each campaign whose period holds that day, credit it to the latest staff
    outreach before it within the period (once per campaign and prospect). Returns the
    credits made now; nothing when the institution is not on the list. Runs in the caller's
    unit of work (the gateway's event handler)."""
    prospect = _prospect_for(session, fixmedins_code=fixmedins_code, uscc=uscc)
    if prospect is None:
        return []
    known = session.get(InstitutionRow, fixmedins_code) is not None
    if prospect.institution_code is None and known:
        prospect.institution_code, prospect.link_reason, prospect.link_score = (
            fixmedins_code, "authorization", 100)
    before = current_states(session, prospect_ids=[prospect.id])[prospect.id]
    if before not in TERMINAL:
        session.add(OutreachEventRow(
            prospect_id=prospect.id, at=authorized_at, actor_id=None, source=GATEWAY,
            outcome=Outcome.AUTHORIZED.value, from_state=before.value,
            to_state=OutreachState.AUTHORIZED.value, next_action_on=None,
            note=f"医保系统授权已到达 / authorization received ({fixmedins_code})"))
    day = authorized_at.astimezone(SHANGHAI).date()
    credited = []
    for campaign in session.scalars(select(CampaignRow).where(
            CampaignRow.starts_on <= day, CampaignRow.ends_on >= day).order_by(CampaignRow.id)):
        if session.scalars(select(CampaignAttributionRow.id).where(
                    CampaignAttributionRow.campaign_id == campaign.id,
                    CampaignAttributionRow.prospect_id == prospect.id)).first():
            continue
        events = session.execute(select(OutreachEventRow.id, OutreachEventRow.at,
                                        OutreachEventRow.actor_id).where(
            OutreachEventRow.prospect_id == prospect.id,
            OutreachEventRow.source == STAFF)).all()
        chosen = creditable_outreach(((e.id, e.at) for e in events),
                                     authorized_at=authorized_at, since=_window(campaign)[0])
        if chosen is None:
            continue
        actor = next(e.actor_id for e in events if e.id == chosen)
        credit = CampaignAttributionRow(
            campaign_id=campaign.id, prospect_id=prospect.id, outreach_event_id=chosen,
            fixmedins_code=fixmedins_code, authorized_at=authorized_at,
            sub_branch_code=prospect.sub_branch_code,
            client_manager_id=actor)
        session.add(credit)
        credited.append(credit)
    session.flush()
    if before in TERMINAL and not credited:
        return []  # handled before: nothing to record again (the handler is idempotent)
    audit(session, at=authorized_at, actor="system", action="marketing.authorization",
          target=f"prospect:{prospect.id}",
          details={"fixmedins_code": fixmedins_code, "state_before": before.value,
                   "credited": [{"campaign_id": c.campaign_id,
                                 "outreach_event_id": c.outreach_event_id} for c in credited]})
    return credited
