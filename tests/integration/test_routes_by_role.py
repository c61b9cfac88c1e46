"""Every public route, asked by every role and by nobody, over real HTTP: the status each
one gets, and that a sub-branch never sees another sub-branch's case (API and pages alike).

The table of covered routes is compared with the app's own route list, so a new route
cannot ship without a line here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import Installation
from yibaodai.bootstrap import keyring
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import CaseRow, UserRow, WarningRow
from yibaodai.sim.bureau import BureauPusher
from yibaodai.sim.city import generate_city
from yibaodai.sim.server import ServerThread

UNDOCUMENTED = {"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
HISTORY_START = date(2025, 8, 1)   # 13 months: enough for admission, cheap to push
HISTORY_END = date(2026, 8, 31)
CHECKLIST_ALL = {k: True for k in ("identity", "licence", "address", "settlement_account",
                                   "operating_status")}

#: (method, path) of every route this module exercises.
COVERED = {
    ("POST", "/fsi/api/bank/callService"),
    ("POST", "/fsi/api/bank/headoffice/callService"),
    ("POST", "/api/auth/token"),
    ("GET", "/api/me"),
    ("GET", "/api/cases"),
    ("GET", "/api/cases/{case_id}"),
    ("POST", "/api/cases/{case_id}/claim"),
    ("POST", "/api/cases/{case_id}/verification"),
    ("POST", "/api/cases/{case_id}/confirmation"),
    ("GET", "/api/warnings"),
    ("POST", "/api/warnings/{warning_id}/outcome"),
    ("GET", "/api/institutions/{code}/settlement"),
    ("GET", "/api/data-quality"),
    ("GET", "/api/health"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/"),
    ("GET", "/cases/{case_id}"),
    ("POST", "/cases/{case_id}/claim"),
    ("POST", "/cases/{case_id}/verification"),
    ("POST", "/cases/{case_id}/confirmation"),
    ("GET", "/warnings"),
    ("POST", "/warnings/{warning_id}/outcome"),
}


def _walk(routes: list[Any], prefix: str) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI keeps included routers as one entry
            out |= _walk(included.routes, prefix + route.include_context.prefix)
            continue
        path = prefix + getattr(route, "path", "")
        if path in UNDOCUMENTED or path.startswith("/static"):
            continue
        for method in getattr(route, "methods", None) or {"GET"}:
            if method != "HEAD":
                out.add((method, path))
    return out


def app_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, included routers flattened."""
    return _walk(list(app.routes), "")


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


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def page_client(base_url: str, username: str | None, password: str | None) -> httpx.Client:
    """A browser-like client; signed in through the real login form when a user is given."""
    client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    if username is not None:
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"username": username, "password": password or "",
                                        "csrf": token})
        assert r.status_code == 303, f"login as {username} failed: {r.status_code}"
    return client


def fresh_csrf(client: httpx.Client) -> str:
    return csrf_of(client.get("/login").text)


# -- the table -----------------------------------------------------------------------------

@dataclass
class Who:
    label: str
    username: str | None
    api: httpx.Client       # bearer token (or none)
    page: httpx.Client      # signed session (or none)


def test_the_route_table_covers_every_route_of_the_app(installation: Installation) -> None:
    routes = app_routes(installation.bank.app)
    assert routes - COVERED == set(), f"routes without a role test: {sorted(routes - COVERED)}"
    assert COVERED - routes == set(), f"tested routes that no longer exist: {COVERED - routes}"


