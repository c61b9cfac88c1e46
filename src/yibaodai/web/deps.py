"""Request dependencies: the signed-in actor (from a bearer token or the signed session, never
from the request body), and the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from yibaodai.auth.roles import Actor, Role
from yibaodai.db.models import UserRow
from yibaodai.errors import PermissionDenied, YibaodaiError
from yibaodai.web.context import AppContext

TOKEN_MAX_AGE = 8 * 3600


class NotAuthenticated(YibaodaiError):
    pass


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def token_serializer(ctx: AppContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key.get_secret_value(), salt="api-token")


def session(ctx: Annotated[AppContext, Depends(context)]) -> Iterator[Session]:
    with ctx.db.unit_of_work() as s:
        yield s


def actor_from_user(user: UserRow) -> Actor:
    return Actor(user_id=user.id, username=user.username, display_name=user.display_name,
                 staff_no=user.staff_no, role=Role(user.role),
                 sub_branch_code=user.sub_branch_code)


def _user_id(request: Request, ctx: AppContext) -> int | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        try:
            return int(token_serializer(ctx).loads(header[7:], max_age=TOKEN_MAX_AGE))
        except (BadSignature, SignatureExpired, ValueError):
            return None
    uid = request.session.get("user_id") if "session" in request.scope else None
    return int(uid) if isinstance(uid, int) else None


def current_actor(request: Request, ctx: Annotated[AppContext, Depends(context)],
                  s: Annotated[Session, Depends(session)]) -> Actor:
    uid = _user_id(request, ctx)
    user = s.get(UserRow, uid) if uid is not None else None
    if user is None or not user.active:
        raise NotAuthenticated("请先登录", "please sign in", code="not_authenticated")
    return actor_from_user(user)


def require_settlement_viewer(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if not actor.sees_settlement_data:
        raise PermissionDenied("仅部门经理及以上可查看结算数据",
                               "only department managers and above see settlement data",
                               code="role_not_allowed")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
DbSession = Annotated[Session, Depends(session)]
Ctx = Annotated[AppContext, Depends(context)]
