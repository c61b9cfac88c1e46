"""Publishing a warning (预警推送): a new warning, or an open one whose level went up, is told
to the case's client manager through the platform inbox (``notifications``, once per warning
and level) and the pluggable notifier (``cases.notify``). A warning with nobody assigned goes
to the sub-branch's department managers. The managers see every warning of their scope in the
warnings inbox. Registered for ``WarningRaised`` and ``WarningLevelRaised`` in
``flow.handlers``; idempotent (the inbox key)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.auth.roles import Role
from yibaodai.cases.notify import notifier, notify_once
from yibaodai.db.models import CaseRow, InstitutionRow, NotificationRow, UserRow, WarningRow
from yibaodai.domain.events import WarningLevelRaised, WarningRaised
from yibaodai.domain.ews.rules import RULES

LEVELS = {"red": ("红色", "red"), "orange": ("橙色", "orange"), "yellow": ("黄色", "yellow"),
          "blue": ("蓝色", "blue")}


def _recipients(session: Session, warning: WarningRow, case: CaseRow) -> list[int]:
    if warning.assigned_to is not None:
        return [warning.assigned_to]
    return list(session.scalars(select(UserRow.id).where(
        UserRow.sub_branch_code == case.sub_branch_code, UserRow.active.is_(True),
        UserRow.role == Role.SUB_BRANCH_MANAGER.value).order_by(UserRow.id)))


def publish_warning(session: Session, event: WarningRaised | WarningLevelRaised) -> None:
    warning = session.get_one(WarningRow, event.warning_id)
    case = session.get_one(CaseRow, warning.case_id)
    inst = session.get(InstitutionRow, warning.fixmedins_code)
    who = inst.fixmedins_name if inst else warning.fixmedins_code
    rule = RULES.get(warning.rule_code[:3])
    rule_zh, rule_en = (rule.name_zh, rule.name_en) if rule else (warning.rule_code,) * 2
    level_zh, level_en = LEVELS.get(warning.severity, (warning.severity, warning.severity))
    raised = isinstance(event, WarningLevelRaised)
    kind = "warning_level_raised" if raised else "warning_raised"
    verb_zh, verb_en = ("预警升级为", "warning raised to") if raised else ("新预警", "new warning")
    sent: list[NotificationRow] = []
    for user_id in _recipients(session, warning, case):
        notice = notify_once(
            session, key=f"warning:{warning.id}:{warning.severity}:{user_id}", user_id=user_id,
            at=event.at, kind=kind, case_id=case.id,
            message_zh=f"{who}（案件{case.id}）{verb_zh}{level_zh}：{rule_zh}，请及时核查处置",
            message_en=f"{who} (case {case.id}): {verb_en} {level_en}, {rule_en}; "
                       "check and record the outcome")
        if notice is not None:
            sent.append(notice)
    session.flush()
    for notice in sent:
        notifier().send(notice)


__all__ = ["publish_warning"]
