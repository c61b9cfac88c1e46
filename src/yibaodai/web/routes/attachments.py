"""Attachments on a case's verification checklist: list, upload (the raw file as the body,
its name in ``?filename=``, as the marketing list upload: no multipart parser), download."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Query, Request
from starlette.responses import Response

from yibaodai.cases.attachments import (
    ALLOWED_TYPES,
    MAX_ATTACHMENT_BYTES,
    add_attachment,
    attachments_of,
    download,
    too_large,
)
from yibaodai.cases.service import visible_case
from yibaodai.db.models import CaseAttachmentRow, UserRow
from yibaodai.web.deps import Ctx, CurrentActor, DbSession
from yibaodai.web.routes import api_router
from yibaodai.web.schemas import Out

router = api_router("cases")


class AttachmentOut(Out):
    id: int
    item: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class AttachmentList(Out):
    items: list[AttachmentOut]
    max_bytes: int
    allowed_types: list[str]


def _out(s: DbSession, row: CaseAttachmentRow) -> AttachmentOut:
    user = s.get(UserRow, row.uploaded_by)
    return AttachmentOut(id=row.id, item=row.item, filename=row.filename,
                         content_type=row.content_type, size=row.size, sha256=row.sha256,
                         uploaded_by=user.display_name if user else str(row.uploaded_by),
                         uploaded_at=row.uploaded_at)


async def uploaded_file(request: Request) -> bytes:
    """The request body, cut off past the limit while it is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ATTACHMENT_BYTES:
        raise too_large()
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise too_large()
    return bytes(data)


Upload = Annotated[bytes, Depends(uploaded_file)]
FileName = Annotated[str, Query(min_length=1, max_length=255)]
Item = Annotated[str | None, Query(max_length=30)]


@router.get("/cases/{case_id}/attachments")
def list_attachments(case_id: int, actor: CurrentActor, s: DbSession) -> AttachmentList:
    """The case's attachments, oldest first, and what may be uploaded."""
    case = visible_case(s, actor, case_id)
    return AttachmentList(items=[_out(s, r) for r in attachments_of(s, case)],
                          max_bytes=MAX_ATTACHMENT_BYTES, allowed_types=sorted(ALLOWED_TYPES))


@router.post("/cases/{case_id}/attachments", openapi_extra={"requestBody": {"content": {
    kind: {"schema": {"type": "string", "format": "binary"}} for kind in ALLOWED_TYPES},
    "required": True}})
def post_attachment(case_id: int, data: Upload, filename: FileName, actor: CurrentActor,
                    ctx: Ctx, s: DbSession, item: Item = None) -> AttachmentOut:
    """The holder attaches a JPG, PNG or PDF (type judged by its bytes) to the checklist."""
    row = add_attachment(s, actor=actor, case_id=case_id, data=data, filename=filename,
                         item=item, now=ctx.clock.now())
    s.commit()
    return _out(s, row)


@router.get("/cases/{case_id}/attachments/{attachment_id}", response_class=Response)
def get_attachment(case_id: int, attachment_id: int, actor: CurrentActor, ctx: Ctx,
                   s: DbSession) -> Response:
    """The file itself, as uploaded (audited)."""
    row = download(s, actor=actor, case_id=case_id, attachment_id=attachment_id,
                   now=ctx.clock.now())
    content = row.content
    s.commit()
    return Response(content, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff", "X-Checksum-SHA256": row.sha256})
