"""Request dependencies: the unit of work, and ``authorize`` — the one check every API request
passes. It finds the route's permission in ``permissions.ROUTES``, resolves the signed-in user
from a bearer token or the session cookie (never from the request body), refuses a cookie
request that changes state without the session's CSRF token or from a foreign origin, and
refuses a role without the permission."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from itsdangerous import BadSignature, Signer
from sqlalchemy.orm import Session

from yibaodai.auth.roles import Actor, Role
from yibaodai.auth.sessions import (
    SessionPolicy,
    live_session,
    live_token,
    needs_touch,
    token_needs_touch,
    touch_session,
    touch_token,
)
from yibaodai.auth.throttle import LoginThrottle
from yibaodai.db.models import UserRow
from yibaodai.errors import NotAuthenticated, PermissionDenied
from yibaodai.web.context import AppContext
from yibaodai.web.permissions import ROUTES, Permission, may

COOKIE = "yb_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies without I/O are ``async``: FastAPI runs every sync dependency in the thread
# pool, one hop each, and under load the hops cost more than the work.


async def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def session(request: Request, ctx: Annotated[AppContext, Depends(context)]
            ) -> Iterator[Session]:
    """The request's unit of work; a GET's opens no transaction until it writes
    (``Database.read_unit_of_work``: most of them only read)."""
    with (ctx.db.read_unit_of_work() if request.method in SAFE_METHODS
          else ctx.db.unit_of_work()) as s:
        yield s


async def throttle(request: Request) -> LoginThrottle:
    t: LoginThrottle = request.app.state.throttle
    return t


async def policy(ctx: Annotated[AppContext, Depends(context)]) -> SessionPolicy:
    return SessionPolicy.from_settings(ctx.settings)


def cookie_signer(ctx: AppContext) -> Signer:
    return Signer(ctx.settings.secret_key.get_secret_value(), salt="yb-session")


def actor_from_user(user: UserRow) -> Actor:
    return Actor(user_id=user.id, username=user.username, display_name=user.display_name,
                 staff_no=user.staff_no, role=Role(user.role),
                 sub_branch_code=user.sub_branch_code)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


@dataclass(frozen=True)
class Credential:
    """How the request signed in: a browser session (with its CSRF token) or a bearer token."""

    actor: Actor
    session_id: int | None = None
    token_id: int | None = None
    csrf_token: str | None = None
    must_change_password: bool = False


def same_origin(request: Request) -> bool:
    """No ``Origin`` (same-origin GETs, non-browser clients) or one naming this host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin != "null" and urlsplit(origin).netloc == host


def csrf_refused() -> PermissionDenied:
    return PermissionDenied("请求已失效，请刷新页面后重试", "request refused (CSRF); reload "
                            "the page and retry", code="csrf_failed")


def _credential(request: Request, ctx: AppContext, s: Session) -> Credential | None:
    now = ctx.clock.now()
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token, user = live_token(s, secret=header[7:].strip(), now=now)
        if user is None or not user.active:
            raise NotAuthenticated("请先登录", "please sign in", code="not_authenticated")
        if token_needs_touch(token, now):
            touch_token(s, token_id=token.id, now=now)
            s.commit()  # nothing else is pending yet: the request has not started
        return Credential(actor_from_user(user), token_id=token.id,
                          must_change_password=user.must_change_password)
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        secret = cookie_signer(ctx).unsign(cookie).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    row, user = live_session(s, secret=secret, now=now, policy=SessionPolicy.from_settings(
        ctx.settings))
    if user is None or not user.active:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_origin(request) or not secrets.compare_digest(sent, row.csrf_token):
            raise csrf_refused()
    if needs_touch(row, now):
        touch_session(s, session_id=row.id, now=now)
        s.commit()  # nothing else is pending yet: the request has not started
    return Credential(actor_from_user(user), session_id=row.id, csrf_token=row.csrf_token,
                      must_change_password=user.must_change_password)


def route_permission(request: Request) -> Permission:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    return ROUTES[(request.method, path)]


def authorize(request: Request, ctx: Annotated[AppContext, Depends(context)],
              s: Annotated[Session, Depends(session)]) -> Credential | None:
    """The one permission check (installed on every API router)."""
    permission = route_permission(request)
    if permission is Permission.PUBLIC:
        return None
    credential = _credential(request, ctx, s)
    if credential is None:
        raise NotAuthenticated("请先登录", "please sign in", code="not_authenticated")
    if credential.must_change_password and permission is not Permission.SELF:
        raise PermissionDenied("请先修改临时密码", "change your temporary password first",
                               code="password_change_required")
    if not may(credential.actor.role, permission):
        raise PermissionDenied("当前角色无权执行此操作", "your role may not do this",
                               code="role_not_allowed",
                               details={"permission": permission.value})
    return credential


async def signed_in(credential: Annotated[Credential | None, Depends(authorize)]
                    ) -> Credential:
    assert credential is not None, "a PUBLIC route asked for the signed-in user"
    return credential


async def current_actor(credential: Annotated[Credential, Depends(signed_in)]) -> Actor:
    return credential.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
SignedIn = Annotated[Credential, Depends(signed_in)]
DbSession = Annotated[Session, Depends(session)]
Ctx = Annotated[AppContext, Depends(context)]
Policy = Annotated[SessionPolicy, Depends(policy)]
Throttle = Annotated[LoginThrottle, Depends(throttle)]
