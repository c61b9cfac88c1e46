"""A simulated court-enforcement list (法院执行信息公开): the external source the bank's
``monitoring.sources.CourtEnforcementSource`` reads, on a real HTTP endpoint. Records are
added by the simulation (``POST /sim/court/records``, or :meth:`CourtList.add`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field


class CourtRecord(BaseModel):
    uscc: str = Field(min_length=18, max_length=18)
    case_no: str = Field(max_length=60)
    filed_on: date
    amount: str = Field(max_length=20)
    status: Literal["enforcement", "dishonest"] = "enforcement"


@dataclass
class CourtList:
    records: list[CourtRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    queries: int = 0

    def add(self, record: CourtRecord) -> None:
        with self.lock:
            self.records.append(record)


def court_app() -> tuple[FastAPI, CourtList]:
    app = FastAPI(title="法院执行信息模拟器 court-enforcement simulator")
    court = CourtList()

    @app.get("/court/enforcement")
    def enforcement(uscc: str) -> dict[str, Any]:
        with court.lock:
            court.queries += 1
            found = [r.model_dump(mode="json", exclude={"uscc"}) for r in court.records
                     if r.uscc == uscc]
        return {"uscc": uscc, "records": found}

    @app.post("/sim/court/records")
    def add_record(record: CourtRecord) -> dict[str, int]:
        court.add(record)
        return {"count": len(court.records)}

    return app, court
