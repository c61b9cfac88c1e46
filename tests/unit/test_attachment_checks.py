"""What an attachment is judged by: its bytes (never its name or the browser's word), its
name cleaned of paths and control characters, the checklist item it belongs to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.cases.attachments import (
    ALLOWED_TYPES,
    MAX_ATTACHMENT_BYTES,
    _check,
    clean_filename,
    detected_type,
)
from yibaodai.errors import ValidationFailed

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 40
ZIP = b"PK\x03\x04" + b"\x00" * 40  # an .xlsx or a .docx
EXE = b"MZ\x90\x00" + b"\x00" * 40


@pytest.mark.parametrize(("data", "kind"), [(PNG, "image/png"), (JPEG, "image/jpeg"),
                                            (PDF, "application/pdf")])
def test_the_allowed_types_are_read_from_their_signatures(data: bytes, kind: str) -> None:
    assert detected_type(data) == kind


@pytest.mark.parametrize("data", [ZIP, EXE, b"<html><script>alert(1)</script>", b"hello"])
def test_other_content_is_no_allowed_type(data: bytes) -> None:
    assert detected_type(data) is None


@given(st.binary(max_size=200))
def test_any_bytes_are_an_allowed_type_or_none(data: bytes) -> None:
    assert detected_type(data) in (None, *ALLOWED_TYPES)


@given(st.text(max_size=300))
def test_a_cleaned_name_has_no_path_and_no_control_characters_or_is_refused(name: str) -> None:
    try:
        clean = clean_filename(name)
    except ValidationFailed as exc:
        assert exc.fields[0].field == "filename"
        return
    assert clean and "/" not in clean and "\\" not in clean and len(clean) <= 255
    assert all(ord(ch) >= 32 and ch not in "\x7f" for ch in clean)


def test_a_path_in_the_name_is_dropped() -> None:
    assert clean_filename("../../etc/执照.png") == "执照.png"
    assert clean_filename("C:\\Users\\王\\执照.png") == "执照.png"
    assert clean_filename("执照\u202e gnp.exe") == "执照 gnp.exe"  # no right-to-left override


@pytest.mark.parametrize(("data", "name", "code"), [
    (PNG, "执照.pdf", "file_type_mismatch"),
    (PDF, "对账单", "file_type_mismatch"),
    (ZIP, "名单.pdf", "file_type"),
    (b"", "执照.png", "file_empty"),
    (PDF + b"0" * MAX_ATTACHMENT_BYTES, "大.pdf", "file_too_large"),
])
def test_refusals_name_their_field(data: bytes, name: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _check(data, name, None)
    assert caught.value.code == code
    assert caught.value.fields[0].field in ("file", "filename")


def test_a_jpeg_may_be_named_jpg_or_jpeg_in_any_case() -> None:
    for name in ("照片.jpg", "照片.JPEG", "照片.Jpg"):
        assert _check(JPEG, name, "licence") == (name, "image/jpeg")
    with pytest.raises(ValidationFailed) as caught:
        _check(JPEG, "照片.jpg", "nonsense")
    assert caught.value.code == "unknown_item"