def test_every_route_answers_every_role_and_anonymous_as_designed(
        bank_server: ServerThread,
        installation: Installation, clock: SimulatedClock) -> None:
    cases = admitted_cases(bank_server, installation, clock)
    by_sub: dict[str, list[CaseRow]] = {}
    for c in cases:
        by_sub.setdefault(c.sub_branch_code, []).append(c)
    own = max(by_sub, key=lambda k: len(by_sub[k]))
    case_a = by_sub[own][0]
    case_b = by_sub[own][1] if len(by_sub[own]) > 1 else by_sub[own][0]
    elsewhere = next(c for c in cases if c.sub_branch_code != own)
    other = next(f"DL{n:03d}" for n in range(1, 18) if f"DL{n:03d}" not in by_sub)
    acc = installation.accounts
    cm_own = f"cm_{own.lower()}_1"
    users = {
        "anonymous": None, "branch_admin": "admin", "branch_manager": "gm",
        "auditor": "auditor", "sub_branch_manager": f"mgr_{own.lower()}",
        "client_manager": cm_own, "other_sub_branch_manager": f"mgr_{other.lower()}",
        "other_client_manager": f"cm_{other.lower()}_1",
    }
    base = bank_server.url
    who: dict[str, Who] = {}
    for label, username in users.items():
        headers = {}
        if username:
            r = httpx.post(f"{base}/api/auth/token", json={
                "username": username, "password": acc[username].password})
            assert r.status_code == 200
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
        who[label] = Who(label, username,
                         httpx.Client(base_url=base, headers=headers, timeout=30),
                         page_client(base, username,
                                     acc[username].password if username else None))
    with installation.bank.db.unit_of_work() as s:
        cm_id = s.scalars(select(UserRow.id).where(UserRow.username == cm_own)).one()
    warn_api = add_warning(installation, case_a, assigned_to=cm_id)
    warn_page = add_warning(installation, case_b, assigned_to=cm_id)

    failures: list[str] = []
    covered: set[tuple[str, str]] = set()
    everyone = list(users)
    staff = [k for k in users if k != "anonymous"]
    branch_wide = ["branch_admin", "branch_manager", "auditor"]

    def check(route: tuple[str, str], label: str, expected: int, *, path: str | None = None,
              page: bool = False, csrf: bool = True, **kw: Any) -> httpx.Response:
        covered.add(route)
        method, template = route
        client = who[label].page if page else who[label].api
        url = path or template
        kw = {k: v for k, v in kw.items() if v is not None}
        if page and method == "POST" and csrf:
            kw["data"] = {**kw.get("data", {}), "csrf": fresh_csrf(client)}
        r = client.request(method, url, **kw)
        if r.status_code != expected:
            failures.append(f"{method} {url} as {label}: {r.status_code} != {expected} "
                            f"{r.text[:200]!r}")
        return r

    # national-style gateway: always HTTP 200, the envelope's infcode tells the story
    for label in everyone:
        for route in (("POST", "/fsi/api/bank/callService"),
                      ("POST", "/fsi/api/bank/headoffice/callService")):
            r = check(route, label, 200, content=b"{}")
            assert r.json().get("infcode") != 0
    # health and the login form are public
    for label in everyone:
        check(("GET", "/api/health"), label, 200)
        check(("GET", "/login"), label, 200, page=True)
    # tokens
    check(("POST", "/api/auth/token"), "anonymous", 422,
          json={"username": "gm", "password": "wrong"})
    for label in staff:
        check(("POST", "/api/auth/token"), label, 200,
              json={"username": users[label], "password": acc[str(users[label])].password})
    # reads: anonymous is refused (401 on the API, sent to the login form on pages)
    for route, page in ((("GET", "/api/me"), False), (("GET", "/api/cases"), False),
                        (("GET", "/api/warnings"), False), (("GET", "/"), True),
                        (("GET", "/warnings"), True)):
        check(route, "anonymous", 303 if page else 401, page=page)
        for label in staff:
            check(route, label, 200, page=page)
    for label in staff:
        me = who[label].api.get("/api/me").json()
        assert me["username"] == users[label]
        seen = {c["sub_branch_code"] for c in who[label].api.get("/api/cases").json()}
        expected_subs = set(by_sub) if label in branch_wide else (
            {own} if "other" not in label else set())
        if seen != expected_subs:
            failures.append(f"/api/cases as {label} saw {seen}, expected {expected_subs}")
        listing = who[label].page.get("/").text
        for c in cases:
            visible = f'href="/cases/{c.id}"' in listing
            if visible != (c.sub_branch_code in expected_subs):
                failures.append(f"/ as {label}: case {c.id} visible={visible}")
        wseen = {w["id"] for w in who[label].api.get("/api/warnings").json()}
        if wseen != ({warn_api, warn_page} if expected_subs else set()):
            failures.append(f"/api/warnings as {label} saw {wseen}")
    # one case, read: in scope 200, out of scope or unknown 404 (never 403)
    for route, page in ((("GET", "/api/cases/{case_id}"), False),
                        (("GET", "/cases/{case_id}"), True)):
        prefix = "/api" if not page else ""
        check(route, "anonymous", 303 if page else 401, path=f"{prefix}/cases/{case_a.id}",
              page=page)
        for label in staff:
            in_scope = label in branch_wide or not label.startswith("other")
            check(route, label, 200 if in_scope else 404, path=f"{prefix}/cases/{case_a.id}",
                  page=page)
            check(route, label, 404, path=f"{prefix}/cases/999999", page=page)
        for label in ("sub_branch_manager", "client_manager"):
            check(route, label, 404, path=f"{prefix}/cases/{elsewhere.id}", page=page)
    # settlement data: department managers and above, within scope
    code = case_a.fixmedins_code
    route = ("GET", "/api/institutions/{code}/settlement")
    path = f"/api/institutions/{code}/settlement"
    for label, status in (("anonymous", 401), ("branch_admin", 403), ("auditor", 403),
                          ("client_manager", 403), ("other_client_manager", 403),
                          ("branch_manager", 200), ("sub_branch_manager", 200),
                          ("other_sub_branch_manager", 404)):
        check(route, label, status, path=path)
    check(route, "sub_branch_manager", 404,
          path=f"/api/institutions/{elsewhere.fixmedins_code}/settlement")
    # data-quality flags: department managers and above (scope: test_gateway_8302_8303.py)
    for label, status in (("anonymous", 401), ("branch_admin", 403), ("auditor", 403),
                          ("client_manager", 403), ("other_client_manager", 403),
                          ("branch_manager", 200), ("sub_branch_manager", 200),
                          ("other_sub_branch_manager", 200)):
        check(("GET", "/api/data-quality"), label, status)

    # writes through the API on case A: the refusals first, then the one who may
    def walk(prefix: str, case: CaseRow, page: bool) -> None:
        anon = 303 if page else 401
        cid = case.id
        claim = ("POST", f"{prefix}/cases/{{case_id}}/claim")
        for label, status in (("anonymous", anon), ("branch_admin", 403), ("auditor", 403),
                              ("branch_manager", 403), ("other_client_manager", 404),
                              ("other_sub_branch_manager", 404), ("client_manager", 303
                                                                   if page else 200),
                              ("sub_branch_manager", 409)):
            check(claim, label, status, path=f"{prefix}/cases/{cid}/claim", page=page)
        verify = ("POST", f"{prefix}/cases/{{case_id}}/verification")
        vpath = f"{prefix}/cases/{cid}/verification"
        good: dict[str, Any] = ({"data": {"checklist": list(CHECKLIST_ALL), "note": "ok"}}
                                if page else {"json": {"checklist": CHECKLIST_ALL}})
        bad: dict[str, Any] = ({"data": {"checklist": ["identity", "bogus"]}} if page
                               else {"json": {"checklist": {"identity": True}}})
        for label, status, body in (("anonymous", anon, good), ("branch_admin", 403, good),
                                    ("auditor", 403, good), ("branch_manager", 403, good),
                                    ("other_client_manager", 404, good),
                                    ("client_manager", 422, bad),
                                    ("client_manager", 303 if page else 200, good),
                                    ("sub_branch_manager", 409, good)):
            check(verify, label, status, path=vpath, page=page, **body)
        confirm = ("POST", f"{prefix}/cases/{{case_id}}/confirmation")
        for label, status in (("anonymous", anon), ("branch_admin", 403), ("auditor", 403),
                              ("branch_manager", 403), ("client_manager", 403),
                              ("other_sub_branch_manager", 404),
                              ("sub_branch_manager", 303 if page else 200),
                              ("sub_branch_manager", 409)):
            check(confirm, label, status, path=f"{prefix}/cases/{cid}/confirmation", page=page)

    walk("/api", case_a, page=False)
    walk("", case_b, page=True)
    # a page form without its CSRF token is refused and changes nothing
    r = check(("POST", "/cases/{case_id}/claim"), "client_manager", 403,
              path=f"/cases/{case_b.id}/claim", page=True, csrf=False)
    assert "表单已失效" in r.text

    # warnings: client managers and sub-branch managers of that sub-branch handle them
    for prefix, wid, page in (("/api", warn_api, False), ("", warn_page, True)):
        route = ("POST", f"{prefix}/warnings/{{warning_id}}/outcome")
        wpath = f"{prefix}/warnings/{wid}/outcome"
        ok, short = "已电话核实，经营正常 checked by phone", "x"

        def body(text: str, page: bool = page) -> dict[str, Any]:
            return {"data": {"outcome": text}} if page else {"json": {"outcome": text}}

        for label, status, text in (("anonymous", 303 if page else 401, ok),
                                    ("branch_admin", 403, ok), ("auditor", 403, ok),
                                    ("branch_manager", 403, ok),
                                    ("other_client_manager", 404, ok),
                                    ("client_manager", 422, short),
                                    ("client_manager", 303 if page else 200, ok),
                                    ("sub_branch_manager", 409, ok)):
            payload = body(text)
            check(route, label, status, path=wpath, page=page, data=payload.get("data"),
                  json=payload.get("json"))

    # login and logout through the form
    check(("POST", "/login"), "anonymous", 403, page=True, csrf=False,
          data={"username": "gm", "password": acc["gm"].password})
    check(("POST", "/login"), "anonymous", 200, page=True,
          data={"username": "gm", "password": "wrong"})
    check(("POST", "/logout"), "anonymous", 403, page=True, csrf=False)
    for label in staff:
        check(("POST", "/logout"), label, 303, page=True)
        if who[label].page.get("/").status_code != 303:
            failures.append(f"still signed in after logout as {label}")

    for w in who.values():
        w.api.close()
        w.page.close()
    assert covered == COVERED, f"routes not exercised: {COVERED - covered}"
    assert not failures, "\n".join(failures)
    with installation.bank.db.unit_of_work() as s:
        states = {c.id: c.state for c in s.scalars(select(CaseRow))}
    assert states[case_a.id] == "confirmed" and states[case_b.id] == "confirmed"
