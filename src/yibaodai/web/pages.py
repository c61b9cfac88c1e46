"""The report platform (报表平台): server-rendered Chinese pages behind a signed session.
Forms carry a CSRF token bound to the session. Writes go through the same service functions
as the JSON API and commit here; a domain refusal is shown on the page, bilingual."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.passwords import verify_password
from yibaodai.auth.roles import (
    CAN_CLAIM,
    CAN_CONFIRM,
    CAN_HANDLE_WARNING,
    CAN_VERIFY,
    ROLE_NAMES_ZH,
    Actor,
)
from yibaodai.cases import service as cases
from yibaodai.cases.service import CHECKLIST
from yibaodai.db.models import UserRow
from yibaodai.domain.case import STATE_NAMES_ZH, CaseState
from yibaodai.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    YibaodaiError,
)
from yibaodai.monitoring.service import handle_warning
from yibaodai.web.deps import Ctx, DbSession, actor_from_user
from yibaodai.web.queries import case_detail, list_cases, scoped_warnings, sub_branch_names

router = APIRouter(tags=["pages"], include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

ERROR_STATUS: tuple[tuple[type[YibaodaiError], int], ...] = (
    (ValidationFailed, 422), (NotFound, 404), (PermissionDenied, 403), (Conflict, 409))


def yuan(value: Any) -> str:
    """Amounts in 元: two decimals and thousands separators; blank for nothing."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def moment(value: Any) -> str:
    """An ISO timestamp or datetime as ``YYYY-MM-DD HH:MM`` (Asia/Shanghai as stored)."""
    if value is None or value == "":
        return ""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.strftime("%Y-%m-%d %H:%M")


templates.env.filters["yuan"] = yuan
templates.env.filters["moment"] = moment


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
Csrf = Annotated[str, Form(max_length=100)]


def render(request: Request, name: str, actor: Actor | None, ctx: Ctx, *,
           status_code: int = 200, **data: Any) -> Response:
    return templates.TemplateResponse(request, name, {
        "actor": actor, "role_names": ROLE_NAMES_ZH, "csrf": csrf_token(request),
        "today": ctx.clock.today().isoformat(), **data}, status_code=status_code)


def status_of(exc: YibaodaiError) -> int:
    return next((code for kind, code in ERROR_STATUS if isinstance(exc, kind)), 400)


def error_page(request: Request, actor: Actor | None, ctx: Ctx,
               exc: YibaodaiError) -> Response:
    return render(request, "error.html", actor, ctx, status_code=status_of(exc), error=exc)


def to_login() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: Ctx) -> Response:
    return render(request, "login.html", None, ctx, error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, ctx: Ctx, s: DbSession,
          username: Annotated[str, Form(max_length=50)] = "",
          password: Annotated[str, Form(max_length=200)] = "",
          csrf: Csrf = "") -> Response:
    try:
        check_csrf(request, csrf)
    except PermissionDenied as exc:
        return render(request, "login.html", None, ctx, status_code=403, username=username,
                      error=f"{exc.message_zh} / {exc.message_en}")
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
def logout(request: Request, csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return to_login()


@router.get("/", response_class=HTMLResponse)
def cases_page(request: Request, actor: PageActor, ctx: Ctx, s: DbSession,
               state: str | None = None, sub_branch: str | None = None) -> Response:
    if actor is None:
        return to_login()
    subs = sub_branch_names(s)
    branch_wide = actor.sub_branch_scope() is None
    chosen = sub_branch if branch_wide and sub_branch in subs else None
    rows = list_cases(s, actor, state if state in STATE_NAMES_ZH else None, chosen)
    return render(request, "cases.html", actor, ctx, cases=rows, sub_names=subs,
                  states=STATE_NAMES_ZH, state=state, sub_branch=chosen,
                  branch_wide=branch_wide)


def _case_page(request: Request, actor: Actor, ctx: Ctx, s: Session, case_id: int, *,
               error: YibaodaiError | None = None, done: str | None = None) -> Response:
    try:
        detail = case_detail(s, actor, case_id)
    except NotFound as exc:
        return error_page(request, actor, ctx, exc)
    case = detail["case"]
    own = actor.sub_branch_code == case["sub_branch_code"]
    state = CaseState(case["state"])
    actions = {
        "claim": own and actor.role in CAN_CLAIM and state is CaseState.ASSIGNED,
        "verify": own and actor.role in CAN_VERIFY and state is CaseState.CLAIMED,
        "confirm": own and actor.role in CAN_CONFIRM and state is CaseState.VERIFIED,
    }
    return render(request, "case.html", actor, ctx,
                  status_code=status_of(error) if error else 200, d=detail,
                  actions=actions, checklist=CHECKLIST, error=error, done=done,
                  now=ctx.clock.now().isoformat())


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, actor: PageActor, ctx: Ctx, s: DbSession,
              done: str | None = None) -> Response:
    if actor is None:
        return to_login()
    return _case_page(request, actor, ctx, s, case_id,
                      done=done if done in {"claim", "verification", "confirmation"} else None)


