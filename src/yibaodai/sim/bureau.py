"""The bureau simulator (医保局): pushes authorizations, profiles and daily settlement data to
the bank's gateway over signed, encrypted HTTP, and receives the bank's admission answers on
its own real HTTP endpoint."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI

from yibaodai.clock import Clock
from yibaodai.protocol.envelope import ResponseEnvelope
from yibaodai.protocol.keys import KeyRing
from yibaodai.sim.city import SyntheticInstitution, daily_settlements
from yibaodai.sim.peer import Inbox, SendingClient, receiving_app

BUREAU_SENDER_CODE = "210200000001"
ANSWER_PATH = "/fsi/api/bureau/callService"
ROWS_PER_MESSAGE = 1000


def bureau_app(*, keyring: KeyRing, clock: Clock) -> tuple[FastAPI, Inbox]:
    return receiving_app(title="医保局模拟器 bureau simulator", path=ANSWER_PATH,
                         keyring=keyring, clock=clock, area="210200",
                         on_message=lambda infno, data: {"received": True, "infno": infno})


def _money(value: Any) -> str:
    return f"{value:.2f}"


class BureauPusher:
    def __init__(self, *, bank_url: str, keyring: KeyRing, clock: Clock, seed: int) -> None:
        self.seed = seed
        self.client = SendingClient(url=f"{bank_url}/fsi/api/bank/callService", keyring=keyring,
                                    peer_party="bank", sender_code=BUREAU_SENDER_CODE,
                                    clock=clock)

    def _send(self, infno: str, inst: SyntheticInstitution,
              rows: list[dict[str, Any]]) -> ResponseEnvelope:
        return self.client.send(infno=infno, fixmedins_code=inst.fixmedins_code,
                                fixmedins_name=inst.fixmedins_name, rows=rows)

    def authorize(self, inst: SyntheticInstitution, *, on: date) -> ResponseEnvelope:
        return self._send("8101", inst, [{
            "fixmedins_code": inst.fixmedins_code, "fixmedins_name": inst.fixmedins_name,
            "uscc": inst.uscc, "auth_no": f"AUTH{inst.fixmedins_code}{on:%Y%m%d}",
            "auth_scope": ["profile", "events", "settlement"],
            "begndate": on.isoformat(), "enddate": (on + timedelta(days=3 * 365)).isoformat(),
        }])

    def push_profile(self, inst: SyntheticInstitution) -> ResponseEnvelope:
        return self._send("8201", inst, [{
            "fixmedins_code": inst.fixmedins_code, "fixmedins_name": inst.fixmedins_name,
            "uscc": inst.uscc, "fixmedins_type": inst.fixmedins_type, "hosp_lv": inst.hosp_lv,
            "fix_blng_admdvs": inst.area_code, "addr": inst.addr, "biz_stas": inst.biz_stas,
            "cred_lv_name": inst.cred_lv_name, "begntime": inst.begntime.isoformat(),
            "endtime": inst.endtime.isoformat(), "legrep_name": inst.legrep_name,
            "bankacct": inst.bankacct, "latitude": inst.latitude,
            "longitude": inst.longitude, "ownership": inst.ownership,
        }])

    def push_event(self, inst: SyntheticInstitution, *, evt_type: str, evt_date: date,
                   evt_desc: str, evt_amt: str | None = None) -> ResponseEnvelope:
        """8202: the bureau's penalty, suspension, restoration or end of designation."""
        return self._send("8202", inst, [{
            "fixmedins_code": inst.fixmedins_code, "evt_type": evt_type,
            "evt_date": evt_date.isoformat(), "evt_desc": evt_desc, "evt_amt": evt_amt}])

    def push_grade_change(self, inst: SyntheticInstitution, *, new_grade: str,
                          on: date) -> ResponseEnvelope:
        """The bureau re-grades the institution's credit: its profile (8201) with the new
        grade, then the event (8202) naming the move (``A→C``)."""
        old = inst.cred_lv_name
        profile = self.push_profile(replace(inst, cred_lv_name=new_grade))
        if profile.infcode != 0:
            return profile
        return self.push_event(inst, evt_type="grade_change", evt_date=on,
                               evt_desc=f"信用等级由{old}调整为{new_grade}（{old}→{new_grade}）")

    def push_staff_points(self, inst: SyntheticInstitution, *, on: date, staff: str,
                          points: int) -> ResponseEnvelope:
        """Penalty points on one of the institution's doctors or pharmacists (医保医师/药师
        记分), named by role only: no personal data reaches the bank."""
        return self.push_event(inst, evt_type="staff_points", evt_date=on,
                               evt_desc=f"{staff}记{points}分")

    def push_designation_end(self, inst: SyntheticInstitution, *, ends: date,
                             ) -> ResponseEnvelope:
        """The designation agreement's end moved to ``ends`` (the profile, 8201)."""
        return self.push_profile(replace(inst, endtime=ends))

    def push_settlements(self, inst: SyntheticInstitution, *, start: date,
                         end: date) -> list[ResponseEnvelope]:
        rows = self.settlement_rows(inst, start=start, end=end)
        return [self._send("8301", inst, rows[i:i + ROWS_PER_MESSAGE])
                for i in range(0, len(rows), ROWS_PER_MESSAGE)]

    def settlement_rows(self, inst: SyntheticInstitution, *, start: date,
                        end: date) -> list[dict[str, Any]]:
        """The 8301 rows of ``inst`` for ``start``..``end``, in the bureau's wire form."""
        return [{
            "fixmedins_code": r.fixmedins_code, "setl_date": r.setl_date.isoformat(),
            "insutype": r.insutype, "clr_type": r.clr_type, "setl_cnt": r.setl_cnt,
            "refd_setl_cnt": r.refd_setl_cnt, "medfee_sumamt": _money(r.medfee_sumamt),
            "fund_pay_sumamt": _money(r.fund_pay_sumamt), "hifp_pay": _money(r.hifp_pay),
            "acct_pay": _money(r.acct_pay), "psn_cash_pay": _money(r.psn_cash_pay),
        } for r in daily_settlements(inst, seed=self.seed, start=start, end=end)]

    def close(self) -> None:
        self.client.close()
