"""Every API route, asked by every role and by nobody, over real HTTP, against the one
permission table (``web/permissions.py``): anonymous gets 401, a role without the route's
permission 403, a role with it the route's own answer; records of another sub-branch answer
404. The table is compared with the app's own routes, so no route ships without a line in it
and a line here.

A write is probed with a body the route refuses (422) or an id that does not exist (404), so
the probes change nothing; the real journeys (claim, verify, confirm, handle) follow, with the
refusals first and then the one who may."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import Installation
from yibaodai.auth.roles import Role
from yibaodai.bootstrap import keyring
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import CampaignRow, CaseRow, ProspectRow, UserRow, WarningRow
from yibaodai.marketing import import_list
from yibaodai.sim.bureau import BureauPusher
from yibaodai.sim.bureau_list import write_bureau_list
from yibaodai.sim.city import generate_city
from yibaodai.sim.server import ServerThread
from yibaodai.web.app import served_routes
from yibaodai.web.permissions import ROUTES, Permission, may

HISTORY_START = date(2025, 8, 1)   # 13 months: enough for admission, cheap to push
HISTORY_END = date(2026, 8, 31)
CHECKLIST_ALL = {k: True for k in ("identity", "licence", "address", "settlement_account",
                                   "operating_status")}
NOT_API = {("GET", "/docs"), ("GET", "/openapi.json")}
MISSING = 999_999

# -- shared set-up: real bureau pushes make real cases ------------------------------------

def admitted_cases(server: ServerThread, installation: Installation, clock: SimulatedClock,
                   *, count: int = 4) -> list[CaseRow]:
    """Push authorization, profile and 13 months of settlements for ``count`` institutions
    likely to be admitted; returns the cases the bank made of them."""
    city = generate_city(seed=7, institutions=200, as_of=date(2026, 8, 31))
    likely = [i for i in city if i.segment in ("pharmacy", "clinic")
              and i.archetype in ("stable", "growing", "seasonal") and i.biz_stas == "1"
              and i.cred_lv_name in ("A", "B") and i.ownership == "private"]
    pusher = BureauPusher(bank_url=server.url,
                          keyring=keyring(installation.settings.keys_dir, "bureau"),
                          clock=clock, seed=7)
    try:
        for inst in likely[:count]:
            pusher.authorize(inst, on=clock.today())
            pusher.push_profile(inst)
            pusher.push_settlements(inst, start=HISTORY_START, end=HISTORY_END)
    finally:
        pusher.close()
    with installation.bank.db.unit_of_work() as s:
        cases = list(s.scalars(select(CaseRow).order_by(CaseRow.id)))
        s.expunge_all()
    assert len(cases) >= 2, "the seeded institutions were not admitted"
    return cases


def add_warning(installation: Installation, case: CaseRow, *, assigned_to: int | None) -> int:
    """A post-loan warning on ``case`` (monitoring needs months of loan history to raise one
    itself; what is tested here is who may read and handle it)."""
    with installation.bank.db.unit_of_work() as s:
        w = WarningRow(case_id=case.id, fixmedins_code=case.fixmedins_code,
                       rule_code="W01_DROP", rule_version="test", period="2026-08",
                       raised_at=installation.clock.now(), severity="high", inputs={},
                       reasons=[{"rule_code": "W01_DROP", "text_zh": "结算收入骤降",
                                 "text_en": "settlement income dropped"}],
                       assigned_to=assigned_to, state="open")
        s.add(w)
        s.commit()
        return w.id


@dataclass(frozen=True)
class Marketing:
    import_id: int
    prospect: int      # in ``own``, on the client manager's list
    manager_id: int    # that client manager
    campaign: int


def add_marketing(installation: Installation, *, own: str, cm_id: int) -> Marketing:
    """A small list of the bureau's, imported; one prospect moved onto the client manager's
    list (what is tested is who may read and work it); a campaign."""
    out = io.BytesIO()
    as_of = date(2026, 8, 31)
    write_bureau_list(generate_city(seed=11, institutions=20, as_of=as_of), out, seed=11,
                      as_of=as_of)
    now = installation.clock.now()
    with installation.bank.db.unit_of_work() as s:
        report = import_list(s, data=out.getvalue(), filename="名单.xlsx", actor="admin",
                             now=now)
        prospect = s.scalars(select(ProspectRow).order_by(ProspectRow.id)).first()
        assert prospect is not None
        prospect.sub_branch_code, prospect.client_manager_id = own, cm_id
        campaign = CampaignRow(name="探测", starts_on=now.date(), ends_on=now.date(),
                               created_at=now, created_by="gm")
        s.add(campaign)
        s.flush()
        marketing = Marketing(report.import_id, prospect.id, cm_id, campaign.id)
        s.commit()
    return marketing



# -- who asks ------------------------------------------------------------------------------

#: label -> the role it signs in with (None: anonymous)
ROLE_OF: dict[str, Role | None] = {
    "anonymous": None, "branch_admin": Role.BRANCH_ADMIN, "branch_manager": Role.BRANCH_MANAGER,
    "auditor": Role.AUDITOR, "sub_branch_manager": Role.SUB_BRANCH_MANAGER,
    "client_manager": Role.CLIENT_MANAGER,
    "other_sub_branch_manager": Role.SUB_BRANCH_MANAGER,
    "other_client_manager": Role.CLIENT_MANAGER,
}
BRANCH_WIDE = {"branch_admin", "branch_manager", "auditor"}


@dataclass
class World:
    clients: dict[str, httpx.Client]
    case_a: CaseRow
    case_b: CaseRow
    elsewhere: CaseRow
    own: str
    other: str
    warn_a: int
    warn_b: int
    users: dict[str, str | None]
    marketing: Marketing

    def in_scope(self, label: str) -> bool:
        return label in BRANCH_WIDE or not label.startswith("other")

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


def token_client(base: str, username: str | None, installation: Installation) -> httpx.Client:
    headers = {}
    if username:
        r = httpx.post(f"{base}/api/auth/token", json={
            "username": username, "password": installation.accounts[username].password})
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
    return httpx.Client(base_url=base, headers=headers, timeout=60)


def make_world(server: ServerThread, installation: Installation,
               clock: SimulatedClock) -> World:
    cases = admitted_cases(server, installation, clock)
    by_sub: dict[str, list[CaseRow]] = {}
    for c in cases:
        by_sub.setdefault(c.sub_branch_code, []).append(c)
    own = max(by_sub, key=lambda k: len(by_sub[k]))
    elsewhere = next(c for c in cases if c.sub_branch_code != own)
    other = elsewhere.sub_branch_code
    users = {"anonymous": None, "branch_admin": "admin", "branch_manager": "gm",
             "auditor": "auditor", "sub_branch_manager": f"mgr_{own.lower()}",
             "client_manager": f"cm_{own.lower()}_1",
             "other_sub_branch_manager": f"mgr_{other.lower()}",
             "other_client_manager": f"cm_{other.lower()}_1"}
    with installation.bank.db.unit_of_work() as s:
        cm_id = s.scalars(select(UserRow.id).where(
            UserRow.username == users["client_manager"])).one()
    case_a = by_sub[own][0]
    case_b = by_sub[own][1] if len(by_sub[own]) > 1 else by_sub[own][0]
    return World(
        clients={label: token_client(server.url, u, installation) for label, u in users.items()},
        case_a=case_a, case_b=case_b, elsewhere=elsewhere, own=own, other=other,
        warn_a=add_warning(installation, case_a, assigned_to=cm_id),
        warn_b=add_warning(installation, case_b, assigned_to=cm_id), users=users,
        marketing=add_marketing(installation, own=own, cm_id=cm_id))


# -- the probes: one harmless request per route --------------------------------------------

@dataclass(frozen=True)
class Probe:
    path: str
    kwargs: dict[str, Any]
    #: what a role holding the permission gets: one status, or in/out of scope
    ok: int
    out_of_scope: int | None = None


def probes(w: World) -> dict[tuple[str, str], Probe]:
    a, code = w.case_a.id, w.case_a.fixmedins_code
    bad = {"json": []}  # never a valid body: 422 for whoever may call the route
    return {
        ("GET", "/api/health"): Probe("/api/health", {}, 200),
        ("POST", "/api/auth/login"): Probe("/api/auth/login", bad, 422),
        ("POST", "/api/auth/token"): Probe("/api/auth/token", bad, 422),
        ("POST", "/api/auth/logout"): Probe("/api/auth/logout", {}, 204),  # run last
        ("GET", "/api/auth/tokens"): Probe("/api/auth/tokens", {}, 200),
        ("DELETE", "/api/auth/tokens/{token_id}"): Probe(f"/api/auth/tokens/{MISSING}", {}, 404),
        ("GET", "/api/me"): Probe("/api/me", {}, 200),
        ("POST", "/api/me/password"): Probe("/api/me/password", bad, 422),
        ("PUT", "/api/me/locale"): Probe("/api/me/locale", {"json": {"locale": "fr"}}, 422),
        ("GET", "/api/options"): Probe("/api/options", {}, 200),
        ("GET", "/api/dashboard"): Probe("/api/dashboard", {}, 200),
        ("GET", "/api/cases"): Probe("/api/cases", {"params": {"state": "assigned"}}, 200),
        ("GET", "/api/cases/export.xlsx"): Probe("/api/cases/export.xlsx", {}, 200),
        ("GET", "/api/cases/export.csv"): Probe("/api/cases/export.csv", {}, 200),
        ("GET", "/api/cases/{case_id}"): Probe(f"/api/cases/{a}", {}, 200, 404),
        ("GET", "/api/cases/{case_id}/limit-actions"): Probe(
            f"/api/cases/{a}/limit-actions", {}, 200, 404),
        ("POST", "/api/cases/{case_id}/claim"): Probe(f"/api/cases/{MISSING}/claim", {}, 404),
        ("POST", "/api/cases/{case_id}/verification"): Probe(
            f"/api/cases/{a}/verification", bad, 422),
        ("POST", "/api/cases/{case_id}/confirmation"): Probe(
            f"/api/cases/{MISSING}/confirmation", {}, 404),
        ("POST", "/api/cases/{case_id}/reassignment"): Probe(
            f"/api/cases/{MISSING}/reassignment",
            {"json": {"client_manager": "nobody", "reason": "休假 on leave"}}, 404),
        ("POST", "/api/cases/{case_id}/mismatch-override"): Probe(
            f"/api/cases/{MISSING}/mismatch-override", {"json": {"reason": "已核实 ok"}}, 404),
        ("GET", "/api/cases/{case_id}/attachments"): Probe(
            f"/api/cases/{a}/attachments", {}, 200, 404),
        # an empty body: refused beside its field by whoever may attach
        ("POST", "/api/cases/{case_id}/attachments"): Probe(
            f"/api/cases/{MISSING}/attachments", {"params": {"filename": "执照.jpg"}}, 404),
        ("GET", "/api/cases/{case_id}/attachments/{attachment_id}"): Probe(
            f"/api/cases/{a}/attachments/{MISSING}", {}, 404),
        ("GET", "/api/warnings"): Probe("/api/warnings", {}, 200),
        ("GET", "/api/warnings/export.xlsx"): Probe("/api/warnings/export.xlsx", {}, 200),
        ("GET", "/api/warnings/export.csv"): Probe("/api/warnings/export.csv", {}, 200),
        ("GET", "/api/warnings/outcomes"): Probe("/api/warnings/outcomes", {}, 200),
        ("GET", "/api/warnings/{warning_id}"): Probe(f"/api/warnings/{w.warn_a}", {}, 200, 404),
        ("POST", "/api/warnings/{warning_id}/outcome"): Probe(
            f"/api/warnings/{w.warn_a}/outcome", bad, 422),
        ("GET", "/api/institutions/{code}"): Probe(f"/api/institutions/{code}", {}, 200, 404),
        ("GET", "/api/institutions/{code}/settlement"): Probe(
            f"/api/institutions/{code}/settlement", {}, 200, 404),
        ("GET", "/api/data-quality"): Probe("/api/data-quality", {}, 200),
        ("GET", "/api/models"): Probe("/api/models", {}, 200),
        ("GET", "/api/models/diff"): Probe("/api/models/diff", {"params": {"a": 1, "b": 1}}, 200),
        ("GET", "/api/models/shadow"): Probe("/api/models/shadow", {}, 200),
        ("GET", "/api/models/{version_id}"): Probe("/api/models/1", {}, 200),
        ("POST", "/api/models"): Probe("/api/models", bad, 422),
        ("POST", "/api/models/{version_id}/actions"): Probe(
            "/api/models/1/actions", {"json": {"action": "explode"}}, 422),
        # version 1 (the seeded rule) has no build report: the workbench's reads say so
        ("GET", "/api/models/{version_id}/validation"): Probe(
            "/api/models/1/validation", {}, 404),
        ("GET", "/api/models/{version_id}/validation.xlsx"): Probe(
            "/api/models/1/validation.xlsx", {}, 404),
        ("GET", "/api/models/{version_id}/monitoring"): Probe(
            "/api/models/1/monitoring", {}, 404),
        ("POST", "/api/models/builds"): Probe(
            "/api/models/builds", {"content": b"", "headers": {"content-type": "text/csv"}},
            422),
        ("GET", "/api/performance"): Probe("/api/performance", {}, 200),
        ("GET", "/api/performance/export.xlsx"): Probe("/api/performance/export.xlsx", {}, 200),
        ("GET", "/api/performance/export.csv"): Probe("/api/performance/export.csv", {}, 200),
        ("GET", "/api/sla/penalties"): Probe("/api/sla/penalties", {}, 200),
        ("POST", "/api/sla/penalties/{penalty_id}/lift"): Probe(
            f"/api/sla/penalties/{MISSING}/lift", {"json": {"reason": "已整改 fixed"}}, 404),
        ("GET", "/api/sla/calendar"): Probe("/api/sla/calendar", {}, 200),
        ("GET", "/api/me/notifications"): Probe("/api/me/notifications", {}, 200),
        ("POST", "/api/me/notifications/read"): Probe(
            "/api/me/notifications/read", {"json": {"ids": [MISSING]}}, 200),
        ("GET", "/api/audit"): Probe("/api/audit", {}, 200),
        ("GET", "/api/audit/export.xlsx"): Probe("/api/audit/export.xlsx", {}, 200),
        ("GET", "/api/audit/export.csv"): Probe("/api/audit/export.csv", {}, 200),
        ("GET", "/api/outbox"): Probe("/api/outbox", {"params": {"status": "dead"}}, 200),
        ("POST", "/api/outbox/{outbox_id}/retry"): Probe(
            f"/api/outbox/{MISSING}/retry", {"json": {"reason": "peer back up"}}, 404),
        ("GET", "/api/outbox/events"): Probe("/api/outbox/events", {"params": {"status": "dead"}},
                                             200),
        ("POST", "/api/outbox/events/{event_id}/retry"): Probe(
            f"/api/outbox/events/{MISSING}/retry", {"json": {"reason": "handler mended"}}, 404),
        ("GET", "/api/users"): Probe("/api/users", {}, 200),
        ("POST", "/api/users"): Probe("/api/users", bad, 422),
        ("PATCH", "/api/users/{user_id}"): Probe(f"/api/users/{MISSING}", {"json": {}}, 404),
        ("POST", "/api/users/{user_id}/password-reset"): Probe(
            f"/api/users/{MISSING}/password-reset", {}, 404),
        **marketing_probes(w.marketing, bad),
    }


def marketing_probes(m: Marketing, bad: dict[str, Any]) -> dict[tuple[str, str], Probe]:
    whose = {"params": {"manager_id": m.manager_id}}
    return {
        ("GET", "/api/marketing/prospects"): Probe("/api/marketing/prospects", {}, 200),
        ("GET", "/api/marketing/prospects/{prospect_id}"): Probe(
            f"/api/marketing/prospects/{m.prospect}", {}, 200, 404),
        ("POST", "/api/marketing/prospects/{prospect_id}/outcome"): Probe(
            f"/api/marketing/prospects/{m.prospect}/outcome", bad, 422),
        ("GET", "/api/marketing/call-list"): Probe("/api/marketing/call-list", whose, 200, 404),
        ("GET", "/api/marketing/call-list/export.xlsx"): Probe(
            "/api/marketing/call-list/export.xlsx", whose, 200, 404),
        ("GET", "/api/marketing/call-list/export.csv"): Probe(
            "/api/marketing/call-list/export.csv", whose, 200, 404),
        ("GET", "/api/marketing/campaigns"): Probe("/api/marketing/campaigns", {}, 200),
        ("POST", "/api/marketing/campaigns"): Probe("/api/marketing/campaigns", bad, 422),
        ("GET", "/api/marketing/campaigns/{campaign_id}"): Probe(
            f"/api/marketing/campaigns/{m.campaign}", {}, 200),
        ("GET", "/api/marketing/imports"): Probe("/api/marketing/imports", {}, 200),
        ("POST", "/api/marketing/imports"): Probe(
            "/api/marketing/imports", {"params": {"filename": "名单.xlsx"}, **bad}, 422),
        ("GET", "/api/marketing/imports/{import_id}"): Probe(
            f"/api/marketing/imports/{m.import_id}", {}, 200),
        ("GET", "/api/marketing/imports/{import_id}/report.xlsx"): Probe(
            f"/api/marketing/imports/{m.import_id}/report.xlsx", {}, 200),
    }


GATEWAY = {("POST", "/fsi/api/bank/callService"), ("POST", "/fsi/api/bank/headoffice/callService")}


def test_the_permission_table_covers_every_route_of_the_app_and_nothing_else(
        installation: Installation) -> None:
    served = served_routes(installation.bank.app)
    assert served - NOT_API == set(ROUTES), (
        f"routes without a line: {sorted(served - NOT_API - set(ROUTES))}; "
        f"lines without a route: {sorted(set(ROUTES) - served)}")


def test_every_api_route_answers_every_role_and_anonymous_as_the_table_says(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    table = probes(w)
    assert set(table) | GATEWAY == set(ROUTES), "a route without a probe"
    failures: list[str] = []
    order = sorted(table, key=lambda r: r == ("POST", "/api/auth/logout"))  # log-out last
    for route in order:
        permission = ROUTES[route]
        probe = table[route]
        for label, role in ROLE_OF.items():
            if role is None:
                expected = probe.ok if permission is Permission.PUBLIC else 401
            elif not may(role, permission):
                expected = 403
            elif probe.out_of_scope is not None and not w.in_scope(label):
                expected = probe.out_of_scope
            else:
                expected = probe.ok
            r = w.clients[label].request(route[0], probe.path, **probe.kwargs)
            if r.status_code != expected:
                failures.append(f"{route[0]} {probe.path} as {label}: {r.status_code} != "
                                f"{expected} {r.text[:160]!r}")
            elif expected >= 400:
                body = r.json()
                if not (body.get("code") and body.get("message_zh") and body.get("message_en")):
                    failures.append(f"{route[0]} {probe.path} as {label}: not the error shape")
    # the signed envelope endpoints answer every caller alike (infcode says why not)
    for route in sorted(GATEWAY):
        for label in ROLE_OF:
            r = w.clients[label].post(route[1], content=b"{}")
            if r.status_code != 200 or r.json().get("infcode") == 0:
                failures.append(f"{route[1]} as {label}: {r.status_code} {r.text[:100]!r}")
    w.close()
    assert not failures, "\n".join(failures)


def test_sub_branch_users_see_only_their_own_records_in_every_list(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    for label in ("sub_branch_manager", "client_manager", "other_client_manager"):
        c = w.clients[label]
        mine = w.own if not label.startswith("other") else w.other
        cases = c.get("/api/cases", params={"page_size": 200}).json()["items"]
        assert cases and {x["sub_branch_code"] for x in cases} == {mine}, label
        warnings = c.get("/api/warnings").json()["items"]
        assert {x["sub_branch_code"] for x in warnings} <= {mine}, label
        # asking for another sub-branch narrows to nothing, never widens
        other = w.other if mine == w.own else w.own
        assert c.get("/api/cases", params={"sub_branch": other}).json()["total"] == 0
        due = c.get("/api/dashboard").json()["due"]
        assert [d["sub_branch_code"] for d in due] == [mine], label
        org = c.get("/api/options").json()["org"][0]["children"]
        assert [o["value"] for o in org] == [mine], label
        assert c.get(f"/api/cases/{(w.elsewhere if mine == w.own else w.case_a).id}"
                     ).status_code == 404
    gm = w.clients["branch_manager"]
    subs = {x["sub_branch_code"] for x in gm.get("/api/cases").json()["items"]}
    assert {w.own, w.other} <= subs
    w.close()


def test_the_staff_journey_refuses_everyone_but_the_one_who_may(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    failures: list[str] = []

    def check(method: str, path: str, label: str, expected: int, **kw: Any) -> httpx.Response:
        r = w.clients[label].request(method, path, **kw)
        if r.status_code != expected:
            failures.append(f"{method} {path} as {label}: {r.status_code} != {expected} "
                            f"{r.text[:200]!r}")
        return r

    cid = w.case_a.id
    for label, status in (("anonymous", 401), ("branch_admin", 403), ("auditor", 403),
                          ("branch_manager", 403), ("other_client_manager", 404),
                          ("other_sub_branch_manager", 404), ("client_manager", 200),
                          ("sub_branch_manager", 409)):
        check("POST", f"/api/cases/{cid}/claim", label, status)
    detail = w.clients["client_manager"].get(f"/api/cases/{cid}").json()
    assert detail["actions"] == {"claim": False, "verify": True, "confirm": False,
                                 "override": False, "reassign": False, "attach": True}
    vpath = f"/api/cases/{cid}/verification"
    for label, status, body in (("other_client_manager", 404, CHECKLIST_ALL),
                                ("client_manager", 422, {"identity": True}),
                                ("client_manager", 200, CHECKLIST_ALL),
                                ("sub_branch_manager", 409, CHECKLIST_ALL)):
        check("POST", vpath, label, status, json={"checklist": body})
    assert w.clients["sub_branch_manager"].get(f"/api/cases/{cid}").json()["actions"][
        "confirm"] is True
    for label, status in (("client_manager", 403), ("other_sub_branch_manager", 404),
                          ("sub_branch_manager", 200), ("sub_branch_manager", 409)):
        check("POST", f"/api/cases/{cid}/confirmation", label, status)
    wpath = f"/api/warnings/{w.warn_a}/outcome"
    ok = {"json": {"outcome": "已电话核实，经营正常 checked by phone"}}
    listed = {x["id"]: x for x in w.clients["client_manager"].get("/api/warnings").json()[
        "items"]}
    assert listed[w.warn_a]["can_handle"] is True
    other_cm = w.clients["auditor"].get(f"/api/warnings/{w.warn_a}").json()
    assert other_cm["can_handle"] is False
    for label, status, kw in (("other_client_manager", 404, ok),
                              ("branch_manager", 403, ok),  # not escalated to the branch
                              ("client_manager", 422, {"json": {"outcome": "x"}}),
                              ("client_manager", 200, ok), ("sub_branch_manager", 409, ok)):
        check("POST", wpath, label, status, **kw)
    assert w.clients["client_manager"].get(f"/api/warnings/{w.warn_a}").json()[
        "can_handle"] is False
    w.close()
    assert not failures, "\n".join(failures)
    with installation.bank.db.unit_of_work() as s:
        assert s.get(CaseRow, cid).state == "confirmed"  # type: ignore[union-attr]
        assert s.get(WarningRow, w.warn_a).state == "closed"  # type: ignore[union-attr]