def _case_action(request: Request, actor: Actor | None, ctx: Ctx, s: Session, case_id: int,
                 csrf: str, name: str, act: Callable[[Actor], object]) -> Response:
    """CSRF, then the service call and the commit, then back to the case page (303)."""
    if actor is None:
        return to_login()
    try:
        check_csrf(request, csrf)
        act(actor)
    except YibaodaiError as exc:
        s.rollback()
        if isinstance(exc, NotFound):
            return error_page(request, actor, ctx, exc)
        return _case_page(request, actor, ctx, s, case_id, error=exc)
    s.commit()
    return RedirectResponse(f"/cases/{case_id}?done={name}", status_code=303)


@router.post("/cases/{case_id}/claim")
def claim_case(request: Request, case_id: int, actor: PageActor, ctx: Ctx, s: DbSession,
               csrf: Csrf = "") -> Response:
    return _case_action(request, actor, ctx, s, case_id, csrf, "claim", lambda a: cases.claim(
        s, actor=a, case_id=case_id, now=ctx.clock.now()))


@router.post("/cases/{case_id}/verification")
def verify_case(request: Request, case_id: int, actor: PageActor, ctx: Ctx, s: DbSession,
                csrf: Csrf = "",
                checklist: Annotated[list[str] | None, Form()] = None,
                note: Annotated[str, Form(max_length=1000)] = "") -> Response:
    ticked = set(checklist or [])
    items = {key: key in ticked for key in CHECKLIST} | {key: True for key in ticked
                                                         if key not in CHECKLIST}
    return _case_action(request, actor, ctx, s, case_id, csrf, "verification",
                        lambda a: cases.verify(s, actor=a, case_id=case_id, checklist=items,
                                               note=note, now=ctx.clock.now()))


@router.post("/cases/{case_id}/confirmation")
def confirm_case(request: Request, case_id: int, actor: PageActor, ctx: Ctx, s: DbSession,
                 csrf: Csrf = "") -> Response:
    return _case_action(request, actor, ctx, s, case_id, csrf, "confirmation",
                        lambda a: cases.confirm(s, actor=a, case_id=case_id,
                                                now=ctx.clock.now(), publish=ctx.publish))


def _warnings_page(request: Request, actor: Actor, ctx: Ctx, s: Session, *,
                   error: YibaodaiError | None = None, done: bool = False) -> Response:
    return render(request, "warnings.html", actor, ctx,
                  status_code=status_of(error) if error else 200,
                  warnings=scoped_warnings(s, actor), sub_names=sub_branch_names(s),
                  can_handle=actor.role in CAN_HANDLE_WARNING, error=error, done=done)


@router.get("/warnings", response_class=HTMLResponse)
def warnings_page(request: Request, actor: PageActor, ctx: Ctx, s: DbSession,
                  done: str | None = None) -> Response:
    if actor is None:
        return to_login()
    return _warnings_page(request, actor, ctx, s, done=done == "1")


@router.post("/warnings/{warning_id}/outcome")
def warning_outcome(request: Request, warning_id: int, actor: PageActor, ctx: Ctx,
                    s: DbSession, csrf: Csrf = "",
                    outcome: Annotated[str, Form(max_length=1000)] = "") -> Response:
    if actor is None:
        return to_login()
    try:
        check_csrf(request, csrf)
        handle_warning(s, actor=actor, warning_id=warning_id, outcome=outcome,
                       now=ctx.clock.now())
    except YibaodaiError as exc:
        s.rollback()
        if isinstance(exc, NotFound):
            return error_page(request, actor, ctx, exc)
        return _warnings_page(request, actor, ctx, s, error=exc)
    s.commit()
    return RedirectResponse("/warnings?done=1", status_code=303)
