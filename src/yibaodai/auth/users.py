"""Staff accounts: log-in attempts, password changes, the language preference, and the branch
administrator's user management. Every change writes its audit row in the caller's unit of
work; the caller (the web layer) commits.

Administrators never act beyond their own data scope: a sub-branch user can be created or
moved only into a sub-branch the administrator sees, and a branch-wide role only by a
branch-wide administrator; users outside the scope answer 404 like any other record."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.passwords import HISTORY, hash_password, password_problems, verify_password
from yibaodai.auth.roles import BRANCH_WIDE, Actor, Role
from yibaodai.auth.sessions import revoke_all
from yibaodai.auth.throttle import LoginThrottle
from yibaodai.db.models import PasswordHistoryRow, SubBranchRow, UserRow
from yibaodai.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
    YibaodaiError,
)

LOCALES = ("zh-CN", "en-US")
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _bad_credentials() -> ValidationFailed:
    return ValidationFailed("用户名或密码错误", "wrong username or password",
                            code="bad_credentials",
                            fields=[FieldError("password", "用户名或密码错误",
                                               "wrong username or password")])


@dataclass(frozen=True)
class LoginRefused:
    """A refused log-in: an expected outcome whose audit row must still be committed."""

    error: YibaodaiError


def attempt_login(session: Session, *, username: str, password: str, address: str,
                  channel: str, now: datetime, throttle: LoginThrottle) -> UserRow | LoginRefused:
    """Check a log-in. Unknown and known users cost the same argon2 verification and get the
    same message; failures count against the user and the address, and are audited."""
    name = username[:50]
    blocked = throttle.blocked(username=name, address=address)
    if blocked is not None:
        audit(session, at=now, actor=name or "-", action="auth.throttled", target=channel,
              details={"address": address, "limit": blocked})
        return LoginRefused(RateLimited(
            "登录失败次数过多，请稍后再试", "too many failed log-ins; try again later",
            code="too_many_attempts"))
    user = session.scalars(select(UserRow).where(UserRow.username == name)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active or not ok:
        throttle.failed(username=name, address=address)
        reason = "unknown_user" if user is None else (
            "inactive" if not user.active else "wrong_password")
        audit(session, at=now, actor=name or "-", action="auth.failed", target=channel,
              details={"address": address, "reason": reason})
        return LoginRefused(_bad_credentials())
    throttle.succeeded(username=name)
    audit(session, at=now, actor=user.username, action=f"auth.{channel}", target=channel,
          details={"address": address})
    return user


# --- passwords ----------------------------------------------------------------------------


def _recent_hashes(session: Session, user: UserRow) -> list[str]:
    older = session.scalars(select(PasswordHistoryRow.password_hash).where(
        PasswordHistoryRow.user_id == user.id).order_by(PasswordHistoryRow.id.desc())
        .limit(HISTORY)).all()
    return list(dict.fromkeys([user.password_hash, *older]))[:HISTORY]


def set_password(session: Session, *, user: UserRow, password: str, now: datetime,
                 must_change: bool) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    session.add(PasswordHistoryRow(user_id=user.id, password_hash=user.password_hash,
                                   set_at=now))
    revoke_all(session, user_id=user.id, now=now)


def change_password(session: Session, *, actor: Actor, current_password: str,
                    new_password: str, now: datetime) -> UserRow:
    """The user's own change: the current password, then the rules; every session and token
    of the user ends (the caller opens a fresh session for the browser that asked)."""
    user = session.get(UserRow, actor.user_id)
    assert user is not None
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed("当前密码不正确", "the current password is wrong",
                               code="bad_current_password",
                               fields=[FieldError("current_password", "当前密码不正确",
                                                  "the current password is wrong")])
    problems = password_problems(new_password, username=user.username,
                                 recent_hashes=_recent_hashes(session, user))
    if problems:
        raise ValidationFailed("新密码不符合要求", "the new password does not meet the rules",
                               code="weak_password", fields=problems)
    set_password(session, user=user, password=new_password, now=now, must_change=False)
    audit(session, at=now, actor=user.username, action="user.password_changed",
          target=f"user:{user.id}")
    return user


def set_locale(session: Session, *, actor: Actor, locale: str, now: datetime) -> UserRow:
    if locale not in LOCALES:
        raise ValidationFailed("不支持的语言", "unsupported language", code="bad_locale",
                               fields=[FieldError("locale", "应为 zh-CN 或 en-US",
                                                  "must be zh-CN or en-US")])
    user = session.get(UserRow, actor.user_id)
    assert user is not None
    if user.locale != locale:
        user.locale = locale
        audit(session, at=now, actor=user.username, action="user.locale",
              target=f"user:{user.id}", details={"locale": locale})
    return user


# --- administration -----------------------------------------------------------------------


def temporary_password() -> str:
    return "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(14))


def visible_user(session: Session, actor: Actor, user_id: int) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None or not _in_scope(actor, user.sub_branch_code):
        raise NotFound("用户不存在", "user not found", code="user_not_found")
    return user


def _in_scope(actor: Actor, sub_branch_code: str | None) -> bool:
    if sub_branch_code is None:
        return actor.sub_branch_scope() is None
    return actor.can_see_sub_branch(sub_branch_code)


def _check_grant(session: Session, actor: Actor, role: Role, sub_branch_code: str | None) -> None:
    """A role and sub-branch the administrator may hand out."""
    if role in BRANCH_WIDE:
        if sub_branch_code is not None:
            raise ValidationFailed("分行角色不属于支行", "branch roles have no sub-branch",
                                   code="sub_branch_not_allowed",
                                   fields=[FieldError("sub_branch_code", "分行角色不应选择支行",
                                                      "leave empty for branch roles")])
    elif sub_branch_code is None:
        raise ValidationFailed("支行角色须选择支行", "sub-branch roles need a sub-branch",
                               code="sub_branch_required",
                               fields=[FieldError("sub_branch_code", "必填", "required")])
    elif session.get(SubBranchRow, sub_branch_code) is None:
        raise ValidationFailed("支行不存在", "no such sub-branch", code="unknown_sub_branch",
                               fields=[FieldError("sub_branch_code", "支行不存在",
                                                  "no such sub-branch")])
    if not _in_scope(actor, sub_branch_code):
        raise PermissionDenied("不能超出本人管理范围授权", "beyond your own scope",
                               code="beyond_scope")


def create_user(session: Session, *, actor: Actor, username: str, display_name: str,
                staff_no: str, role: Role, sub_branch_code: str | None,
                now: datetime) -> tuple[UserRow, str]:
    """A new active user with a temporary password (returned once, to be changed first)."""
    _check_grant(session, actor, role, sub_branch_code)
    if session.scalars(select(UserRow.id).where(UserRow.username == username)).first():
        raise Conflict("用户名已存在", "username taken", code="username_taken",
                       fields=[FieldError("username", "用户名已存在", "username taken")])
    password = temporary_password()
    user = UserRow(username=username, display_name=display_name, staff_no=staff_no,
                   role=role.value, sub_branch_code=sub_branch_code,
                   password_hash=hash_password(password), active=True, locale="zh-CN",
                   must_change_password=True)
    session.add(user)
    session.flush()
    session.add(PasswordHistoryRow(user_id=user.id, password_hash=user.password_hash,
                                   set_at=now))
    audit(session, at=now, actor=actor.username, action="user.created",
          target=f"user:{user.id}", details={"username": username, "role": role.value,
                                             "sub_branch": sub_branch_code})
    return user, password


def update_user(session: Session, *, actor: Actor, user_id: int, changes: dict[str, Any],
                now: datetime) -> UserRow:
    """Apply ``changes`` (display_name, role, sub_branch_code, active) to a user in scope."""
    user = visible_user(session, actor, user_id)
    role = Role(changes.get("role", user.role))
    sub = changes.get("sub_branch_code", user.sub_branch_code)
    if user.id == actor.user_id and (role.value != user.role
                                     or changes.get("active", True) is False):
        raise Conflict("不能停用或变更本人账号的角色", "you may not deactivate or re-role "
                       "your own account", code="own_account")
    if role.value != user.role or sub != user.sub_branch_code:
        _check_grant(session, actor, role, sub)
    before = {"display_name": user.display_name, "role": user.role,
              "sub_branch_code": user.sub_branch_code, "active": user.active}
    user.role, user.sub_branch_code = role.value, sub
    if "display_name" in changes:
        user.display_name = str(changes["display_name"])
    if "active" in changes:
        user.active = bool(changes["active"])
        if not user.active:
            revoke_all(session, user_id=user.id, now=now)
    after = {"display_name": user.display_name, "role": user.role,
             "sub_branch_code": user.sub_branch_code, "active": user.active}
    diff = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if diff:
        audit(session, at=now, actor=actor.username, action="user.updated",
              target=f"user:{user.id}", details=diff)
    return user


def reset_password(session: Session, *, actor: Actor, user_id: int, now: datetime) -> str:
    """A temporary password for a user in scope; their sessions and tokens end."""
    user = visible_user(session, actor, user_id)
    password = temporary_password()
    set_password(session, user=user, password=password, now=now, must_change=True)
    audit(session, at=now, actor=actor.username, action="user.password_reset",
          target=f"user:{user.id}")
    return password
