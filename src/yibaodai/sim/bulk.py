"""Cheap, valid 8301 rows in the bureau's normal shape, for load tests and benchmarks (the
synthetic city in ``city.py`` is realistic but slower to generate)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

INSUTYPES = ("310", "320", "330", "340", "350", "360", "370", "380", "390", "391", "392",
             "399", "410")
CLR_TYPES = ("11", "21", "41", "99")


def daily_rows(code: str, n: int, last_day: date) -> list[dict[str, Any]]:
    """``n`` distinct daily summaries of institution ``code``, going back from ``last_day``;
    totals satisfy every 8301 rule (medfee = fund + acct + cash, hifp <= fund)."""
    return [row for row, _ in zip(_rows(code, last_day), range(n), strict=False)]


def _rows(code: str, last_day: date) -> Iterator[dict[str, Any]]:
    k = 0
    day_index = 0
    while True:
        day = (last_day - timedelta(days=day_index)).isoformat()
        day_index += 1
        for ins in INSUTYPES:
            for clr in CLR_TYPES:
                fund, acct, cash = 5000 + k % 977, 300 + k % 89, 700 + k % 131
                yield {
                    "fixmedins_code": code, "setl_date": day, "insutype": ins,
                    "clr_type": clr, "setl_cnt": 20 + k % 17, "refd_setl_cnt": k % 3,
                    "medfee_sumamt": f"{fund + acct + cash}.{k % 100:02d}",
                    "fund_pay_sumamt": f"{fund}.00", "hifp_pay": f"{fund - 100}.00",
                    "acct_pay": f"{acct}.{k % 100:02d}", "psn_cash_pay": f"{cash}.00"}
                k += 1
