"""FastAPI application: the JSON API (one router per area, one permission table), the
national-style gateway endpoints, Swagger UI from the server's own files, and the front-end
(the built single-page app, with history fallback). Domain errors become HTTP statuses here
and only here; every error body has the same bilingual, field-level shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from yibaodai.auth.throttle import LoginThrottle
from yibaodai.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
    YibaodaiError,
)
from yibaodai.web import gateway_routes
from yibaodai.web.context import AppContext
from yibaodai.web.edge import MESSAGES_ZH as EDGE_MESSAGES_ZH
from yibaodai.web.edge import BodyLimit, edge_rules
from yibaodai.web.permissions import check_routes
from yibaodai.web.routes import (
    admin,
    attachments,
    auth,
    cases,
    dashboard,
    institutions,
    models,
    performance,
    sla,
    workbench,
)
from yibaodai.web.routes import marketing as marketing_routes
from yibaodai.web.routes import users as users_routes
from yibaodai.web.routes import warnings as warnings_routes

STATUS = {ValidationFailed: 422, NotFound: 404, PermissionDenied: 403, Conflict: 409,
          NotAuthenticated: 401, RateLimited: 429}
#: Where the front-end build lands (``make frontend``; not committed).
SPA = Path(__file__).parent / "static" / "app"
IMMUTABLE = "public, max-age=31536000, immutable"
API_ROUTERS = (auth.router, dashboard.router, cases.router, attachments.router,
               warnings_routes.router,
               institutions.router, models.router, performance.router, admin.router,
               users_routes.router, sla.router, marketing_routes.router,
               workbench.router)

#: pydantic error types in Chinese (the English is pydantic's own message).
MESSAGES_ZH = {
    "missing": "必填", "int_parsing": "应为整数", "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false", "date_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD", "string_too_long": "过长",
    "string_too_short": "过短", "greater_than_equal": "超出范围", "less_than_equal": "超出范围",
    "greater_than": "超出范围", "less_than": "超出范围", "literal_error": "取值无效",
    "enum": "取值无效", "string_pattern_mismatch": "格式不正确", "dict_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象", "json_invalid": "JSON 格式错误",
} | EDGE_MESSAGES_ZH


def _walk(routes: list[Any], prefix: str) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI keeps an included router as one entry
            out |= _walk(included.routes, prefix + route.include_context.prefix)
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                out.add((method, prefix + route.path))
    return out


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers, HEAD aside, mounts left out."""
    return _walk(list(app.routes), "")


def error_body(code: str, zh: str, en: str, fields: list[dict[str, str]] | None = None
               ) -> dict[str, Any]:
    return {"code": code, "message_zh": zh, "message_en": en, "fields": fields or []}


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _spa_file(path: str) -> Path | None:
    """The built file for ``path``, or the app's index.html (history fallback); None without
    a build. Never a file outside the build folder."""
    if not (SPA / "index.html").is_file():
        return None
    candidate = (SPA / path.lstrip("/")).resolve()
    if candidate.is_file() and SPA.resolve() in candidate.parents:
        return candidate
    return SPA / "index.html"


NO_BUILD = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>医保贷报表平台</title>
<body style="font-family:sans-serif;margin:4em"><h1>页面不存在 / Page not found</h1>
<p>前端尚未构建：请运行 <code>make frontend</code>。The front-end is not built: run
<code>make frontend</code>.</p><p><a href="/docs">API 文档 / API docs</a></p></body></html>"""


def create_app(ctx: AppContext) -> FastAPI:
    ctx.settings.check()
    app = FastAPI(title="医保贷 yibaodai", version="0.1.0", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, json_limit=ctx.settings.api_json_max_bytes,
                       upload_limit=ctx.settings.api_upload_max_bytes)
    app.state.ctx = ctx
    app.state.throttle = LoginThrottle(ctx.settings)
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_path), name="swagger")
    app.include_router(gateway_routes.router)
    for router in API_ROUTERS:  # the edge rules on every API route (``web.edge``)
        app.include_router(router, dependencies=[Depends(edge_rules)])

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="医保贷 API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.exception_handler(YibaodaiError)
    async def domain_error(request: Request, exc: YibaodaiError) -> Response:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return JSONResponse(exc.as_dict(), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = [{"field": _field_of(tuple(e["loc"])),
                   "message_zh": MESSAGES_ZH.get(str(e["type"]), "取值无效"),
                   "message_en": str(e["msg"])} for e in exc.errors()]
        return JSONResponse(error_body("invalid_request", "请求参数校验失败",
                                       "request validation failed", fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def not_routed(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if path.startswith("/api/") or path.startswith("/fsi/") or exc.status_code != 404 \
                or request.method not in ("GET", "HEAD"):
            if exc.status_code == 405:
                return JSONResponse(error_body("method_not_allowed", "不支持该请求方法",
                                               "method not allowed"), status_code=405)
            if exc.status_code == 400:
                # FastAPI's answer to a body it cannot decode at all (not UTF-8), raised
                # before any dependency runs: a field-level 422 like every bad body
                return JSONResponse(error_body(
                    "invalid_request", "请求参数校验失败", "request validation failed",
                    [{"field": "body", "message_zh": MESSAGES_ZH["json_invalid"],
                      "message_en": "the body is not UTF-8 JSON"}]), status_code=422)
            return JSONResponse(error_body("not_found", "接口不存在", "no such API route"),
                                status_code=exc.status_code)
        target = _spa_file(path)
        if target is None:
            return HTMLResponse(NO_BUILD, status_code=404)
        # built assets carry a content hash in their names; index.html must always be fresh
        cache = (IMMUTABLE if target.parent.name == "assets"
                 and target.parent.parent == SPA.resolve() else "no-cache")
        return FileResponse(target, headers={"Cache-Control": cache})

    check_routes(served_routes(app))
    return app
