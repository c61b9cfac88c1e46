"""Driving the real flow in tests: the bureau simulator pushes over real HTTP; simulators for
the bureau's answer endpoint and head office run on real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import httpx

from tests.conftest import Installation
from yibaodai.bootstrap import keyring
from yibaodai.runtime import build_dispatcher
from yibaodai.sim.bureau import ANSWER_PATH, BureauPusher, bureau_app
from yibaodai.sim.city import SyntheticInstitution, generate_city
from yibaodai.sim.headoffice import (
    SINGLE_CUSTOMER_CAP,
    WHITELIST_PATH,
    LoanDesk,
    head_office_app,
)
from yibaodai.sim.peer import Inbox
from yibaodai.sim.server import ServerThread
from yibaodai.worker.dispatcher import Dispatcher

SEED = 11
AS_OF = date(2026, 8, 31)


def likely_admitted(city: list[SyntheticInstitution]) -> list[SyntheticInstitution]:
    return [i for i in city if i.segment in ("pharmacy", "clinic")
            and i.archetype in ("stable", "growing", "seasonal") and i.biz_stas == "1"
            and i.cred_lv_name in ("A", "B") and i.ownership == "private"
            and i.endtime > date(2026, 12, 31)]


def city(n: int = 60) -> list[SyntheticInstitution]:
    return generate_city(seed=SEED, institutions=n, as_of=AS_OF)


@dataclass
class World:
    installation: Installation
    bank_url: str
    pusher: BureauPusher
    dispatcher: Dispatcher
    bureau_inbox: Inbox
    head_office_inbox: Inbox
    desk: LoanDesk

    def onboard(self, inst: SyntheticInstitution) -> None:
        today = self.installation.clock.today()
        assert self.pusher.authorize(inst, on=today).infcode == 0
        assert self.pusher.push_profile(inst).infcode == 0
        for answer in self.pusher.push_settlements(
                inst, start=date(today.year - 2, today.month, 1),
                end=today.replace(day=1) - timedelta(days=1)):
            assert answer.infcode == 0, answer.err_msg

    def token(self, username: str) -> dict[str, str]:
        password = self.installation.accounts[username].password
        r = httpx.post(f"{self.bank_url}/api/auth/token",
                       json={"username": username, "password": password})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def confirm(self, case_id: int, sub_branch_code: str) -> None:
        """Claim, verify and confirm a case as its sub-branch's staff would."""
        sub = sub_branch_code.lower()
        checklist = dict.fromkeys(("identity", "licence", "address", "settlement_account",
                                   "operating_status"), True)
        for user, path, body in ((f"cm_{sub}_1", "claim", None),
                                 (f"cm_{sub}_1", "verification", {"checklist": checklist}),
                                 (f"mgr_{sub}", "confirmation", None)):
            r = self.api("POST", user, f"/api/cases/{case_id}/{path}", json=body)
            assert r.status_code == 200, r.text

    def api(self, method: str, username: str, path: str, *,
            headers: dict[str, str] | None = None, **kw: object) -> httpx.Response:
        return httpx.request(method, f"{self.bank_url}{path}",
                             headers=self.token(username) | (headers or {}),
                             timeout=30, **kw)  # type: ignore[arg-type]


@contextmanager
def world(installation: Installation, bank_url: str,
          head_office_cap: Decimal = SINGLE_CUSTOMER_CAP) -> Iterator[World]:
    keys = installation.settings.keys_dir
    clock = installation.clock
    with ExitStack() as stack:
        b_app, b_inbox = bureau_app(keyring=keyring(keys, "bureau"), clock=clock)
        bureau = stack.enter_context(ServerThread(b_app))
        h_app, h_inbox = head_office_app(keyring=keyring(keys, "headoffice"), clock=clock,
                                         cap=head_office_cap)
        ho = stack.enter_context(ServerThread(h_app))
        dispatcher = build_dispatcher(installation.bank, bureau_url=bureau.url + ANSWER_PATH,
                                      head_office_url=ho.url + WHITELIST_PATH)
        stack.callback(dispatcher.close)
        pusher = BureauPusher(bank_url=bank_url, keyring=keyring(keys, "bureau"), clock=clock,
                              seed=SEED)
        stack.callback(pusher.close)
        desk = LoanDesk(inbox=h_inbox, bank_url=bank_url, keyring=keyring(keys, "headoffice"),
                        clock=clock, seed=SEED, cap=head_office_cap)
        stack.callback(desk.close)
        yield World(installation, bank_url, pusher, dispatcher, b_inbox, h_inbox, desk)
