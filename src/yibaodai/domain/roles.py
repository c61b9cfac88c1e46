"""Staff roles and what each may do, as plain data: the case transition table and the model
lifecycle check them here, and ``auth.roles`` builds data scopes on them."""

from __future__ import annotations

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
#: the branch manager handles a warning once it has been escalated to the branch
CAN_HANDLE_WARNING = frozenset({Role.CLIENT_MANAGER, Role.SUB_BRANCH_MANAGER,
                                Role.BRANCH_MANAGER})
