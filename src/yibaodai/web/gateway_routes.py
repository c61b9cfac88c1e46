"""The national-style endpoints: the bureau's push and head office's loan status. They answer
HTTP 200 with the national response envelope (``infcode`` says success or why not), as the
national platform does; only the body size is checked before reading it whole."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from yibaodai.gateway.service import Gateway, GatewayAnswer
from yibaodai.web.deps import Ctx

router = APIRouter(tags=["gateway"])
log = structlog.get_logger(__name__)


def _handle(gateway: Gateway, body: bytes) -> GatewayAnswer:
    """The gateway's answer; while the database is away (a restart, a fail-over: the driver's
    operational and interface errors, not a constraint) a signed "resend later" (infcode
    1901) instead of a 500."""
    try:
        return gateway.handle(body)
    except (OperationalError, InterfaceError):
        log.exception("gateway.database_unavailable")
        return gateway.unavailable()


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return b"x" * (limit + 1)  # the gateway refuses it as too large
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/fsi/api/bank/callService")
async def bureau_call_service(request: Request, ctx: Ctx) -> JSONResponse:
    assert ctx.bureau_gateway is not None
    body = await _read_limited(request, ctx.settings.max_body_bytes)
    answer = await run_in_threadpool(_handle, ctx.bureau_gateway, body)
    return JSONResponse(answer.envelope)


@router.post("/fsi/api/bank/headoffice/callService")
async def head_office_call_service(request: Request, ctx: Ctx) -> JSONResponse:
    assert ctx.head_office_gateway is not None
    body = await _read_limited(request, ctx.settings.max_body_bytes)
    answer = await run_in_threadpool(_handle, ctx.head_office_gateway, body)
    return JSONResponse(answer.envelope)
