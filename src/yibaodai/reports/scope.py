"""The one data-scope resolver. Branch roles (administrator, branch manager, auditor) see every
sub-branch; sub-branch roles only their own; a user who matches no scope sees nothing, never
everything. Every read of the platform filters through here, and a record outside the scope
answers 404 like one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import Session

from yibaodai.auth.roles import Actor
from yibaodai.db.models import CaseRow, InstitutionRow, SubBranchRow
from yibaodai.errors import NotFound


@dataclass(frozen=True)
class Scope:
    """``sub_branches`` None: every sub-branch."""

    sub_branches: frozenset[str] | None

    @classmethod
    def of(cls, actor: Actor) -> Scope:
        return cls(actor.sub_branch_scope())

    @property
    def branch_wide(self) -> bool:
        return self.sub_branches is None

    def covers(self, sub_branch_code: str | None) -> bool:
        if self.sub_branches is None:
            return True
        return sub_branch_code is not None and sub_branch_code in self.sub_branches

    def sub_branch_clause(self, column: Any) -> ColumnElement[bool]:
        """``column`` (a sub-branch code column) within the scope."""
        if self.sub_branches is None:
            return true()
        if not self.sub_branches:
            return false()
        return column.in_(sorted(self.sub_branches))  # type: ignore[no-any-return]

    def cases(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.where(self.sub_branch_clause(CaseRow.sub_branch_code))

    def narrowed(self, sub_branch: str | None) -> Scope:
        """The scope further narrowed to one sub-branch (never widened)."""
        if sub_branch is None:
            return self
        if self.sub_branches is None:
            return Scope(frozenset({sub_branch}))
        return Scope(self.sub_branches & {sub_branch})

    def institution_clause(self, session: Session,
                           sub_branches: list[SubBranchRow] | None = None
                           ) -> ColumnElement[bool]:
        """Institutions that belong to the scope: the sub-branch of their case, or, before they
        have a case, the sub-branches serving their district (for the funnel's first steps).
        ``sub_branches``: the scope's sub-branch rows when the caller has read them already."""
        if self.sub_branches is None:
            return true()
        if not self.sub_branches:
            return false()
        if sub_branches is None:
            sub_branches = list(session.scalars(select(SubBranchRow).where(
                SubBranchRow.code.in_(sorted(self.sub_branches)))))
        districts = sorted({d for sub in sub_branches if sub.code in self.sub_branches
                            for d in sub.districts})
        has_case = select(CaseRow.fixmedins_code)
        return or_(
            InstitutionRow.fixmedins_code.in_(
                has_case.where(self.sub_branch_clause(CaseRow.sub_branch_code))),
            and_(InstitutionRow.area_code.in_(districts),
                 InstitutionRow.fixmedins_code.not_in(has_case)))

    def visible_institution(self, session: Session, code: str) -> InstitutionRow:
        """An institution the scope covers through one of its cases (branch roles: any
        institution). Unknown and out-of-scope codes alike raise NotFound."""
        if self.branch_wide:
            inst = session.get(InstitutionRow, code)
        else:  # the institution and the case that puts it in scope: one round trip
            inst = session.scalars(select(InstitutionRow).where(
                InstitutionRow.fixmedins_code == code,
                select(CaseRow.id).where(
                    CaseRow.fixmedins_code == code,
                    self.sub_branch_clause(CaseRow.sub_branch_code)).exists())).first()
        if inst is None:
            raise NotFound("机构不存在", "institution not found", code="institution_not_found")
        return inst
