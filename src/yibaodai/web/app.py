"""FastAPI application: JSON API, national-style gateway endpoints, report platform pages.
Domain errors become HTTP statuses here and only here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from yibaodai.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    YibaodaiError,
)
from yibaodai.web import api, data_quality, gateway_routes, pages
from yibaodai.web.context import AppContext
from yibaodai.web.deps import NotAuthenticated

STATUS = {ValidationFailed: 422, NotFound: 404, PermissionDenied: 403, Conflict: 409,
          NotAuthenticated: 401}


def create_app(ctx: AppContext) -> FastAPI:
    app = FastAPI(title="医保贷 yibaodai", version="0.1.0")
    app.state.ctx = ctx
    app.add_middleware(SessionMiddleware, secret_key=ctx.settings.secret_key.get_secret_value(),
                       session_cookie="yibaodai_session", same_site="strict",
                       https_only=not ctx.settings.demo_mode, max_age=8 * 3600)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")),
              name="static")
    app.include_router(gateway_routes.router)
    app.include_router(api.router)
    app.include_router(data_quality.router)
    app.include_router(pages.router)

    @app.exception_handler(YibaodaiError)
    async def domain_error(request: Request, exc: YibaodaiError) -> Response:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        if status == 401 and not request.url.path.startswith("/api/"):
            return RedirectResponse("/login", status_code=303)
        return JSONResponse(exc.as_dict(), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = [{"field": ".".join(str(p) for p in e["loc"]), "message_zh": "输入不合法",
                   "message_en": str(e["msg"])} for e in exc.errors()]
        return JSONResponse({"code": "invalid_request", "message_zh": "请求参数校验失败",
                             "message_en": "request validation failed", "fields": fields},
                            status_code=422)

    @app.get("/api/health", tags=["api"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
