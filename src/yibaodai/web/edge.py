"""Rules every API request meets before any route sees it (issue 14, "treat each class as a
rule to apply everywhere"): record ids in a path or a query string are integers a
database column can hold, and no text in a JSON body — keys included — carries characters
that no one can read or that a database cannot store. One app-wide dependency applies them,
so a route added later is covered without remembering to be.

Field-level rules that depend on the meaning of a field (a reason must say something) are the
types :data:`VisibleText` and :data:`RecordId` beside the request models."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

#: The largest record id: ids are ``Integer`` columns, 32-bit on PostgreSQL (``integer``),
#: the narrower engine (an id past it reached PostgreSQL and answered 500: schemathesis).
MAX_RECORD_ID = 2**31 - 1
#: The largest integer any column holds (a signed 64-bit integer: SQLite's INTEGER,
#: PostgreSQL's BIGINT); past it SQLite's driver raised OverflowError, a 500.
MAX_INTEGER = 2**63 - 1
#: Bidirectional embeddings, overrides and isolates: text that displays in another order than
#: it is stored (Trojan Source); never needed in the bank's data entry.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Line breaks and tabs are allowed in notes; every other control character is refused.
ALLOWED_CONTROLS = frozenset("\t\n\r")


def unreadable(text: str) -> str | None:
    """Why ``text`` may not be stored (None when it may): a lone surrogate (no encoding can
    store it), a control character, or a bidirectional override."""
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cs":
            return "lone_surrogate"
        if category == "Cc" and ch not in ALLOWED_CONTROLS:
            return "control_character"
        if ch in BIDI_CONTROLS:
            return "bidi_control"
    return None


_WHY = {
    "lone_surrogate": ("含有无法存储的字符（孤立代理项）", "contains a lone surrogate"),
    "control_character": ("含有控制字符", "contains a control character"),
    "bidi_control": ("含有文字方向控制字符", "contains a bidirectional control character"),
}


def _strings(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...],
                                                                         str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            # the key as a field name the answer can carry (a lone surrogate escaped)
            shown = str(k).encode("utf-8", "backslashreplace").decode("utf-8")
            yield (*loc, shown), str(k)
            yield from _strings(v, (*loc, shown))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*loc, i))


def _error(loc: tuple[str | int, ...], kind: str, message: str) -> dict[str, Any]:
    return {"loc": loc, "type": kind, "msg": message, "input": None}


def _ids(where: str, params: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Ids (``id``, ``…_id``) must be 1…2³¹−1; any other integer must fit a 64-bit column."""
    errors = []
    for name, raw in params:
        try:
            value = int(str(raw))
        except ValueError:
            continue  # the route's own int parsing answers it
        if name == "id" or name.endswith("_id"):
            if not 1 <= value <= MAX_RECORD_ID:
                errors.append(_error((where, name), "record_id_range",
                                     f"must be a record id between 1 and {MAX_RECORD_ID}"))
        elif abs(value) > MAX_INTEGER:
            errors.append(_error((where, name), "integer_range",
                                 f"must be an integer within ±{MAX_INTEGER}"))
    return errors


def _integers(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...],
                                                                          int]]:
    """Every integer in a parsed JSON body, with the key it stands under (bools left out)."""
    if isinstance(value, int) and not isinstance(value, bool):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _integers(v, (*loc, str(k).encode("utf-8", "backslashreplace")
                                     .decode("utf-8")))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _integers(v, (*loc, i))


def _body_integer(loc: tuple[str | int, ...], value: int) -> dict[str, Any] | None:
    """An integer of a JSON body out of its range: an id (``id``, ``…_id``) 1…2³¹−1, any
    other integer within 64 bits; None when it is in range."""
    name = str(loc[-1])
    if name == "id" or name.endswith("_id"):
        if not 1 <= value <= MAX_RECORD_ID:
            return _error(loc, "record_id_range",
                          f"must be a record id between 1 and {MAX_RECORD_ID}")
    elif abs(value) > MAX_INTEGER:
        return _error(loc, "integer_range", f"must be an integer within ±{MAX_INTEGER}")
    return None


def _path_ids(request: Request) -> list[dict[str, Any]]:
    """Record ids in the path and in the query string (``?case_id=``: a filter by id is an
    id too, and reached the database the same way)."""
    return (_ids("path", request.path_params.items())
            + _ids("query", request.query_params.multi_items()))


async def edge_rules(request: Request) -> None:
    """The app-wide dependency: 422 with the field named, before the route runs."""
    errors = _path_ids(request)
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and \
            request.headers.get("content-type", "").startswith("application/json"):
        raw = await request.body()  # cached by Starlette: the route reads the same bytes
        try:
            body = json.loads(raw) if raw else None
            for loc, text in _strings(body, ("body",)):
                why = unreadable(text)
                if why is not None:
                    errors.append(_error(loc, why, _WHY[why][1]))
                    break
            # an integer no column can hold (SQLite's driver raised OverflowError: a 500)
            wrong = (_body_integer(loc, n) for loc, n in _integers(body, ("body",)))
            errors += [e for e in wrong if e is not None][:1]
        except ValueError:
            pass  # malformed JSON: FastAPI's own parsing answers it
        except RecursionError:  # nested deeper than any request of ours
            errors.append(_error(("body",), "json_invalid", "JSON nested too deeply"))
    if errors:
        raise RequestValidationError(errors)


def _visible(text: str) -> str:
    trimmed = text.strip()
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in trimmed):
        raise PydanticCustomError("visible_text", "must contain visible characters")
    return trimmed


#: Free text that must say something: trimmed, with at least one letter, digit, punctuation
#: mark or symbol (three zero-width spaces are not a reason).
VisibleText = Annotated[str, AfterValidator(_visible)]
def _note(text: str) -> str:
    return _visible(text) if text.strip() else ""


#: Free text that may be left empty, but when given must say something (trimmed).
NoteText = Annotated[str, AfterValidator(_note)]
#: An id in a request body: a value a 64-bit integer column can hold.
RecordId = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]

MESSAGES_ZH = {key: zh for key, (zh, _en) in _WHY.items()} | {
    "record_id_range": "记录编号超出范围", "integer_range": "整数超出范围",
    "visible_text": "须包含可见文字",
    "bool_type": "应为 true 或 false"}


class BodyLimit:
    """ASGI middleware bounding every API request body *while it is read* (FastAPI reads a
    body whole before any dependency runs): JSON up to ``json_limit`` bytes, anything else
    (uploads) up to ``upload_limit``. A declared length over the limit is refused before a
    byte is read; a body that grows past it is cut off and answered 413, bilingual. The
    gateway's own endpoints keep their own limit (``gateway_routes``)."""

    def __init__(self, app: Any, *, json_limit: int, upload_limit: int) -> None:
        self.app, self.json_limit, self.upload_limit = app, json_limit, upload_limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        is_json = headers.get("content-type", "").startswith("application/json")
        limit = self.json_limit if is_json else self.upload_limit
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        state = {"received": 0, "over": False, "answered": False}

        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request" and not state["over"]:
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["over"] = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded(message: Any) -> None:
            if not state["over"]:
                await send(message)
            elif not state["answered"]:
                state["answered"] = True
                await _too_large(send, limit)

        await self.app(scope, counted, guarded)


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"code": "body_too_large",
                       "message_zh": f"请求体过大（上限 {limit} 字节）",
                       "message_en": f"the request body is too large (limit {limit} bytes)",
                       "fields": []}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
