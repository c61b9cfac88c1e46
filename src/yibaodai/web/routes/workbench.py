"""The model workbench in the platform (department managers and above): a version's
validation report (page and Excel), its monthly monitoring, and a draft built from an uploaded
development sample by the signed-in user. Reads are in the caller's data scope
(``reports.workbench``); governance stays with ``/models/{id}/actions``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from yibaodai.audit.log import record
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.modelkit.build import BuildParams
from yibaodai.modelkit.draft import build_draft
from yibaodai.modelkit.excel import write_workbook
from yibaodai.reports.models import ModelVersionDetail, version_detail
from yibaodai.reports.workbench import (
    MonitoringReport,
    ValidationPage,
    monitoring_report,
    validation_report,
    validation_sheets,
)
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.routes import api_router

router = api_router("model-workbench")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_SAMPLE = 20 * 1024 * 1024
Months = Annotated[int, Query(ge=1, le=24, description="calendar months up to now")]


class BuildOptions(BaseModel):
    """What the department manager chooses for a build (``modelkit.build.BuildParams``)."""

    base_id: int | None = Field(default=None, description="policy and limit rule from; "
                                "default: the active version")
    label: str | None = Field(default=None, min_length=1, max_length=40)
    pdo: float = Field(20.0, gt=0, le=200)
    base_score: float = Field(600.0, ge=100, le=2000)
    base_odds: float = Field(50.0, gt=0, le=1000)
    approval_rate: float = Field(0.85, gt=0, le=1)
    min_iv: float = Field(0.02, ge=0, le=1)
    submit: bool = False


def _bad_sample(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("开发样本文件有误", "the development sample file is not valid",
                            code="invalid_sample", fields=[FieldError("sample", zh, en)])


async def uploaded_sample(request: Request) -> bytes:
    """The raw CSV body, refused beside the field when empty, too large or not CSV."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("text/csv", "application/vnd.ms-excel"):
        raise _bad_sample(f"只接受 CSV 文件（收到 {media or '无类型'}）",
                          f"only CSV files (got {media or 'no content type'})")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_SAMPLE:
            raise _bad_sample("文件超过 20MB", "the file is larger than 20 MB")
    if not data:
        raise _bad_sample("文件为空", "the file is empty")
    return bytes(data)


@router.get("/models/{version_id}/validation")
def get_validation(version_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession,
                   months: Months = 3) -> ValidationPage:
    """The validation attached at export (development) and one run now on the live
    population of the last ``months`` in the caller's scope."""
    return validation_report(s, version_id=version_id, actor=actor, now=ctx.clock.now(),
                             months=months)


@router.get("/models/{version_id}/validation.xlsx", response_class=Response)
def get_validation_xlsx(version_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession,
                        months: Months = 3) -> Response:
    """The same report as an Excel workbook (``modelkit.excel``), audited as an export."""
    now = ctx.clock.now()
    page = validation_report(s, version_id=version_id, actor=actor, now=now, months=months)
    fd, name = tempfile.mkstemp(suffix=".xlsx", prefix="yb-validation-")
    os.close(fd)
    try:
        content = write_workbook(Path(name), validation_sheets(page)).read_bytes()
    finally:
        os.unlink(name)
    record(s, at=now, actor=actor.username, action="export",
           target=f"model_version:{version_id}",
           details={"list": "model-validation", "months": months})
    s.commit()
    filename = f"validation-{page.version.label}-{now:%Y%m%d-%H%M}.xlsx"
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@router.get("/models/{version_id}/monitoring")
def get_monitoring(version_id: int, actor: CurrentActor, ctx: Ctx, s: DbSession,
                   months: Months = 6) -> MonitoringReport:
    """Monthly PSI of the score and CSI per characteristic of the live population in scope
    against the version's development sample, with the 0.10 / 0.25 thresholds."""
    return monitoring_report(s, version_id=version_id, actor=actor, now=ctx.clock.now(),
                             months=months)


@router.post("/models/builds", openapi_extra={"requestBody": {"content": {
    "text/csv": {"schema": {"type": "string", "format": "binary"}}}, "required": True}})
def post_build(data: Annotated[bytes, Depends(uploaded_sample)],
               options: Annotated[BuildOptions, Query()], actor: CurrentActor, ctx: Ctx,
               s: DbSession) -> ModelVersionDetail:
    """Build a scorecard from the uploaded development sample (the CSV of
    ``yibaodai model sample``), validate it, and save it as a draft by the signed-in user
    (submitted too with ``submit``); its build and validation reports are attached."""
    params = BuildParams(pdo=options.pdo, base_score=options.base_score,
                         base_odds=options.base_odds, approval_rate=options.approval_rate,
                         min_iv=options.min_iv)
    vid = build_draft(s, data=data, params=params, username=actor.username,
                      now=ctx.clock.now(), base_id=options.base_id, label=options.label,
                      submit=options.submit)
    s.commit()
    return version_detail(s, vid, actor=actor)
