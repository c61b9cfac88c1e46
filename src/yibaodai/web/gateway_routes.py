"""The national-style endpoints: the bureau's push and head office's loan status. They answer
HTTP 200 with the national response envelope (``infcode`` says success or why not), as the
national platform does; only the body size is checked before reading it whole. The
``Content-Type`` header and the sender's address go to the gateway with the body."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from yibaodai.web.deps import Ctx

router = APIRouter(tags=["gateway"])


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return b"x" * (limit + 1)  # the gateway refuses it as too large
        chunks.append(chunk)
    return b"".join(chunks)


def _source(request: Request) -> str | None:
    """The sender's address (what bounds the quarantine of anonymous refusals)."""
    return request.client.host if request.client is not None else None


@router.post("/fsi/api/bank/callService")
async def bureau_call_service(request: Request, ctx: Ctx) -> JSONResponse:
    assert ctx.bureau_gateway is not None
    body = await _read_limited(request, ctx.settings.max_body_bytes)
    answer = await run_in_threadpool(ctx.bureau_gateway.handle, body,
                                     content_type=request.headers.get("content-type"),
                                     source=_source(request))
    return JSONResponse(answer.envelope)


@router.post("/fsi/api/bank/headoffice/callService")
async def head_office_call_service(request: Request, ctx: Ctx) -> JSONResponse:
    assert ctx.head_office_gateway is not None
    body = await _read_limited(request, ctx.settings.max_body_bytes)
    answer = await run_in_threadpool(ctx.head_office_gateway.handle, body,
                                     content_type=request.headers.get("content-type"),
                                     source=_source(request))
    return JSONResponse(answer.envelope)
