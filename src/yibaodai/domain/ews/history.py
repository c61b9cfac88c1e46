"""What the warning rules see of one borrower: monthly settlement figures, the bureau's events,
the fund's disbursements (8303) and head office's overdue report. Pure data, serialisable to
JSON so a warning can store exactly what raised it and be replayed from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class MonthFigures:
    """One calendar month of settlement data. Money in yuan as floats: the rules compare
    shares and levels, never book amounts; the stored inputs keep two decimals."""

    fund_pay: float
    setl_cnt: int = 0
    refd_cnt: int = 0
    employee_share: float | None = None  # share of fund paid by employees' insurance (310)

    def as_json(self) -> dict[str, Any]:
        return {"fund_pay": round(self.fund_pay, 2), "setl_cnt": self.setl_cnt,
                "refd_cnt": self.refd_cnt,
                "employee_share": None if self.employee_share is None
                else round(self.employee_share, 4)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> MonthFigures:
        return MonthFigures(float(data["fund_pay"]), int(data["setl_cnt"]),
                            int(data["refd_cnt"]), data.get("employee_share"))


@dataclass(frozen=True)
class BureauEvent:
    evt_type: str
    evt_date: date
    evt_desc: str


@dataclass(frozen=True)
class Disbursement:
    """A fund payment (8303) for settlement month ``setlym`` ("yyyy-MM") booked on ``booked``."""

    setlym: str
    booked: date
    amount: float


@dataclass(frozen=True)
class BorrowerHistory:
    """Everything the rules may use about one borrower as of one day."""

    months: dict[str, MonthFigures]  # "yyyy-MM" -> figures; a month absent had no settlement
    last_settlement: date | None = None
    events: tuple[BureauEvent, ...] = ()
    disbursements: tuple[Disbursement, ...] = ()
    overdue_days: int = 0
    designation_end: date | None = None
    credit_grade: str | None = None
    watched_since: date | None = None  # first day the bank watches (the loan's start)
    extra: dict[str, Any] = field(default_factory=dict)  # external sources (pluggable)

    def fund_pay(self, month: str) -> float:
        figures = self.months.get(month)
        return figures.fund_pay if figures else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "months": {k: v.as_json() for k, v in sorted(self.months.items())},
            "last_settlement": self.last_settlement.isoformat() if self.last_settlement else None,
            "events": [{"evt_type": e.evt_type, "evt_date": e.evt_date.isoformat(),
                        "evt_desc": e.evt_desc} for e in self.events],
            "disbursements": [{"setlym": d.setlym, "booked": d.booked.isoformat(),
                               "amount": round(d.amount, 2)} for d in self.disbursements],
            "overdue_days": self.overdue_days,
            "designation_end": self.designation_end.isoformat() if self.designation_end
            else None,
            "credit_grade": self.credit_grade,
            "watched_since": self.watched_since.isoformat() if self.watched_since else None,
            "extra": self.extra,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> BorrowerHistory:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return BorrowerHistory(
            months={k: MonthFigures.from_json(v) for k, v in data["months"].items()},
            last_settlement=day(data.get("last_settlement")),
            events=tuple(BureauEvent(e["evt_type"], date.fromisoformat(e["evt_date"]),
                                     e["evt_desc"]) for e in data.get("events", [])),
            disbursements=tuple(Disbursement(d["setlym"], date.fromisoformat(d["booked"]),
                                             float(d["amount"]))
                                for d in data.get("disbursements", [])),
            overdue_days=int(data.get("overdue_days", 0)),
            designation_end=day(data.get("designation_end")),
            credit_grade=data.get("credit_grade"),
            watched_since=day(data.get("watched_since")),
            extra=dict(data.get("extra", {})),
        )
