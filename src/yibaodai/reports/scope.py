"""The one data-scope resolver. Branch roles (administrator, branch manager, auditor) see every
sub-branch; sub-branch roles only their own; a user who matches no scope sees nothing, never
everything. Every read of the platform filters through here, and a record outside the scope
answers 404 like one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    false,
    or_,
    select,
    true,
)
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
        return _institutions_of(self.sub_branch_clause, self.districts(sub_branches))

    def districts(self, sub_branches: list[SubBranchRow]) -> list[str]:
        """The districts served by the scope's sub-branches (of the rows given)."""
        return sorted({d for sub in sub_branches if self.covers(sub.code) for d in sub.districts})

    def bound_params(self, sub_branches: list[SubBranchRow]) -> dict[str, list[str]]:
        """The values of ``BoundScope``'s parameters for this scope (a sub-branch scope)."""
        return {BoundScope.SUB_BRANCHES: sorted(self.sub_branches or ()),
                BoundScope.DISTRICTS: self.districts(sub_branches)}

    def visible_institution(self, session: Session, code: str) -> InstitutionRow:
        """An institution the scope covers through one of its cases (branch roles: any
        institution). Unknown and out-of-scope codes alike raise NotFound."""
        inst: InstitutionRow = self.visible_institution_with(session, code)[0]
        return inst

    def visible_institution_with(self, session: Session, code: str,
                                 also: tuple[ColumnElement[Any], ...] = ()) -> Row[Any]:
        """:meth:`visible_institution` and the columns ``also`` (module constants that may
        use the bound ``code``) in the same statement: the institution view asks which of the
        bureau's records exist with it, one round trip instead of two."""
        row = session.execute(_visible_institution(self, also), {"code": code}).first()
        if row is None:
            raise NotFound("机构不存在", "institution not found", code="institution_not_found")
        return row


@lru_cache(maxsize=256)
def _visible_institution(scope: Scope, also: tuple[ColumnElement[Any], ...]) -> Select[Any]:
    """Built once per scope and columns, bound per request. A sub-branch scope asks for the
    institution and the case that puts it in scope in one statement."""
    code: BindParameter[str] = bindparam("code")
    stmt = select(InstitutionRow, *also).where(InstitutionRow.fixmedins_code == code)
    if scope.branch_wide:
        return stmt
    return stmt.where(select(CaseRow.id).where(
        CaseRow.fixmedins_code == code,
        scope.sub_branch_clause(CaseRow.sub_branch_code)).exists())


def _institutions_of(in_scope: Any, districts: Any) -> ColumnElement[bool]:
    """Institutions of the sub-branches ``in_scope`` accepts: those with a case there, and
    those without any case in one of ``districts``."""
    has_case = select(CaseRow.fixmedins_code)
    return or_(
        InstitutionRow.fixmedins_code.in_(has_case.where(in_scope(CaseRow.sub_branch_code))),
        and_(InstitutionRow.area_code.in_(districts),
             InstitutionRow.fixmedins_code.not_in(has_case)))


class BoundScope:
    """A sub-branch scope's clauses with the sub-branches and districts as bound parameters,
    for statements built once and executed with ``Scope.bound_params``: the busiest pages do
    not rebuild (and re-key for SQLAlchemy's cache) the same statement on every request."""

    SUB_BRANCHES = "scope_sub_branches"
    DISTRICTS = "scope_districts"

    @staticmethod
    def _list(key: str) -> BindParameter[Any]:
        return bindparam(key, expanding=True)

    @classmethod
    def sub_branch_clause(cls, column: Any) -> ColumnElement[bool]:
        return column.in_(cls._list(cls.SUB_BRANCHES))  # type: ignore[no-any-return]

    @classmethod
    def cases(cls, stmt: Select[Any]) -> Select[Any]:
        return stmt.where(cls.sub_branch_clause(CaseRow.sub_branch_code))

    @classmethod
    def institution_clause(cls) -> ColumnElement[bool]:
        return _institutions_of(cls.sub_branch_clause, cls._list(cls.DISTRICTS))
