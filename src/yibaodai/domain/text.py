"""The text rule of every message the bank receives (issue 14): which characters no field of
a bureau or head-office message may carry, keys included, envelope included.

The rule is one character class, built once from the Unicode database rather than listed by
hand, so that no kind is forgotten:

- ``Cc`` control characters (C0, DEL, C1; tab and line breaks too: no field of the interface
  is multi-line text, and a line break in a name forges log and export lines);
- ``Cf`` format characters: zero-width spaces and joiners, soft hyphens, byte-order marks and
  the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
  make text display in another order than it is stored ("Trojan Source");
- ``Zl``/``Zp`` line and paragraph separators (U+2028, U+2029);
- ``Cs`` lone surrogates (no encoding can store them);
- noncharacters (U+FDD0-U+FDEF and the last two code points of every plane).

Pure: no I/O, no clock."""

from __future__ import annotations

import re
import unicodedata

#: Bidirectional embeddings, overrides and isolates (a subset of ``Cf``, named first).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
NONCHARACTERS = frozenset([chr(c) for c in range(0xFDD0, 0xFDF0)]
                          + [chr(plane * 0x10000 + low) for plane in range(17)
                             for low in (0xFFFE, 0xFFFF)])


_CATEGORIES = {"Cc": "control_character", "Cf": "format_character", "Zl": "line_separator",
               "Zp": "line_separator", "Cs": "lone_surrogate"}


def _kind(ch: str) -> str | None:
    if ch in BIDI_CONTROLS:
        return "bidi_control"
    if ch in NONCHARACTERS:
        return "noncharacter"
    return _CATEGORIES.get(unicodedata.category(ch))


#: Where the Unicode database has ``Cc``/``Cf``/``Zl``/``Zp`` characters (planes 0-2 and 14;
#: ``tests/unit/test_text_rule.py`` scans all 17 planes); surrogates and noncharacters are
#: added whole.
_SCANNED = (range(0x30000), range(0xE0000, 0xE1000))


def _ranges() -> str:
    """The hidden code points as a regex character class body (runs collapsed)."""
    category = unicodedata.category
    hidden = {cp for span in _SCANNED for cp in span if category(chr(cp)) in _CATEGORIES}
    hidden |= set(range(0xD800, 0xE000)) | {ord(ch) for ch in NONCHARACTERS}
    parts: list[str] = []
    start = prev = -2
    for cp in sorted(hidden):
        if cp != prev + 1:
            if start >= 0:
                parts.append(_run(start, prev))
            start = cp
        prev = cp
    parts.append(_run(start, prev))
    return "".join(parts)


def _run(first: int, last: int) -> str:
    return f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"


#: Any character the rule refuses.
HIDDEN_RE = re.compile(f"[{_ranges()}]")

#: Why, in both languages, for each kind.
KIND_TEXT: dict[str, tuple[str, str]] = {
    "control_character": ("含控制字符", "contains a control character"),
    "format_character": ("含不可见的格式字符（如零宽字符）",
                         "contains an invisible format character (e.g. zero-width)"),
    "bidi_control": ("含文字方向控制字符", "contains a bidirectional control character"),
    "line_separator": ("含行或段落分隔符", "contains a line or paragraph separator"),
    "lone_surrogate": ("含孤立代理项（无法编码）", "contains a lone surrogate"),
    "noncharacter": ("含 Unicode 非字符", "contains a Unicode noncharacter"),
}


def hidden_character(text: str) -> str | None:
    """The kind of the first character of ``text`` the rule refuses (a key of
    :data:`KIND_TEXT`), or None when every character may be stored and shown."""
    found = HIDDEN_RE.search(text)
    return None if found is None else _kind(found.group())


__all__ = ["BIDI_CONTROLS", "HIDDEN_RE", "KIND_TEXT", "NONCHARACTERS", "hidden_character"]
