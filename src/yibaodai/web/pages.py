"""The report platform (报表平台): server-rendered Chinese pages behind a signed session.
Forms carry a CSRF token bound to the session."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from yibaodai.audit.log import record as audit
from yibaodai.auth.passwords import verify_password
from yibaodai.auth.roles import ROLE_NAMES_ZH, Actor
from yibaodai.db.models import SubBranchRow, UserRow
from yibaodai.domain.case import STATE_NAMES_ZH
from yibaodai.errors import PermissionDenied
from yibaodai.web.deps import Ctx, DbSession, actor_from_user
from yibaodai.web.queries import list_cases, scoped_warnings

router = APIRouter(tags=["pages"], include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not secrets.compare_digest(expected, submitted):
        raise PermissionDenied("表单已失效，请刷新后重试", "form expired; reload and retry",
                               code="csrf_failed")


def page_actor(request: Request, s: DbSession) -> Actor | None:
    uid = request.session.get("user_id")
    user = s.get(UserRow, uid) if isinstance(uid, int) else None
    return actor_from_user(user) if user is not None and user.active else None


PageActor = Annotated[Actor | None, Depends(page_actor)]


def render(request: Request, name: str, actor: Actor | None, ctx: Ctx, **data: Any) -> Response:
    return templates.TemplateResponse(request, name, {
        "actor": actor, "role_names": ROLE_NAMES_ZH, "csrf": csrf_token(request),
        "today": ctx.clock.today().isoformat(), **data})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: Ctx) -> Response:
    return render(request, "login.html", None, ctx, error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, ctx: Ctx, s: DbSession,
          username: Annotated[str, Form(max_length=50)] = "",
          password: Annotated[str, Form(max_length=200)] = "",
          csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    check_csrf(request, csrf)
    user = s.scalars(select(UserRow).where(UserRow.username == username)).first()
    if user is None or not user.active or not verify_password(user.password_hash, password):
        return render(request, "login.html", None, ctx, username=username,
                      error="用户名或密码错误 / Wrong username or password")
    request.session.clear()
    request.session["user_id"] = user.id
    audit(s, at=ctx.clock.now(), actor=user.username, action="auth.login", target="web")
    s.commit()
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def cases_page(request: Request, actor: PageActor, ctx: Ctx, s: DbSession,
               state: str | None = None) -> Response:
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    rows = list_cases(s, actor, state if state in STATE_NAMES_ZH else None)
    subs = dict(s.execute(select(SubBranchRow.code, SubBranchRow.name_zh)).tuples().all())
    return render(request, "cases.html", actor, ctx, cases=rows, sub_names=subs,
                  states=STATE_NAMES_ZH, state=state)


@router.get("/warnings", response_class=HTMLResponse)
def warnings_page(request: Request, actor: PageActor, ctx: Ctx, s: DbSession) -> Response:
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "warnings.html", actor, ctx, warnings=scoped_warnings(s, actor))
