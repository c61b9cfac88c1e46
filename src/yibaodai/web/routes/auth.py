"""Log-in, log-out, the signed-in user (``/api/me``), password, language, bearer tokens."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.sessions import (
    SessionPolicy,
    issue_token,
    open_session,
    revoke_session,
)
from yibaodai.auth.sessions import revoke_token as revoke_token_row
from yibaodai.auth.users import LoginRefused, attempt_login, change_password, set_locale
from yibaodai.clock import Clock
from yibaodai.db.models import ApiTokenRow, SubBranchRow, UserRow
from yibaodai.errors import NotFound
from yibaodai.reports.labels import ROLES, name
from yibaodai.web.context import AppContext
from yibaodai.web.deps import (
    COOKIE,
    Ctx,
    DbSession,
    Policy,
    SignedIn,
    Throttle,
    actor_from_user,
    client_address,
    cookie_signer,
    csrf_refused,
    same_origin,
)
from yibaodai.web.export import watermark_text
from yibaodai.web.permissions import permissions_of
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Out

router = api_router("auth")


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=200)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class LocaleChoice(BaseModel):
    locale: str = Field(max_length=10)


class UserItem(Out):
    id: int
    username: str
    display_name: str
    staff_no: str
    role: str
    role_zh: str
    role_en: str
    sub_branch_code: str | None
    sub_branch_name_zh: str | None
    sub_branch_name_en: str | None
    locale: str
    active: bool
    must_change_password: bool


class Watermark(Out):
    display_name: str
    staff_no: str
    date: date
    text: str


class Me(Out):
    user: UserItem
    permissions: list[str]
    csrf_token: str | None
    watermark: Watermark
    today: date
    now: datetime


class TokenOut(Out):
    token: str
    token_id: int
    expires_at: datetime
    role: str


class TokenInfo(Out):
    id: int
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def user_out(s: Session, user: UserRow) -> UserItem:
    sub = s.get(SubBranchRow, user.sub_branch_code) if user.sub_branch_code else None
    zh, en = name(ROLES, user.role)
    return UserItem(id=user.id, username=user.username, display_name=user.display_name,
                   staff_no=user.staff_no, role=user.role, role_zh=zh, role_en=en,
                   sub_branch_code=user.sub_branch_code,
                   sub_branch_name_zh=sub.name_zh if sub else None,
                   sub_branch_name_en=sub.name_en if sub else None, locale=user.locale,
                   active=user.active, must_change_password=user.must_change_password)


def me_of(s: Session, user: UserRow, *, csrf_token: str | None, clock: Clock) -> Me:
    actor = actor_from_user(user)
    today = clock.today()
    return Me(user=user_out(s, user),
              permissions=sorted(p.value for p in permissions_of(actor.role)),
              csrf_token=csrf_token,
              watermark=Watermark(display_name=user.display_name, staff_no=user.staff_no,
                                  date=today, text=watermark_text(actor, today)),
              today=today, now=clock.now())


def _set_cookie(response: Response, request: Request, ctx: AppContext, secret: str,
                policy: SessionPolicy) -> None:
    response.set_cookie(COOKIE, cookie_signer(ctx).sign(secret).decode(), httponly=True,
                        samesite="strict", path="/",
                        secure=request.url.scheme == "https" or ctx.settings.cookie_secure,
                        max_age=int(policy.absolute.total_seconds()))


class Health(Out):
    status: str


@router.get("/health")
def health() -> Health:
    """Answers while the server runs (no sign-in)."""
    return Health(status="ok")


@router.post("/auth/login")
def login(body: Credentials, request: Request, response: Response, ctx: Ctx, s: DbSession,
          policy: Policy, throttle: Throttle) -> Me:
    """Sign in a browser: a server-side session in a signed HttpOnly cookie."""
    if not same_origin(request):
        raise csrf_refused()
    now = ctx.clock.now()
    result = attempt_login(s, username=body.username, password=body.password,
                           address=client_address(request), channel="login", now=now,
                           throttle=throttle)
    if isinstance(result, LoginRefused):
        s.commit()  # the failed attempt's audit row
        raise result.error
    secret, row = open_session(s, user=result, now=now, policy=policy,
                               address=client_address(request))
    s.commit()
    _set_cookie(response, request, ctx, secret, policy)
    return me_of(s, result, csrf_token=row.csrf_token, clock=ctx.clock)


@router.post("/auth/token")
def issue_api_token(body: Credentials, request: Request, ctx: Ctx, s: DbSession,
                    policy: Policy, throttle: Throttle) -> TokenOut:
    """A bearer token for a machine client (stored hashed; revocable)."""
    now = ctx.clock.now()
    result = attempt_login(s, username=body.username, password=body.password,
                           address=client_address(request), channel="token", now=now,
                           throttle=throttle)
    if isinstance(result, LoginRefused):
        s.commit()
        raise result.error
    secret, row = issue_token(s, user=result, now=now, policy=policy)
    s.commit()
    return TokenOut(token=secret, token_id=row.id, expires_at=row.expires_at, role=result.role)


@router.post("/auth/logout", status_code=204, response_class=Response)
def logout(credential: SignedIn, ctx: Ctx, s: DbSession) -> Response:
    """End this session (or this bearer token) on the server."""
    now = ctx.clock.now()
    if credential.session_id is not None:
        revoke_session(s, session_id=credential.session_id, now=now)
    if credential.token_id is not None:
        revoke_token_row(s, token_id=credential.token_id, now=now)
    audit(s, at=now, actor=credential.actor.username, action="auth.logout",
          target=f"user:{credential.actor.user_id}")
    s.commit()
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/auth/tokens")
def list_tokens(credential: SignedIn, s: DbSession) -> list[TokenInfo]:
    rows = s.scalars(select(ApiTokenRow).where(ApiTokenRow.user_id == credential.actor.user_id)
                     .order_by(ApiTokenRow.id.desc()).limit(200))
    return [TokenInfo.model_validate(r) for r in rows]


@router.delete("/auth/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(token_id: int, credential: SignedIn, ctx: Ctx, s: DbSession) -> Response:
    row = s.get(ApiTokenRow, token_id)
    if row is None or row.user_id != credential.actor.user_id:
        raise NotFound("令牌不存在", "token not found", code="token_not_found")
    revoke_token_row(s, token_id=row.id, now=ctx.clock.now())
    s.commit()
    return Response(status_code=204)


@router.get("/me")
def me(credential: SignedIn, ctx: Ctx, s: DbSession) -> Me:
    """Who is signed in, what they may do (menus), the CSRF token, the watermark."""
    user = s.get(UserRow, credential.actor.user_id)
    assert user is not None
    return me_of(s, user, csrf_token=credential.csrf_token, clock=ctx.clock)


@router.post("/me/password", status_code=204, response_class=Response)
def change_own_password(body: PasswordChange, request: Request, credential: SignedIn,
                        ctx: Ctx, s: DbSession, policy: Policy) -> Response:
    """Change the password; every session and token of the user ends; a browser that asked
    gets a fresh session (and must read the new CSRF token from /api/me)."""
    now = ctx.clock.now()
    user = change_password(s, actor=credential.actor, current_password=body.current_password,
                           new_password=body.new_password, now=now)
    response = Response(status_code=204)
    if credential.session_id is not None:
        secret, _ = open_session(s, user=user, now=now, policy=policy,
                                 address=client_address(request))
        _set_cookie(response, request, ctx, secret, policy)
    s.commit()
    return response


@router.put("/me/locale")
def choose_locale(body: LocaleChoice, credential: SignedIn, ctx: Ctx, s: DbSession) -> Me:
    user = set_locale(s, actor=credential.actor, locale=body.locale, now=ctx.clock.now())
    s.commit()
    return me_of(s, user, csrf_token=credential.csrf_token, clock=ctx.clock)


__all__ = ["Me", "UserItem", "router", "user_out"]
