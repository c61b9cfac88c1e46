"""The end-to-end demo: a synthetic Dalian, the bureau and head-office simulators and the bank,
all on real loopback HTTP, over about two simulated months.

The demo plays only the outside world (the bureau, head office, the staff through the real
API) and the clock: whatever the bank does on its own — delivering the outbox, the SLA sweep,
monitoring, escalation, retention — is the worker's jobs (``worker.jobs``), run by
``Worker.run_due`` each time the demo moves its clock (``_tick``), exactly as ``yibaodai
worker`` runs them on the system clock.

Timeline (simulated, Asia/Shanghai): 2026-09-01 first wave of authorizations and history ->
decisions, answers, assignment -> staff claim, verify (with on-site findings; a moved shop is a
mismatch a manager overrides) and confirm through the API (one sub-branch is late: reminded,
penalised, and the branch reassigns one of its overdue cases) -> head office receives the
whitelist and customers draw loans -> 2026-09-15 second wave (the penalised sub-branch is
skipped) -> monthly data for September and October -> post-loan monitoring raises warnings to
client managers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import httpx
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from yibaodai.bootstrap import Account, keyring, seed_demo_users
from yibaodai.clock import SHANGHAI, SimulatedClock
from yibaodai.db.models import (
    AuthorizationRow,
    CaseEventRow,
    CaseRow,
    DecisionRow,
    InstitutionRow,
    NotificationRow,
    OutboxRow,
    SlaPenaltyRow,
    WarningRow,
)
from yibaodai.demo_campaign import funnel_summary, start_campaign
from yibaodai.domain.organisation import choose_sub_branch, load_organisation
from yibaodai.runtime import Bank, build_bank, build_worker, prepare_database
from yibaodai.settings import Settings
from yibaodai.sim.bureau import ANSWER_PATH, BureauPusher, bureau_app
from yibaodai.sim.city import SyntheticInstitution, generate_city
from yibaodai.sim.headoffice import WHITELIST_PATH, LoanDesk, head_office_app
from yibaodai.sim.server import ServerThread

T = TypeVar("T")
#: Where the demo says what it is doing: one line per stage, with the elapsed time.
Report = Callable[[str], None]
DEMO_START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
HISTORY_MONTHS = 24
AUTHORIZING_SHARE = 0.45
LATE_SUB_BRANCH = "DL003"
CHECKLIST_ITEMS = ("identity", "licence", "address", "settlement_account", "operating_status")
#: The last wave: institutions authorizing on the demo's last day, a few per sub-branch, so
#: that every sub-branch opens the platform with cases to claim and cases to verify.
LAST_WAVE_PER_SUB_BRANCH = 3
#: Rounds of the last wave's top-up (``Demo._top_up``).
TOP_UP_ROUNDS = 3
#: Archetypes the bureau's list shows as sound businesses (the last wave is drawn from them).
SOUND = ("growing", "stable", "seasonal")
#: One sub-branch in this many gets a penalty notice for a borrower; the others a grade change.
PENALTY_EVERY = 6


class Staff:
    """Simulated bank staff acting through the real JSON API."""

    def __init__(self, base_url: str, accounts: list[Account]) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.passwords = {a.username: a.password for a in accounts}
        self._tokens: dict[str, str] = {}

    def _auth(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.http.post("/api/auth/token", json={
                "username": username, "password": self.passwords[username]})
            r.raise_for_status()
            self._tokens[username] = r.json()["token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def call(self, method: str, username: str, path: str, **kw: Any) -> Any:
        headers = {**self._auth(username), **kw.pop("headers", {})}
        r = self.http.request(method, path, headers=headers, **kw)
        r.raise_for_status()
        return r.json()

    def cases(self, username: str, **filters: Any) -> list[dict[str, Any]]:
        """Every case the user's list shows with ``filters``, page after page."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.call("GET", username, "/api/cases",
                               params={**filters, "page": page, "page_size": 200})
            items += answer["items"]
            if len(items) >= answer["total"] or not answer["items"]:
                return items
            page += 1

    def close(self) -> None:
        self.http.close()


def _track(items: Iterable[T], label: str, total: int, progress: Progress | None) -> Iterator[T]:
    if progress is None:
        yield from items
        return
    task = progress.add_task(label, total=total)
    for item in items:
        yield item
        progress.advance(task)
    progress.remove_task(task)


