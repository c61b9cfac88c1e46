"""The JSON API, one router per area. Each router carries ``deps.authorize`` (the one
permission check, table in ``web/permissions.py``) and the shared error responses."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from yibaodai.web.deps import authorize
from yibaodai.web.schemas import ERROR_RESPONSES


def api_router(tag: str) -> APIRouter:
    return APIRouter(prefix="/api", tags=[tag], responses=ERROR_RESPONSES,
                     dependencies=[Depends(authorize)])
