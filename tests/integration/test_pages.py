"""The report platform's pages over real HTTP: CSRF, the login form, masking per role, and
who sees settlement data."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import admitted_cases, csrf_of, page_client
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import CaseEventRow, CaseRow, InstitutionRow, UserRow
from yibaodai.sim.server import ServerThread


def sign_in(server: ServerThread, installation: Installation, username: str) -> httpx.Client:
    return page_client(server.url, username, installation.accounts[username].password)


def test_a_wrong_password_shows_a_bilingual_error_and_no_session(
        bank_server: ServerThread) -> None:
    with httpx.Client(base_url=bank_server.url) as client:
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"username": "gm", "password": "nope", "csrf": token})
        assert r.status_code == 200
        assert "用户名或密码错误" in r.text and "Wrong username or password" in r.text
        assert client.get("/", follow_redirects=False).status_code == 303


def test_forms_without_a_valid_csrf_token_are_refused_and_change_nothing(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    case = admitted_cases(bank_server, installation, clock, count=2)[0]
    cm = sign_in(bank_server, installation, f"cm_{case.sub_branch_code.lower()}_1")
    with installation.bank.db.unit_of_work() as s:
        events_before = s.scalar(select(func.count()).select_from(CaseEventRow))
    for data in ({}, {"csrf": "forged"}, {"csrf": ""}):
        r = cm.post(f"/cases/{case.id}/claim", data=data, follow_redirects=False)
        assert r.status_code == 403
        assert "表单已失效" in r.text and "form expired" in r.text
    anon = httpx.Client(base_url=bank_server.url)
    r = anon.post("/login", data={"username": "gm",
                                  "password": installation.accounts["gm"].password})
    assert r.status_code == 403 and "form expired" in r.text
    with installation.bank.db.unit_of_work() as s:
        row = s.get(CaseRow, case.id)
        assert row is not None and row.state == "assigned" and row.claimed_at is None
        assert s.scalar(select(func.count()).select_from(CaseEventRow)) == events_before
    # with the token the same form works
    page = cm.get(f"/cases/{case.id}").text
    r = cm.post(f"/cases/{case.id}/claim", data={"csrf": csrf_of(page)},
                follow_redirects=True)
    assert r.status_code == 200 and 'data-state="claimed"' in r.text
    cm.close()
    anon.close()


def test_case_page_masks_identifiers_by_role_and_shows_settlement_data_to_managers_only(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    case = admitted_cases(bank_server, installation, clock, count=2)[0]
    sub = case.sub_branch_code.lower()
    with installation.bank.db.unit_of_work() as s:
        inst = s.get(InstitutionRow, case.fixmedins_code)
        assert inst is not None and inst.legrep_name and inst.bankacct
        legrep, acct = inst.legrep_name, inst.bankacct
        cm_user = s.scalars(select(UserRow).where(UserRow.username == f"cm_{sub}_1")).one()
        cm_name, cm_staff_no = cm_user.display_name, cm_user.staff_no
    masked_name = legrep[0] + "*" * (len(legrep) - 1)
    masked_acct = "*" * (len(acct) - 4) + acct[-4:]

    def field(html: str, ident: str) -> str:
        found = re.search(rf'<dd id="{ident}">([^<]*)</dd>', html)
        assert found, ident
        return found.group(1)

    expectations = {
        # username: (legal representative, bank account, sees settlement data)
        f"cm_{sub}_1": (masked_name, masked_acct, False),
        "auditor": (masked_name, masked_acct, False),
        "admin": (legrep, masked_acct, False),
        f"mgr_{sub}": (legrep, acct, True),
        "gm": (legrep, acct, True),
    }
    for username, (name_shown, acct_shown, sees_data) in expectations.items():
        client = sign_in(bank_server, installation, username)
        html = client.get(f"/cases/{case.id}").text
        assert field(html, "legrep") == name_shown, username
        assert field(html, "bankacct") == acct_shown, username
        assert ('id="monthly-fund-pay"' in html) is sees_data, username
        assert ('id="decision-inputs"' in html) is sees_data, username
        if sees_data:
            rows = re.findall(r"<tr><td>(\d{4}-\d{2})</td><td class=\"num\">([\d,]+\.\d\d)</td>",
                              html)
            assert len(rows) == 12, username
            assert any("," in amount for _, amount in rows)
        else:
            assert acct not in html and "monthly_fund_pay" not in html
        # amounts in yuan with thousands separators; reasons in both languages
        assert re.search(r'id="limit">[\d,]+\.\d\d<', html)
        assert "额度按近12个月" in html or "额度下调" in html
        assert "12-month" in html or "limit reduced" in html
        client.close()
    cm = sign_in(bank_server, installation, f"cm_{sub}_1")
    html = cm.get(f"/cases/{case.id}").text
    assert f"{cm_name} {cm_staff_no} {clock.today().isoformat()} 请勿外传" in html
    cm.close()


def test_another_sub_branchs_case_is_a_404_page_and_the_list_filters_by_sub_branch(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    cases = admitted_cases(bank_server, installation, clock, count=3)
    subs = sorted({c.sub_branch_code for c in cases})
    assert len(subs) >= 2
    mine, theirs = cases[0], next(c for c in cases if c.sub_branch_code != cases[0].sub_branch_code)
    cm = sign_in(bank_server, installation, f"cm_{mine.sub_branch_code.lower()}_1")
    r = cm.get(f"/cases/{theirs.id}")
    assert r.status_code == 404 and "案件不存在" in r.text and "case not found" in r.text
    assert "sub_branch" not in cm.get("/").text.split("<table")[0]  # no sub-branch filter
    gm = sign_in(bank_server, installation, "gm")
    listing = gm.get("/", params={"sub_branch": theirs.sub_branch_code}).text
    assert f'href="/cases/{theirs.id}"' in listing
    assert f'href="/cases/{mine.id}"' not in listing
    assert "已分配待认领" in listing
    cm.close()
    gm.close()
