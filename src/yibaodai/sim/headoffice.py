"""The head-office simulator (总行微捷贷平台): receives whitelist entries (8501) and limit
actions (8502: reduce limit, freeze) on a real HTTP endpoint, lets customers draw loans, and
reports loan status back to the branch (8601). The limit in force per case is on
``GET /sim/limits``.

Head office checks each whitelist entry against rules of its own (``head_office_refusals``:
its single-customer cap and a settlement account to pay into) and answers a refusal with its
reasons (``accepted: false``); the branch records them on the case."""

from __future__ import annotations

import random
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from fastapi import FastAPI

from yibaodai.clock import Clock
from yibaodai.protocol.keys import KeyRing
from yibaodai.sim.peer import Inbox, SendingClient, receiving_app

HEAD_OFFICE_SENDER_CODE = "HO0000000001"
WHITELIST_PATH = "/fsi/api/headoffice/callService"
#: Head office's own cap on one customer's online limit (yuan), above the branch's policy.
SINGLE_CUSTOMER_CAP = Decimal("2000000")


def head_office_refusals(entry: dict[str, Any], *,
                         cap: Decimal = SINGLE_CUSTOMER_CAP) -> list[dict[str, str]]:
    """Why head office would not whitelist ``entry`` (empty: it accepts)."""
    reasons = []
    if Decimal(str(entry.get("credit_limit") or "0")) > cap:
        reasons.append({"code": "HO_CAP", "text_zh": f"额度超过总行单户上限{cap:,.0f}元",
                        "text_en": f"limit above head office's single-customer cap {cap:,.0f}"})
    if not entry.get("bankacct"):
        reasons.append({"code": "HO_NO_ACCOUNT", "text_zh": "缺少医保结算账户，无法放款",
                        "text_en": "no settlement account to pay the loan into"})
    return reasons


LIMIT_ACTIONS = ("reduce_limit", "freeze")


def head_office_app(*, keyring: KeyRing, clock: Clock,
                    cap: Decimal = SINGLE_CUSTOMER_CAP) -> tuple[FastAPI, Inbox]:
    limits: dict[int, dict[str, Any]] = {}  # case id -> the limit action in force

    def accept(infno: str, data: dict[str, Any]) -> dict[str, Any]:
        entry = data["data"][0]
        if infno == "8502":
            if entry.get("action") not in LIMIT_ACTIONS:
                return {"accepted": False, "reason": "unknown action"}
            ref = f"WJL{int(entry['warning_id']):08d}"
            limits[int(entry["case_id"])] = {"action": entry["action"], "ho_ref": ref,
                                             "warning_id": int(entry["warning_id"]),
                                             "at": clock.now().isoformat()}
            return {"accepted": True, "ho_ref": ref, "action": entry["action"]}
        ref = f"WJD{int(entry['case_id']):08d}"
        reasons = head_office_refusals(entry, cap=cap)
        if reasons:
            return {"accepted": False, "ho_ref": ref, "reasons": reasons}
        return {"accepted": True, "ho_ref": ref}

    app, inbox = receiving_app(title="总行模拟器 head-office simulator", path=WHITELIST_PATH,
                               keyring=keyring, clock=clock, area="100000", on_message=accept)

    @app.get("/sim/limits")
    def limits_in_force() -> dict[str, Any]:
        with inbox.lock:
            return {"limits": {str(k): v for k, v in sorted(limits.items())}}

    return app, inbox


class LoanDesk:
    """Customers drawing on their whitelist limits in online banking."""

    def __init__(self, *, inbox: Inbox, bank_url: str, keyring: KeyRing, clock: Clock,
                 seed: int, cap: Decimal = SINGLE_CUSTOMER_CAP) -> None:
        self.inbox, self.rng, self.cap = inbox, random.Random(seed), cap
        self.reported: set[int] = set()
        self.client = SendingClient(url=f"{bank_url}/fsi/api/bank/headoffice/callService",
                                    keyring=keyring, peer_party="bank",
                                    sender_code=HEAD_OFFICE_SENDER_CODE, clock=clock)

    def draw_loans(self, *, share: float = 0.85) -> int:
        """Most whitelisted customers draw 50-100% of their limit; returns loans drawn."""
        with self.inbox.lock:
            entries = [m["input"]["data"][0] for m in self.inbox.messages.values()
                       if m["infno"] == "8501"]
        drawn = 0
        for entry in entries:
            case_id = int(entry["case_id"])
            if case_id in self.reported or head_office_refusals(entry, cap=self.cap):
                continue
            self.reported.add(case_id)
            if self.rng.random() > share:
                continue
            limit = Decimal(entry["credit_limit"])
            amount = (limit * Decimal(str(self.rng.uniform(0.5, 1.0))) / 1000).to_integral_value(
                rounding=ROUND_FLOOR) * 1000
            answer = self.client.send(infno="8601", fixmedins_code=entry["fixmedins_code"],
                                      fixmedins_name=entry["fixmedins_name"], rows=[{
                                          "fixmedins_code": entry["fixmedins_code"],
                                          "case_id": case_id, "status": "drawn",
                                          "drawn_amount": f"{amount:.2f}",
                                          "balance": f"{amount:.2f}", "overdue_days": 0}])
            if answer.infcode == 0:
                drawn += 1
        return drawn

    def close(self) -> None:
        self.client.close()
