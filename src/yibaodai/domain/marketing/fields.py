"""Parsers for the cells of the bureau's institution list: text, phone numbers, dates, USCCs,
institution codes, districts, institution kinds and coordinates.

Real lists are typed by hand in many offices, so every parser takes hostile input (full-width
characters, stray spaces, numbers stored as floats, dates as text or as Excel serial numbers)
and answers either a clean value or a bilingual problem; none of them raises on any input.
Everything is first put through Unicode NFKC, which folds full-width letters, digits, brackets
and the ideographic space into their ASCII forms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final

from yibaodai.domain.codes import (
    DALIAN_DISTRICTS,
    validate_institution_code,
    validate_uscc,
)
from yibaodai.errors import ValidationFailed

CellValue = str | int | float | date | datetime | None
"""What a spreadsheet cell can hold once read (openpyxl gives datetimes for date cells)."""

#: The city's telephone area code, assumed for a local number written without one.
CITY_AREA_CODE: Final = "0411"


@dataclass(frozen=True)
class Problem:
    """Why a cell was not accepted, for the import report (Chinese first)."""

    code: str
    message_zh: str
    message_en: str

    @property
    def text(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


def cell_text(value: CellValue) -> str:
    """A cell as clean text: NFKC, whitespace collapsed, spaces between Chinese characters
    removed ("大连 康宁 大药房" is one name). Whole floats lose their ".0" (numbers typed into
    Excel come back as floats), dates become ISO dates."""
    if value is None:
        return ""
    if type(value) is str:  # most cells, and every text parsed again by the parsers below
        return _clean(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        value = int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        value = value.date()
    return _clean(value.isoformat() if isinstance(value, date) else str(value))


def _clean(text: str) -> str:
    if text.isascii():  # ASCII is its own NFKC form and has no Chinese characters
        return " ".join(text.split())
    return _clean_unicode(text)


@lru_cache(maxsize=1 << 16)
def _clean_unicode(text: str) -> str:
    """Cached: the parsers clean again what ``cell_text`` already cleaned (a name is read as
    text, then as a kind, ...), and a list repeats its districts, kinds and dates."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return _CJK_GAP.sub("", text)


def compact(value: CellValue) -> str:
    """``cell_text`` without any space: the form used to compare codes and column names."""
    return cell_text(value).replace(" ", "")


# ---------------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------------

_PHONE_SPLIT = re.compile(r"[/,;|、，；\n]|或")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)", re.IGNORECASE)
_PHONE_LABEL = re.compile(r"(?:tel|电话|手机|座机|固话|办公)[:：]?", re.IGNORECASE)


def _digits(text: str) -> str:
    return "".join(c for c in text if "0" <= c <= "9")


def _strip_country(d: str) -> str:
    """Drop China's country code. A domestic number never has 12+ digits starting with 86, so
    such a number is international; there the area code has lost its trunk 0 (+86 411 ...)."""
    if d.startswith("0086"):
        d = "86" + d[4:]
    if not (d.startswith("86") and len(d) >= 12):
        return d
    rest = d[2:]
    if rest.startswith("0") or (len(rest) == 11 and rest[0] == "1" and rest[1] in "3456789"):
        return rest
    return "0" + rest


def _area_length(d: str) -> int:
    """China's area codes: 010 and 02x have three digits, all others four."""
    return 3 if d[1] in "12" else 4


def _one_phone(d: str) -> str | None:
    """A canonical number from its digits, or None: mobile ``13812345678``, landline
    ``0411-82345678`` (a local number gets the city's area code)."""
    d = _strip_country(d)
    if len(d) == 11 and d[0] == "1" and d[1] in "3456789":
        return d
    if d.startswith("0") and len(d) >= 10:
        cut = _area_length(d)
        local = d[cut:]
        if len(local) in (7, 8) and local[0] not in "01":
            return f"{d[:cut]}-{local}"
        return None
    if len(d) in (7, 8) and d[0] not in "01":
        return f"{CITY_AREA_CODE}-{d}"
    return None


