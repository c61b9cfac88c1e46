"""User management for the branch administrator, never beyond the administrator's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select

from yibaodai.auth.roles import Role
from yibaodai.auth.users import create_user, reset_password, update_user
from yibaodai.db.models import UserRow
from yibaodai.reports.scope import Scope
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.routes import api_router
from yibaodai.web.routes.auth import UserItem, user_out
from yibaodai.web.routes.cases import PageNo, PageSize
from yibaodai.web.schemas import Out, Page, like_escaped

router = api_router("users")
USERNAME = r"^[a-z0-9][a-z0-9_.-]{2,49}$"


class UserFilters(BaseModel):
    q: str | None = Field(default=None, max_length=50)
    role: Role | None = None
    sub_branch: str | None = Field(default=None, max_length=10)
    active: bool | None = None


class NewUser(BaseModel):
    username: str = Field(pattern=USERNAME, description="3-50: a-z 0-9 _ . -")
    display_name: str = Field(min_length=1, max_length=50)
    staff_no: str = Field(min_length=1, max_length=20)
    role: Role
    sub_branch_code: str | None = Field(default=None, max_length=10)


class UserChange(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=50)
    role: Role | None = None
    sub_branch_code: str | None = Field(default=None, max_length=10)
    active: bool | None = None


class UserPage(Page[UserItem]):
    pass


class CreatedUser(Out):
    user: UserItem
    temporary_password: str


class TemporaryPassword(Out):
    temporary_password: str


@router.get("/users")
def list_users(actor: CurrentActor, s: DbSession, filters: Annotated[UserFilters, Query()],
               page: PageNo = 1, page_size: PageSize = 20) -> UserPage:
    scope = Scope.of(actor)
    stmt = select(UserRow)
    if not scope.branch_wide:
        stmt = stmt.where(scope.sub_branch_clause(UserRow.sub_branch_code))
    if filters.q:
        like = f"%{like_escaped(filters.q)}%"
        stmt = stmt.where(or_(UserRow.username.like(like, escape="\\"),
                              UserRow.display_name.like(like, escape="\\"),
                              UserRow.staff_no.like(like, escape="\\")))
    if filters.role:
        stmt = stmt.where(UserRow.role == filters.role.value)
    if filters.sub_branch:
        stmt = stmt.where(UserRow.sub_branch_code == filters.sub_branch)
    if filters.active is not None:
        stmt = stmt.where(UserRow.active.is_(filters.active))
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = s.scalars(stmt.order_by(UserRow.id).limit(page_size)
                     .offset((page - 1) * page_size)).all()
    return UserPage(items=[user_out(s, u) for u in rows], total=int(total), page=page,
                         page_size=page_size)


@router.post("/users")
def new_user(body: NewUser, actor: CurrentActor, ctx: Ctx, s: DbSession) -> CreatedUser:
    """A new user with a temporary password, shown once; they change it at first log-in."""
    user, password = create_user(s, actor=actor, username=body.username,
                                 display_name=body.display_name, staff_no=body.staff_no,
                                 role=body.role, sub_branch_code=body.sub_branch_code,
                                 now=ctx.clock.now())
    s.commit()
    return CreatedUser(user=user_out(s, user), temporary_password=password)


@router.patch("/users/{user_id}")
def change_user(user_id: int, body: UserChange, actor: CurrentActor, ctx: Ctx,
                s: DbSession) -> UserItem:
    changes = body.model_dump(exclude_unset=True)
    if "role" in changes and changes["role"] is not None:
        changes["role"] = Role(changes["role"])
    user = update_user(s, actor=actor, user_id=user_id,
                       changes={k: v for k, v in changes.items()
                                if v is not None or k == "sub_branch_code"},
                       now=ctx.clock.now())
    s.commit()
    return user_out(s, user)


@router.post("/users/{user_id}/password-reset")
def reset_user_password(user_id: int, actor: CurrentActor, ctx: Ctx,
                        s: DbSession) -> TemporaryPassword:
    """A temporary password (shown once); the user's sessions and tokens end."""
    password = reset_password(s, actor=actor, user_id=user_id, now=ctx.clock.now())
    s.commit()
    return TemporaryPassword(temporary_password=password)
