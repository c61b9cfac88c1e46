"""Schemas every API area shares: the error body, a page of a list, a click-through link and a
code with its labels (the last four from ``reports.schema``, where the read side builds
them). Request and response schemas are apart from the tables."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, Field

from yibaodai.reports.schema import (
    Labelled,
    Link,
    Option,
    Out,
    Page,
    like_escaped,
    one_of,
    sort_key,
)


class FieldErrorOut(BaseModel):
    field: str
    message_zh: str
    message_en: str


class ErrorResponse(BaseModel):
    """Every 4xx answer of the API."""

    code: str
    message_zh: str
    message_en: str
    fields: list[FieldErrorOut] = Field(default_factory=list)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("未登录或会话已过期 not signed in, or the session expired"),
    403: _error("无权限或 CSRF 校验失败 not allowed (role, CSRF, origin)"),
    404: _error("不存在或不在数据范围内 unknown, or outside your data scope"),
    409: _error("当前状态不允许 the state does not allow it"),
    413: _error("请求体过大 the request body is over the limit"),
    422: _error("输入不合法（逐字段说明）bad input, field by field"),
    429: _error("登录失败次数过多 too many failed log-ins (log-in and token only)"),
}


class StateChange(Out):
    id: int
    state: str


def send(model: BaseModel) -> Response:
    """The model, already validated when it was built, as JSON. FastAPI would validate and
    serialise a returned model once more (in another thread-pool hop for a sync route); the
    busiest read routes send it themselves and declare ``response_model`` for the schema."""
    return Response(model.model_dump_json(), media_type="application/json")


__all__ = ["ERROR_RESPONSES", "ErrorResponse", "FieldErrorOut", "Labelled", "Link", "Option",
           "Out", "Page", "StateChange", "like_escaped", "one_of", "send", "sort_key"]