def _chunk_phones(chunk: str) -> list[str] | None:
    """The numbers in one chunk (no list separators in it), or None if it does not parse."""
    parts = _EXTENSION.split(chunk, maxsplit=1)
    if len(parts) == 2:
        main, ext = _one_phone(_digits(parts[0])), _digits(parts[1])
        if main and "-" in main and 1 <= len(ext) <= 6:
            return [f"{main}-{ext}"]
        return None
    groups = [g for g in re.split(r"[-\s()]+", chunk) if g]
    if len(groups) == 3 and all(g.isascii() and g.isdigit() for g in groups):
        main = _one_phone(groups[0] + groups[1])
        if main and "-" in main and len(groups[2]) <= 6 and len(groups[0]) <= 4:
            return [f"{main}-{groups[2]}"]  # 0411-82345678-801: an extension
    whole = _one_phone(_digits(chunk))
    if whole:
        return [whole]
    # several numbers separated only by spaces: take pieces greedily
    found: list[str] = []
    pending = ""
    for piece in chunk.split(" "):
        pending += _digits(piece)
        number = _one_phone(pending) if len(pending) >= 7 else None
        if number and not (len(pending) < 11 and pending.startswith(("1", "0"))):
            found.append(number)
            pending = ""
    return found if found and not pending else None


@dataclass(frozen=True)
class PhoneParse:
    phones: tuple[str, ...]
    unreadable: tuple[str, ...]


def parse_phones(value: CellValue) -> PhoneParse:
    """Every phone number in a cell, canonical and de-duplicated in order, and the pieces that
    could not be read. Accepts +86/0086, brackets, hyphens, spaces, full-width digits,
    extensions (转801, ext 801, 0411-82345678-801) and several numbers per cell."""
    text = _PHONE_LABEL.sub(" ", cell_text(value))
    phones: list[str] = []
    bad: list[str] = []
    for raw in _PHONE_SPLIT.split(text):
        chunk = raw.strip().replace("+", "")
        if not chunk:
            continue
        got = _chunk_phones(chunk)
        if got is None:
            bad.append(raw.strip())
            continue
        phones.extend(p for p in got if p not in phones)
    return PhoneParse(tuple(phones), tuple(bad))


def tel_uri(phone: str) -> str:
    """The ``tel:`` link of a canonical number (RFC 3966: +86, area code without its 0,
    extension after a comma pause)."""
    parts = phone.split("-")
    if len(parts) == 1:
        return f"tel:+86{parts[0]}"
    uri = f"tel:+86{parts[0][1:]}{parts[1]}"
    return uri + (f",{parts[2]}" if len(parts) == 3 else "")


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

EARLIEST: Final = date(1950, 1, 1)
LATEST: Final = date(2100, 12, 31)
_EXCEL_EPOCH: Final = date(1899, 12, 30)  # serial 1 = 1900-01-01 (after the 1900 leap bug)
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T ]?\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _bad_date(text: str) -> Problem:
    return Problem("invalid_date",
                   f"日期“{text}”无法识别（应为如2024年3月1日、2024/3/1、20240301）",
                   f"date {text!r} is not readable (expected e.g. 2024-03-01, 2024/3/1, 20240301)")


def _checked(y: int, m: int, d: int, text: str) -> date | Problem:
    try:
        day = date(y, m, d)
    except ValueError:
        return _bad_date(text)
    if not EARLIEST <= day <= LATEST:
        return Problem("date_out_of_range", f"日期“{text}”不在1950年至2100年之间",
                       f"date {text!r} is outside 1950-2100")
    return day


