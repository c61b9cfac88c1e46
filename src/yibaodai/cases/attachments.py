"""Attachments on the verification checklist: what the client manager photographed or copied
on site (licence, bank statement, shop front), kept with the case.

Only the case's holder attaches, while the case is being verified or waits for sign-off;
everyone who may see the case lists and downloads them. The type is read from the bytes
(``puremagic``), never trusted from the name or the browser: a file whose bytes are not one
of the allowed types, or whose name says another type, is refused, and so is one over the
size limit. Every upload is a case event and an audit row; every download an audit row.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime
from typing import Any, Final

import puremagic
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.auth.roles import Actor
from yibaodai.cases.events import append_case_event
from yibaodai.cases.service import CHECKLIST, visible_case
from yibaodai.db.models import CaseAttachmentRow, CaseRow
from yibaodai.domain.case import CaseState
from yibaodai.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_CASE: Final = 30
#: The types a verification needs (photos and scans), each with the names it may carry.
ALLOWED_TYPES: Final = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
}
#: States in which the holder still adds evidence: during verification and before sign-off.
ATTACHABLE: Final = frozenset({CaseState.CLAIMED.value, CaseState.VERIFIED.value})
EVENT: Final = "attachment_added"


def _bad(field: str, zh: str, en: str, code: str) -> ValidationFailed:
    return ValidationFailed(zh, en, code=code, fields=[FieldError(field, zh, en)])


def too_large() -> ValidationFailed:
    mb = MAX_ATTACHMENT_BYTES // (1024 * 1024)
    return _bad("file", f"附件超过{mb}MB", f"the attachment is larger than {mb} MB",
                "file_too_large")


def detected_type(data: bytes) -> str | None:
    """The allowed type the bytes are, by their signature; None when they are none of them
    (puremagic raises ValueError on empty input and PureError on unknown content)."""
    if not data:
        return None
    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        if match.mime_type in ALLOWED_TYPES:
            return str(match.mime_type)
    return None


def clean_filename(filename: str) -> str:
    """The name as shown and sent back: NFKC, no path, no control characters."""
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise _bad("filename", "文件名无效", "the file name is not valid", "invalid_filename")
    return name[:255]


def _check(data: bytes, filename: str, item: str | None) -> tuple[str, str]:
    if item is not None and item not in CHECKLIST:
        raise _bad("item", "未知的核实项目", f"unknown checklist item {item!r}", "unknown_item")
    name = clean_filename(filename)
    if not data:
        raise _bad("file", "文件为空", "the file is empty", "file_empty")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise too_large()
    kind = detected_type(data)
    if kind is None:
        raise _bad("file", "只接受 JPG、PNG 或 PDF 文件（按文件内容判断）",
                   "only JPG, PNG or PDF files (judged by their content)", "file_type")
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if suffix not in ALLOWED_TYPES[kind]:
        raise _bad("filename", f"文件内容为{kind}，与文件名“{name}”不符",
                   f"the content is {kind}, which the name {name!r} does not say",
                   "file_type_mismatch")
    return name, kind


def attach_refusal(actor: Actor, case: CaseRow) -> PermissionDenied | Conflict | None:
    """Why ``actor`` may not attach to ``case`` now, or None (the page's upload asks too)."""
    if case.client_manager_id != actor.user_id:
        return PermissionDenied("只有案件当前的客户经理可以上传附件",
                                "only the case's current client manager may attach files",
                                code="not_holder")
    if case.state not in ATTACHABLE:
        return Conflict("当前状态不能上传附件", f"no attachments in state {case.state}",
                        code="invalid_transition")
    return None


def add_attachment(session: Session, *, actor: Actor, case_id: int, data: bytes,
                   filename: str, item: str | None, now: datetime) -> CaseAttachmentRow:
    """The holder attaches a file to the case's checklist (``item``, or the case as a whole)."""
    case = visible_case(session, actor, case_id)
    refused = attach_refusal(actor, case)
    if refused is not None:
        raise refused
    name, kind = _check(data, filename, item)
    count = len(session.scalars(select(CaseAttachmentRow.id).where(
        CaseAttachmentRow.case_id == case.id)).all())
    if count >= MAX_ATTACHMENTS_PER_CASE:
        raise Conflict(f"每个案件最多{MAX_ATTACHMENTS_PER_CASE}个附件",
                       f"at most {MAX_ATTACHMENTS_PER_CASE} attachments per case",
                       code="too_many_attachments")
    row = CaseAttachmentRow(case_id=case.id, item=item, filename=name, content_type=kind,
                            size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            uploaded_by=actor.user_id, uploaded_at=now, content=data)
    session.add(row)
    session.flush()
    details = _details(row)
    append_case_event(session, case_id=case.id, at=now, event=EVENT, from_state=case.state,
                      to_state=case.state, actor_id=actor.user_id, details=details)
    audit(session, at=now, actor=actor.username, action="case.attachment_added",
          target=f"case:{case.id}", details=details)
    return row


def _details(row: CaseAttachmentRow) -> dict[str, Any]:
    return {"attachment_id": row.id, "item": row.item, "filename": row.filename,
            "content_type": row.content_type, "size": row.size, "sha256": row.sha256}


def attachments_of(session: Session, case: CaseRow) -> list[CaseAttachmentRow]:
    """The case's attachments, oldest first (the bytes stay unloaded)."""
    return list(session.scalars(select(CaseAttachmentRow).where(
        CaseAttachmentRow.case_id == case.id).order_by(CaseAttachmentRow.id)))


def download(session: Session, *, actor: Actor, case_id: int, attachment_id: int,
             now: datetime) -> CaseAttachmentRow:
    """One attachment with its bytes, for whoever may see the case (audited)."""
    case = visible_case(session, actor, case_id)
    row = session.get(CaseAttachmentRow, attachment_id)
    if row is None or row.case_id != case.id:
        raise NotFound("附件不存在", "attachment not found", code="attachment_not_found")
    audit(session, at=now, actor=actor.username, action="case.attachment_downloaded",
          target=f"case:{case.id}", details=_details(row))
    return row

