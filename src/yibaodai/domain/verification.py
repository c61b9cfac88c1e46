"""The offline verification compared with the bureau's data (线下核实比对).

The client manager records, for each item of the checklist, the value found on site; each is
compared with the bureau's value (the stored institution profile). A difference is a
*mismatch*: the case may still be verified, but it cannot be confirmed for head office until a
department manager overrides the mismatches with a reason (``cases.service``).

Comparison is on a normal form, so spelling that does not change the fact is no mismatch:
Unicode NFKC (full-width digits and letters to half-width), whitespace removed, letters
upper-cased; dates as ISO ``YYYY-MM-DD``. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: field -> (checklist item, label zh, label en)
FIELDS: dict[str, tuple[str, str, str]] = {
    "uscc": ("identity", "统一社会信用代码", "USCC"),
    "name": ("identity", "机构名称", "name"),
    "legal_representative": ("identity", "法定代表人", "legal representative"),
    "licence_expiry": ("licence", "许可证/定点协议到期日", "licence expiry"),
    "address": ("address", "经营地址", "address"),
    "settlement_account": ("settlement_account", "医保结算账户", "settlement bank account"),
    "operating_status": ("operating_status", "经营状态", "operating status"),
}

_SPACE = re.compile(r"\s+")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def normal_form(value: str | None) -> str:
    """The spelling-free form two values are compared on."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", value or "")).upper()
    date = _DATE.match(text)
    if date:
        y, m, d = date.groups()
        return f"{y}-{int(m):02d}-{int(d):02d}"
    return text


@dataclass(frozen=True)
class Finding:
    field: str
    found: str
    bureau: str | None

    @property
    def matches(self) -> bool:
        return normal_form(self.found) == normal_form(self.bureau)


def compare(found: dict[str, str], bureau: dict[str, str | None]) -> list[Finding]:
    """One finding per field recorded on site, in the order of :data:`FIELDS`; fields not
    in :data:`FIELDS` are the caller's to refuse."""
    return [Finding(field=f, found=found[f], bureau=bureau.get(f)) for f in FIELDS
            if f in found]


def mismatches(findings: list[Finding]) -> list[str]:
    return [f.field for f in findings if not f.matches]