def excel_serial_date(serial: float) -> date | None:
    """The date of an Excel (1900 system) serial number, or None outside 1950-2100."""
    if serial != serial or not 18264 <= serial <= 73415:  # 1950-01-01 .. 2100-12-31
        return None
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: CellValue) -> date | Problem | None:
    """A date from a cell: an Excel date, an Excel serial number, ``20240301`` (number or
    text), or text like 2024年3月1日, 2024-3-1, 2024/03/01, 2024.3.1 (a time after it is
    ignored). None for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _checked(value.year, value.month, value.day, value.isoformat())
    if isinstance(value, date):
        return _checked(value.year, value.month, value.day, value.isoformat())
    text = cell_text(value)
    if not text:
        return None
    if m := _DATE_DIGITS.match(text):
        return _checked(int(m[1]), int(m[2]), int(m[3]), text)
    if m := _DATE_TEXT.match(text):
        return _checked(int(m[1]), int(m[2]), int(m[3]), text)
    if isinstance(value, int | float) or re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        serial = excel_serial_date(float(text))
        if serial is not None:
            return serial
    return _bad_date(text)


# ---------------------------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------------------------


def _code_problem(exc: ValidationFailed) -> Problem:
    return Problem(exc.code, exc.message_zh, exc.message_en)


def parse_uscc(value: CellValue) -> str | Problem | None:
    """A valid USCC (spaces and hyphens dropped, lower case raised, full-width folded), a
    problem saying which rule it breaks (length, character, area code, check character), or
    None for an empty cell. Look-alike letters (O for 0, I for 1) are not corrected: a guess
    could produce someone else's valid code."""
    text = compact(value).replace("-", "").upper()
    if not text:
        return None
    try:
        return validate_uscc(text)
    except ValidationFailed as exc:
        return _code_problem(exc)


def parse_institution_code(value: CellValue) -> str | Problem | None:
    """A well-formed ``fixmedins_code`` (one letter and 11 digits), a problem, or None."""
    text = compact(value).replace("-", "").upper()
    if not text:
        return None
    try:
        return validate_institution_code(text)
    except ValidationFailed as exc:
        return _code_problem(exc)


# ---------------------------------------------------------------------------------------------
# Districts, kinds, coordinates
# ---------------------------------------------------------------------------------------------

_DISTRICT_BY_NAME: Final[dict[str, str]] = {zh: code for code, (zh, _) in DALIAN_DISTRICTS.items()}
_DISTRICT_SHORT: Final[dict[str, str]] = {
    zh[:-1]: code for code, (zh, _) in DALIAN_DISTRICTS.items()}
_DISTRICT_ALIASES: Final[dict[str, str]] = {
    "金州新区": "210213", "金普新区": "210213", "大连开发区": "210213", "开发区": "210213",
    "高新区": "210211", "高新园区": "210211", "旅顺": "210212", "普兰店": "210214",
    "瓦房店": "210281", "庄河": "210283", "长海": "210224",
}
_OTHER_CITY = re.compile(r"(?:省|^)([\u4e00-\u9fff]{2,4}?市)")


def parse_district(value: CellValue) -> str | None:
    """The district code of a district cell: a code (210211), a full name (甘井子区), a short
    name (甘井子) or a common alias (金普新区). None when not recognised."""
    text = compact(value)
    if text in DALIAN_DISTRICTS:
        return text
    text = text.removeprefix("辽宁省").removeprefix("大连市")
    return (_DISTRICT_BY_NAME.get(text) or _DISTRICT_SHORT.get(text)
            or _DISTRICT_ALIASES.get(text))


def district_in_address(address: str) -> str | None:
    """The Dalian district named in an address (full names and the new-area aliases only:
    short forms like 中山 are also street names)."""
    found = [(address.find(name), code) for name, code in
             [*_DISTRICT_BY_NAME.items(), *(i for i in _DISTRICT_ALIASES.items() if len(i[0]) > 3)]
             if name in address]
    return min(found)[1] if found else None


def other_city_in_address(address: str) -> str | None:
    """A city other than Dalian named at the start of an address ("沈阳市..."), if any."""
    m = _OTHER_CITY.search(address)
    if m and m[1] not in ("大连市", "瓦房店市", "庄河市"):
        return m[1]
    return None


def parse_kind(value: CellValue, *, name: str) -> str | None:
    """``fixmedins_type``: "1" designated medical institution, "2" retail pharmacy, from the
    type cell (a code or words) or, when empty, from the institution's name."""
    text = compact(value)
    if text in ("1", "2"):
        return text
    for source in (text, name if not text else ""):
        if any(w in source for w in ("药店", "药房", "药堂", "医药", "零售")):
            return "2"
        if any(w in source for w in ("医院", "诊所", "门诊", "卫生", "医疗", "中医馆", "医务室")):
            return "1"
    return None


def parse_coordinate(value: CellValue, *, low: float, high: float) -> float | None:
    """A latitude or longitude within ``low``..``high`` (Dalian's box), else None."""
    try:
        number = float(compact(value).rstrip("°"))
    except ValueError:
        return None
    return number if low <= number <= high else None
