"""Roles and what each may see. Data scope: branch roles see every sub-branch; sub-branch
roles see only their own; a user who matches no scope sees nothing, never everything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    BRANCH_ADMIN = "branch_admin"              # 分行管理员
    BRANCH_MANAGER = "branch_manager"          # 分行部门总经理
    SUB_BRANCH_MANAGER = "sub_branch_manager"  # 支行部门经理
    CLIENT_MANAGER = "client_manager"          # 客户经理
    AUDITOR = "auditor"                        # 审计员


ROLE_NAMES_ZH = {
    Role.BRANCH_ADMIN: "分行管理员",
    Role.BRANCH_MANAGER: "分行部门总经理",
    Role.SUB_BRANCH_MANAGER: "支行部门经理",
    Role.CLIENT_MANAGER: "客户经理",
    Role.AUDITOR: "审计员",
}

BRANCH_WIDE = frozenset({Role.BRANCH_ADMIN, Role.BRANCH_MANAGER, Role.AUDITOR})
#: Department managers and above may see settlement data and whitelist settings.
SEES_SETTLEMENT_DATA = frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER})
CAN_CLAIM = frozenset({Role.CLIENT_MANAGER, Role.SUB_BRANCH_MANAGER})
CAN_VERIFY = frozenset({Role.CLIENT_MANAGER, Role.SUB_BRANCH_MANAGER})
CAN_CONFIRM = frozenset({Role.SUB_BRANCH_MANAGER})
CAN_HANDLE_WARNING = frozenset({Role.CLIENT_MANAGER, Role.SUB_BRANCH_MANAGER})


@dataclass(frozen=True)
class Actor:
    """The signed-in user, resolved by the server from the session, never from the request."""

    user_id: int
    username: str
    display_name: str
    staff_no: str
    role: Role
    sub_branch_code: str | None

    def sub_branch_scope(self) -> frozenset[str] | None:
        """None means every sub-branch; an empty set means none."""
        if self.role in BRANCH_WIDE:
            return None
        return frozenset({self.sub_branch_code}) if self.sub_branch_code else frozenset()

    def can_see_sub_branch(self, code: str) -> bool:
        scope = self.sub_branch_scope()
        return scope is None or code in scope

    @property
    def sees_settlement_data(self) -> bool:
        return self.role in SEES_SETTLEMENT_DATA
