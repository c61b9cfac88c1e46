"""The signed-in actor and its data scope. Data scope: branch roles see every sub-branch;
sub-branch roles see only their own; a user who matches no scope sees nothing, never
everything. The roles themselves are domain data (``domain.roles``), re-exported here."""

from __future__ import annotations

from dataclasses import dataclass

from yibaodai.domain.roles import (
    BRANCH_WIDE,
    CAN_CLAIM,
    CAN_CONFIRM,
    CAN_HANDLE_WARNING,
    CAN_VERIFY,
    ROLE_NAMES_ZH,
    SEES_SETTLEMENT_DATA,
    Role,
)


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


__all__ = ["BRANCH_WIDE", "CAN_CLAIM", "CAN_CONFIRM", "CAN_HANDLE_WARNING", "CAN_VERIFY",
           "ROLE_NAMES_ZH", "SEES_SETTLEMENT_DATA", "Actor", "Role"]
