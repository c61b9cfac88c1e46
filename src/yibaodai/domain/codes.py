"""Identifier rules: USCC (GB 32100-2015), organisation code (GB 11714), the bureau's
institution code (``fixmedins_code``) and the Dalian area codes (GB/T 2260).

Pure functions, no I/O. Every check is done with explicit ASCII sets, never ``str.isdigit()``
or ``str.isupper()``: those accept full-width and other Unicode digits ("２１０２０２"), which
would slip through here and break joins and signatures further on.
"""

from __future__ import annotations

from typing import Final

from yibaodai.errors import FieldError, ValidationFailed

# ---------------------------------------------------------------------------------------------
# Character sets
# ---------------------------------------------------------------------------------------------

ASCII_DIGITS: Final = frozenset("0123456789")
ASCII_UPPER: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 symbols of GB 32100 (no I, O, S, V, Z: they are too easily confused)."""

_USCC_INDEX: Final[dict[str, int]] = {c: i for i, c in enumerate(USCC_ALPHABET)}

USCC_WEIGHTS: Final[tuple[int, ...]] = tuple(pow(3, i, 31) for i in range(17))
"""Weights 3^(i-1) mod 31 for positions 1..17: 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, ..."""

ORG_CODE_WEIGHTS: Final[tuple[int, ...]] = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_CHARS: Final = ASCII_DIGITS | ASCII_UPPER

USCC_LENGTH: Final = 18
INSTITUTION_CODE_LENGTH: Final = 12

# ---------------------------------------------------------------------------------------------
# Dalian area codes
# ---------------------------------------------------------------------------------------------

DALIAN_CITY: Final = "210200"

DALIAN_DISTRICTS: Final[dict[str, tuple[str, str]]] = {
    "210202": ("中山区", "Zhongshan District"),
    "210203": ("西岗区", "Xigang District"),
    "210204": ("沙河口区", "Shahekou District"),
    "210211": ("甘井子区", "Ganjingzi District"),
    "210212": ("旅顺口区", "Lüshunkou District"),
    "210213": ("金州区", "Jinzhou District"),
    "210214": ("普兰店区", "Pulandian District"),
    "210224": ("长海县", "Changhai County"),
    "210281": ("瓦房店市", "Wafangdian City"),
    "210283": ("庄河市", "Zhuanghe City"),
}
"""Area code -> (Chinese name, English name) for the ten districts/counties of Dalian."""


def _is_ascii_digits(value: str, length: int) -> bool:
    return len(value) == length and all(c in ASCII_DIGITS for c in value)


def _is_fullwidth(char: str) -> bool:
    """Full-width forms (U+FF01..U+FF5E) and the ideographic space: typical IME input mistakes."""
    return "\uff01" <= char <= "\uff5e" or char == "\u3000"


def _fail(code: str, field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        message_zh=zh,
        message_en=en,
        code=code,
        fields=[FieldError(field=field, message_zh=zh, message_en=en)],
    )


# ---------------------------------------------------------------------------------------------
# Organisation code (GB 11714) and USCC (GB 32100)
# ---------------------------------------------------------------------------------------------


def org_code_check_char(first8: str) -> str:
    """Check character of a GB 11714 organisation code body (8 ASCII digits/uppercase letters).

    Digits count by value, letters as ``ord - 55`` (A=10 ... Z=35); check = 11 - sum mod 11,
    with 10 -> 'X' and 11 -> '0'.
    """
    if len(first8) != 8 or any(c not in _ORG_CODE_CHARS for c in first8):
        raise ValueError(f"organisation code body must be 8 ASCII digits/letters: {first8!r}")
    total = sum(
        (int(c) if c in ASCII_DIGITS else ord(c) - 55) * w
        for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def uscc_check_char(first17: str) -> str:
    """Check character (position 18) of a USCC from its first 17 characters."""
    if len(first17) != 17 or any(c not in _USCC_INDEX for c in first17):
        raise ValueError(f"USCC body must be 17 characters of the USCC alphabet: {first17!r}")
    total = sum(_USCC_INDEX[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _uscc_problem(value: str) -> tuple[str, str] | None:
    """The first rule ``value`` breaks as (Chinese, English), or None when it is a valid USCC."""
    if len(value) != USCC_LENGTH:
        return (
            f"统一社会信用代码应为18位，实际为{len(value)}位",
            f"USCC must be 18 characters long, got {len(value)}",
        )
    for pos, char in enumerate(value, start=1):
        if char in _USCC_INDEX:
            continue
        if _is_fullwidth(char):
            return (
                f"统一社会信用代码第{pos}位“{char}”是全角字符，请使用半角字母或数字",
                f"USCC position {pos} {char!r} is a full-width character; use ASCII",
            )
        return (
            f"统一社会信用代码第{pos}位“{char}”不是允许的字符（数字及不含I、O、S、V、Z的大写字母）",
            f"USCC position {pos} {char!r} is not allowed "
            "(digits and uppercase letters except I, O, S, V, Z)",
        )
    if not _is_ascii_digits(value[2:8], 6):
        return (
            "统一社会信用代码第3至8位应为6位数字的行政区划代码",
            "USCC positions 3-8 must be a 6-digit area code",
        )
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        return (
            f"统一社会信用代码校验位错误：第18位应为“{expected}”，实际为“{value[17]}”",
            f"USCC check character is wrong: position 18 should be {expected!r}, got {value[17]!r}",
        )
    return None


def is_valid_uscc(value: str) -> bool:
    """True for an 18-character USCC with a 6-digit area code and a correct check character."""
    return isinstance(value, str) and _uscc_problem(value) is None


def validate_uscc(value: object, *, field: str = "uscc") -> str:
    """Return ``value`` if it is a valid USCC, else raise ``ValidationFailed(code="invalid_uscc")``
    with a field error saying which rule it broke (length, character, area code, check)."""
    if not isinstance(value, str):
        raise _fail(
            "invalid_uscc",
            field,
            "统一社会信用代码必须是字符串",
            f"USCC must be a string, got {type(value).__name__}",
        )
    problem = _uscc_problem(value)
    if problem is not None:
        raise _fail("invalid_uscc", field, problem[0], problem[1])
    return value


def make_uscc(*, area_code: str, org_body8: str, registering: str = "9", entity: str = "1") -> str:
    """Build a valid USCC: registering authority, entity type, area code, the organisation code
    (``org_body8`` plus its GB 11714 check character) and the USCC check character.

    Used by the synthetic city and by tests; raises ``ValueError`` on impossible inputs.
    """
    if not _is_ascii_digits(area_code, 6):
        raise ValueError(f"area code must be 6 ASCII digits: {area_code!r}")
    if len(registering) != 1 or registering not in _USCC_INDEX:
        raise ValueError(f"registering authority must be one USCC character: {registering!r}")
    if len(entity) != 1 or entity not in _USCC_INDEX:
        raise ValueError(f"entity type must be one USCC character: {entity!r}")
    if len(org_body8) != 8 or any(c not in _USCC_INDEX for c in org_body8):
        raise ValueError(f"organisation body must be 8 USCC-alphabet characters: {org_body8!r}")
    first17 = registering + entity + area_code + org_body8 + org_code_check_char(org_body8)
    return first17 + uscc_check_char(first17)


# ---------------------------------------------------------------------------------------------
# Institution code (fixmedins_code)
# ---------------------------------------------------------------------------------------------


def _institution_code_problem(value: str) -> tuple[str, str] | None:
    if len(value) != INSTITUTION_CODE_LENGTH:
        return (
            f"定点医药机构编号应为12位，实际为{len(value)}位",
            f"institution code must be 12 characters long, got {len(value)}",
        )
    if value[0] not in ASCII_UPPER:
        hint_zh = "（全角字符）" if _is_fullwidth(value[0]) else ""
        return (
            f"定点医药机构编号第1位应为半角大写字母{hint_zh}，实际为“{value[0]}”",
            f"institution code must start with an ASCII uppercase letter, got {value[0]!r}",
        )
    for pos, char in enumerate(value[1:], start=2):
        if char not in ASCII_DIGITS:
            hint_zh = "（全角字符）" if _is_fullwidth(char) else ""
            return (
                f"定点医药机构编号第{pos}位应为半角数字{hint_zh}，实际为“{char}”",
                f"institution code position {pos} must be an ASCII digit, got {char!r}",
            )
    return None


def is_valid_institution_code(value: str) -> bool:
    """True for one ASCII uppercase letter followed by 11 ASCII digits (any letter is allowed:
    bureaus use several)."""
    return isinstance(value, str) and _institution_code_problem(value) is None


def validate_institution_code(value: object, *, field: str = "fixmedins_code") -> str:
    """Return ``value`` if it is a well-formed institution code, else raise
    ``ValidationFailed(code="invalid_institution_code")``."""
    if not isinstance(value, str):
        raise _fail(
            "invalid_institution_code",
            field,
            "定点医药机构编号必须是字符串",
            f"institution code must be a string, got {type(value).__name__}",
        )
    problem = _institution_code_problem(value)
    if problem is not None:
        raise _fail("invalid_institution_code", field, problem[0], problem[1])
    return value


def institution_code_area(code: str) -> str:
    """The 6-digit area code embedded at positions 2-7 of an institution code."""
    if not is_valid_institution_code(code):
        raise ValueError(f"not a valid institution code: {code!r}")
    return code[1:7]


def make_institution_code(*, letter: str, area_code: str, seq: int) -> str:
    """Build ``letter + area_code + 5-digit seq`` (e.g. H + 210202 + 00255)."""
    if len(letter) != 1 or letter not in ASCII_UPPER:
        raise ValueError(f"letter must be one ASCII uppercase letter: {letter!r}")
    if not _is_ascii_digits(area_code, 6):
        raise ValueError(f"area code must be 6 ASCII digits: {area_code!r}")
    if not 0 <= seq <= 99_999:
        raise ValueError(f"sequence must be 0..99999: {seq}")
    return f"{letter}{area_code}{seq:05d}"


# ---------------------------------------------------------------------------------------------
# Area codes
# ---------------------------------------------------------------------------------------------


def is_known_area_code(code: str) -> bool:
    """True for the Dalian city code and its ten district/county codes."""
    return isinstance(code, str) and (code == DALIAN_CITY or code in DALIAN_DISTRICTS)


def validate_area_code(value: object, *, field: str) -> str:
    """Return ``value`` if it is a known Dalian area code, else raise
    ``ValidationFailed(code="invalid_area_code")`` saying whether format or code is wrong."""
    if not isinstance(value, str):
        raise _fail(
            "invalid_area_code",
            field,
            "行政区划代码必须是字符串",
            f"area code must be a string, got {type(value).__name__}",
        )
    if not _is_ascii_digits(value, 6):
        fullwidth = any(_is_fullwidth(c) for c in value)
        raise _fail(
            "invalid_area_code",
            field,
            "行政区划代码应为6位半角数字" + ("（含全角字符）" if fullwidth else ""),
            "area code must be 6 ASCII digits"
            + (" (contains full-width characters)" if fullwidth else ""),
        )
    if not is_known_area_code(value):
        raise _fail(
            "invalid_area_code",
            field,
            f"行政区划代码“{value}”不是大连市或其所辖区县的代码",
            f"area code {value!r} is not Dalian city or one of its districts",
        )
    return value