def _round_robin(by_sub: dict[str, list[SyntheticInstitution]], per_sub: int | None
                 ) -> list[SyntheticInstitution]:
    """The first of each sub-branch's institutions (in code order), then the second of
    each, and so on (at most ``per_sub`` of each): the last wave's authorizations come in
    across the city, so the bank's assignment sees each sub-branch's open load grow evenly
    and a near tie between two sub-branches goes to the one with fewer new cases."""
    most = max((len(v) for v in by_sub.values()), default=0)
    rounds = most if per_sub is None else min(most, per_sub)
    return [by_sub[code][k] for k in range(rounds) for code in sorted(by_sub)
            if k < len(by_sub[code])]


class Demo:
    def __init__(self, settings: Settings, *, seed: int, institutions: int,
                 progress: Progress | None, report: Report | None = None) -> None:
        self.settings, self.seed, self.n = settings, seed, institutions
        self.progress = progress
        self._report = report
        self._started = time.monotonic()
        self.clock = SimulatedClock(DEMO_START)
        self.rng = random.Random(seed)

    def run(self) -> dict[str, Any]:
        db = prepare_database(self.settings)
        with db.unit_of_work() as session:
            if session.scalar(select(func.count()).select_from(InstitutionRow)):
                raise RuntimeError("the demo needs an empty database (yibaodai demo --fresh)")
            self.accounts = seed_demo_users(session, seed=self.seed)
            session.commit()
        bank = build_bank(self.settings, self.clock, db)
        keys = self.settings.keys_dir
        with ExitStack() as stack:
            bank_server = stack.enter_context(ServerThread(bank.app))
            b_app, self.bureau_inbox = bureau_app(keyring=keyring(keys, "bureau"),
                                                  clock=self.clock)
            bureau_server = stack.enter_context(ServerThread(b_app))
            h_app, ho_inbox = head_office_app(keyring=keyring(keys, "headoffice"),
                                              clock=self.clock)
            ho_server = stack.enter_context(ServerThread(h_app))
            self.worker = build_worker(bank, bureau_url=bureau_server.url + ANSWER_PATH,
                                       head_office_url=ho_server.url + WHITELIST_PATH)
            stack.callback(self.worker.close)
            self.pusher = BureauPusher(bank_url=bank_server.url, keyring=keyring(keys, "bureau"),
                                       clock=self.clock, seed=self.seed)
            stack.callback(self.pusher.close)
            self.desk = LoanDesk(inbox=ho_inbox, bank_url=bank_server.url,
                                 keyring=keyring(keys, "headoffice"), clock=self.clock,
                                 seed=self.seed)
            stack.callback(self.desk.close)
            self.staff = Staff(bank_server.url, self.accounts)
            stack.callback(self.staff.close)
            self._timeline()
            return self._summary(bank)

    def _say(self, what: str) -> None:
        if self._report is not None:
            self._report(f"[{time.monotonic() - self._started:6.1f} s] "
                         f"{self.clock.now():%Y-%m-%d %H:%M} {what}")

    # -- the story ---------------------------------------------------------------------

    def _timeline(self) -> None:
        city = generate_city(seed=self.seed, institutions=self.n,
                             as_of=DEMO_START.date() - timedelta(days=1))
        self.city = city
        self._say(f"模拟城市 synthetic city: {len(city)} institutions")
        authorizing = [i for i in city if self.rng.random() < AUTHORIZING_SHARE]
        # Borrowers whose business turns bad after the loan make post-loan warnings visible.
        authorizing += [i for i in city if i not in authorizing and i.deterioration_start
                        and i.deterioration_start > DEMO_START.date()]
        wave1 = authorizing[: int(len(authorizing) * 0.7)]
        wave2 = authorizing[len(wave1):]
        self.authorizing = authorizing
        last_wave = self._last_wave([i for i in city if i not in authorizing])
        first_of_last = _round_robin(last_wave, LAST_WAVE_PER_SUB_BRANCH)
        self.campaign = start_campaign(self.staff.call, city=city, seed=self.seed,
                                       authorizing={i.fixmedins_code for i in authorizing},
                                       say=self._say)
        self._advance(hours=1)  # the calls come before the authorizations they win
        self._onboard(wave1, "第一批授权机构 wave 1")
        self._tick()
        late = self._late_sub_branch()
        self._staff_work(skip=late)
        self._advance_to(datetime(2026, 9, 3, 14, 0, tzinfo=SHANGHAI))
        self._tick()  # half a working day before the deadline: the SLA sweep reminds
        self._advance_to(datetime(2026, 9, 4, 10, 0, tzinfo=SHANGHAI))
        self._tick()  # the SLA sweep finds the late sub-branch
        self._say(f"SLA 巡检 sweep: {late} is reminded, then penalised")
        self._reassign_overdue(late)
        self._staff_work(skip=None)
        self._draw()
        self._advance_to(datetime(2026, 9, 15, 9, 0, tzinfo=SHANGHAI))
        self._onboard(wave2, "第二批授权机构 wave 2")
        self._tick()
        self._staff_work(skip=None)
        self._draw()
        for month_start, month_end in ((date(2026, 9, 1), date(2026, 9, 30)),
                                       (date(2026, 10, 1), date(2026, 10, 31))):
            self._advance_to(datetime.combine(month_end + timedelta(days=1),
                                              datetime.min.time(), SHANGHAI)
                             + timedelta(hours=8))
            label = f"月度结算推送 monthly settlements {month_start:%Y-%m}"
            self._say(label)
            for inst in _track(authorizing, label, len(authorizing), self.progress):
                self.pusher.push_settlements(inst, start=month_start, end=month_end)
            if month_start.month == 9:
                self._bureau_findings(on=month_end - timedelta(days=2))
            self._tick()  # answers to re-evaluations, monitoring of the new data
            self._say("贷后监测 post-loan monitoring of the new month")
        self._advance_to(datetime(2026, 11, 9, 9, 0, tzinfo=SHANGHAI))
        self._tick()
        self._onboard(first_of_last, "第三批授权机构 wave 3 (work waiting)")
        self.authorizing += first_of_last
        self._tick()
        self._top_up(last_wave, used={i.fixmedins_code for i in first_of_last})
        self._claim_half()

    def _last_wave(self, pool: list[SyntheticInstitution]
                   ) -> dict[str, list[SyntheticInstitution]]:
        """Operating institutions per sub-branch, the sound ones first (by where the bank
        would assign them, before penalties and load), from those that have not authorized:
        the bureau plays the first few of each sub-branch's authorizations last, and more
        where the bank's own assignment left a sub-branch short (``_top_up``)."""
        branch = load_organisation()
        by_sub: dict[str, list[SyntheticInstitution]] = {}

        def sound(inst: SyntheticInstitution) -> bool:
            return inst.archetype in SOUND and inst.cred_lv_name in ("A", "B")

        # the sound ones first; the others (which the model may refuse) only for top-ups
        for inst in sorted(pool, key=lambda i: not sound(i)):
            if inst.biz_stas != "1":
                continue
            sub = choose_sub_branch(branch, district=inst.area_code, latitude=inst.latitude,
                                    longitude=inst.longitude, excluded=frozenset())
            if sub is not None:
                by_sub.setdefault(sub.code, []).append(inst)
        return by_sub

    def _top_up(self, candidates: dict[str, list[SyntheticInstitution]], *,
                used: set[str]) -> None:
        """Where the bank's assignment (penalties, open load, the parsed address) left a
        sub-branch with fewer than two new cases, one more institution authorizes that the
        assignment rule, given today's open load, sends there, for at most ``TOP_UP_ROUNDS``
        rounds: each sub-branch needs one case to claim and one claimed to verify."""
        branch = load_organisation()
        pool = _round_robin(candidates, None)
        for _ in range(TOP_UP_ROUNDS):
            waiting: dict[str, int] = {}
            load: dict[str, int] = {}
            for state in ("assigned", "claimed"):
                for case in self.staff.cases("gm", state=state):
                    code = str(case["sub_branch_code"])
                    load[code] = load.get(code, 0) + 1
                    if state == "assigned":
                        waiting[code] = waiting.get(code, 0) + 1
            short = {s.code for s in branch.sub_branches if waiting.get(s.code, 0) < 2}
            extra: list[SyntheticInstitution] = []
            for inst in pool:
                if not short or inst.fixmedins_code in used:
                    continue
                sub = choose_sub_branch(branch, district=inst.area_code,
                                        latitude=inst.latitude, longitude=inst.longitude,
                                        excluded=frozenset(), open_load=load)
                if sub is not None and sub.code in short:
                    extra.append(inst)
                    used.add(inst.fixmedins_code)
                    short.discard(sub.code)
            if not extra:
                return
            self._onboard(extra, "第三批补充授权 wave 3, top-up")
            self.authorizing += extra
            self._tick()

    def _claim_half(self) -> None:
        """The last wave's morning: in every sub-branch, a client manager claims all but one
        of the new cases and visits none yet — work to claim and to verify on first log-in."""
        self._advance(hours=2)
        waiting = self.staff.cases("gm", state="assigned")
        by_sub: dict[str, list[dict[str, Any]]] = {}
        for case in waiting:
            by_sub.setdefault(case["sub_branch_code"], []).append(case)
        for code, cases in sorted(by_sub.items()):
            for case in sorted(cases, key=lambda c: c["id"])[1:]:
                self.staff.call("POST", f"cm_{code.lower()}_{1 + case['id'] % 2}",
                                f"/api/cases/{case['id']}/claim")
        self._say(f"待办 work waiting: {len(waiting)} new cases in {len(by_sub)} sub-branches")

    def _late_sub_branch(self) -> str:
        """The sub-branch that will miss its claims: DL003, or the busiest when DL003 has
        no case in this city."""
        subs = [str(c["sub_branch_code"]) for c in self.staff.cases("gm", state="assigned")]
        if LATE_SUB_BRANCH in subs or not subs:
            return LATE_SUB_BRANCH
        return max(sorted(set(subs)), key=subs.count)

    def _reassign_overdue(self, late: str) -> None:
        """The branch takes the late sub-branch's oldest overdue case away, with a reason."""
        overdue = self.staff.cases("gm", state="assigned", sub_branch=late)
        if overdue:
            target = "DL001" if late != "DL001" else "DL002"
            self.staff.call("POST", "gm", f"/api/cases/{overdue[0]['id']}/reassignment",
                            json={"sub_branch_code": target,
                                  "reason": "认领超时，分行改派 / claim overdue, reassigned"})

    def _findings(self, case: dict[str, Any]) -> dict[str, str]:
        """What the client manager writes down on site; now and then the shop has moved."""
        inst = next(i for i in self.city if i.fixmedins_code == case["fixmedins_code"])
        address = inst.addr if case["id"] % 5 else f"{inst.addr}（现场已迁址）"
        return {"uscc": inst.uscc, "name": inst.fixmedins_name, "address": address}

    def _onboard(self, institutions: list[SyntheticInstitution], label: str) -> None:
        today = self.clock.today()
        history_start = date(today.year - HISTORY_MONTHS // 12, today.month, 1)
        self._say(f"{label}: {len(institutions)} institutions authorize and push "
                  f"{HISTORY_MONTHS} months of history")
        for inst in _track(institutions, label, len(institutions), self.progress):
            self.pusher.authorize(inst, on=today)
            self.pusher.push_profile(inst)
            self.pusher.push_settlements(inst, start=history_start,
                                         end=today.replace(day=1) - timedelta(days=1))

    def _bureau_findings(self, *, on: date) -> None:
        """The bureau's month-end notices: in every sub-branch one borrower is penalised for
        irregular claims (an orange W03 warning, and a re-evaluation that refuses it) or has
        its credit grade lowered (yellow), so every sub-branch opens the platform with a
        post-loan warning to handle."""
        by_sub: dict[str, list[dict[str, Any]]] = {}
        for case in self.staff.cases("gm", state="drawn"):
            by_sub.setdefault(str(case["sub_branch_code"]), []).append(case)
        by_code = {i.fixmedins_code: i for i in self.city}
        for n, code in enumerate(sorted(by_sub)):
            inst = by_code[self.rng.choice(by_sub[code])["fixmedins_code"]]
            if n % PENALTY_EVERY == 0:
                self.pusher.push_event(inst, evt_type="penalty", evt_date=on,
                                       evt_desc="违规结算医保基金，追回并处罚款",
                                       evt_amt="20000.00")
            else:
                self.pusher.push_event(inst, evt_type="grade_change", evt_date=on,
                                       evt_desc="医保信用等级下调一级")

    def _tick(self) -> None:
        """What the bank does on its own at this moment: the worker's due jobs."""
        self.worker.run_due()

    def _advance_to(self, moment: datetime) -> None:
        if moment > self.clock.now():
            self.clock.set(moment)

    def _staff_work(self, *, skip: str | None) -> None:
        """Claim on the next working morning, verify and confirm on the one after."""
        mgr_cases = self.staff.cases("gm", state="assigned")
        todo = [c for c in mgr_cases if c["sub_branch_code"] != skip]
        self._advance(hours=24)
        for case in _track(todo, "支行认领与核实 claim & verify", len(todo), self.progress):
            sub = case["sub_branch_code"].lower()
            cm = f"cm_{sub}_{1 + case['id'] % 2}"
            self.staff.call("POST", cm, f"/api/cases/{case['id']}/claim")
            checklist = dict.fromkeys(CHECKLIST_ITEMS, True)
            if self.rng.random() < 0.08:
                checklist["address"] = False  # the shop is not where the bureau says
            self.staff.call("POST", cm, f"/api/cases/{case['id']}/verification",
                            json={"checklist": checklist, "note": "现场核实 on-site visit",
                                  "findings": self._findings(case)})
            if all(checklist.values()):
                mgr = f"mgr_{sub}"
                if self.staff.call("GET", mgr, f"/api/cases/{case['id']}")["mismatches"]:
                    self.staff.call("POST", mgr, f"/api/cases/{case['id']}/mismatch-override",
                                    json={"reason": "已电话核实新址 / new address confirmed"})
                self.staff.call("POST", mgr, f"/api/cases/{case['id']}/confirmation")
        self._advance(hours=24)
        self._tick()
        self._say(f"支行认领与核实 claimed and verified {len(todo)} cases")

    def _advance(self, *, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    def _draw(self) -> None:
        self._advance(hours=24)
        self.desk.draw_loans()
        self._say("总行放款 head office: customers draw their loans")

    # -- the result --------------------------------------------------------------------

    def _summary(self, bank: Bank) -> dict[str, Any]:
        funnel = funnel_summary(self.staff.call, self.campaign)
        with bank.db.unit_of_work() as s:
            def count(model: Any, *where: Any) -> int:
                return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

            def events(name: str) -> int:
                return count(CaseEventRow, CaseEventRow.event == name)

            def sub_branches_with(state: str) -> int:
                return int(s.scalar(select(func.count(func.distinct(CaseRow.sub_branch_code)))
                                    .where(CaseRow.state == state)) or 0)

            return {
                "seed": self.seed,
                "simulated_until": self.clock.now().isoformat(),
                "institutions": len(self.city),
                "authorized": count(AuthorizationRow),
                "decided": count(DecisionRow),
                "admitted": count(DecisionRow, DecisionRow.result == "admitted"),
                "refused": count(DecisionRow, DecisionRow.result == "refused"),
                "assigned": count(CaseRow),
                "claimed": events("claim"),
                "verified": events("verify_pass"),
                "verification_failed": events("verify_fail"),
                "reported": events("mark_reported"),
                "returned_by_head_office": events("mark_ho_rejected"),
                "drawn": events("mark_drawn"),
                "warnings": count(WarningRow),
                "sub_branches_with_open_warnings": int(s.scalar(
                    select(func.count(func.distinct(CaseRow.sub_branch_code)))
                    .join(WarningRow, WarningRow.case_id == CaseRow.id)
                    .where(WarningRow.state != "closed")) or 0),
                "sla_penalties": count(SlaPenaltyRow),
                "waiting_claim": count(CaseRow, CaseRow.state == "assigned"),
                "waiting_verification": count(CaseRow, CaseRow.state == "claimed"),
                "sub_branches_with_cases_to_claim": sub_branches_with("assigned"),
                "sub_branches_with_cases_to_verify": sub_branches_with("claimed"),
                "elapsed_seconds": round(time.monotonic() - self._started, 1),
                "sla_breaches": events("sla_breach"),
                "reminders": count(NotificationRow, NotificationRow.kind == "sla_reminder"),
                "reassigned": events("reassigned"),
                "verification_mismatches": sum(
                    1 for d in s.scalars(select(CaseEventRow.details).where(
                        CaseEventRow.event.in_(("verify_pass", "verify_fail"))))
                    if d.get("mismatches")),
                "answers_received_by_bureau": len(self.bureau_inbox.messages),
                "outbox_pending": count(OutboxRow, OutboxRow.status != "sent"),
                "campaign_funnel": funnel,
                "accounts": [asdict(a) for a in self.accounts],
            }


def run_demo(settings: Settings, *, seed: int, institutions: int,
             progress: Progress | None = None, report: Report | None = None) -> dict[str, Any]:
    return Demo(settings, seed=seed, institutions=institutions, progress=progress,
                report=report).run()


@contextmanager
def maybe_progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    with Progress(console=Console(stderr=True)) as progress:
        yield progress


__all__ = ["maybe_progress", "run_demo"]
