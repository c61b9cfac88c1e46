"""Calendar months as the bank counts settlement income: ``"yyyy-MM"`` keys, and the
complete months before a day. Shared by the warning rules and the settlement features."""

from __future__ import annotations

from datetime import date


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def previous_months(as_of: date, count: int) -> list[str]:
    """The ``count`` complete calendar months before ``as_of``'s month, oldest first."""
    year, month = as_of.year, as_of.month
    out: list[str] = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(f"{year:04d}-{month:02d}")
    return list(reversed(out))
