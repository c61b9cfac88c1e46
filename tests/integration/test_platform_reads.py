"""The platform's read APIs over real HTTP, on cases the real bureau flow made: the latest
decision and its history formatted for people, settlement figures only for department
managers and above, masking and its audit, list filters, the dashboard's click-through links,
the institution view, whitelist settings with maker-checker, the performance board, the outbox
and the audit log."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import World, make_world, token_client
from tests.support.flow import city, likely_admitted, world
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import AuditRow, CaseRow, DecisionRow, OutboxRow
from yibaodai.outbound.outbox import BUREAU, enqueue
from yibaodai.reports.formatting import CATALOGUE
from yibaodai.sim.server import ServerThread

SETTLEMENT_KEYS = {k for k, f in CATALOGUE.items() if f.settlement}


def labelled_keys(decision: dict[str, Any]) -> set[str]:
    return {v["key"] for r in decision["reasons"] for v in r["values"]} | {
        x["key"] for x in decision["inputs"] or []}


def audits(installation: Installation, action: str) -> list[AuditRow]:
    with installation.bank.db.unit_of_work() as s:
        rows = list(s.scalars(select(AuditRow).where(AuditRow.action == action)
                              .order_by(AuditRow.id)))
        s.expunge_all()
    return rows


def test_only_managers_get_settlement_figures_in_a_case_and_every_value_is_for_people(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    with installation.bank.db.unit_of_work() as s:
        decision = s.scalars(select(DecisionRow).where(
            DecisionRow.fixmedins_code == w.case_a.fixmedins_code)).one()
        avg12 = decision.inputs["features"]["avg_monthly_fund_pay_12m"]
    for label in ("client_manager", "branch_admin", "auditor"):
        text = w.clients[label].get(f"/api/cases/{w.case_a.id}").text
        detail = json.loads(text)
        assert detail["decision"]["inputs"] is None, label
        assert not labelled_keys(detail["decision"]) & SETTLEMENT_KEYS, label
        assert avg12 not in text and f"{Decimal(avg12):,.2f}" not in text, label
    for label in ("sub_branch_manager", "branch_manager"):
        detail = w.clients[label].get(f"/api/cases/{w.case_a.id}").json()
        keys = labelled_keys(detail["decision"])
        assert "avg_monthly_fund_pay_12m" in keys and "cv_12m" in keys, label
        shown = [x for x in detail["decision"]["inputs"]]
        assert len({x["key"] for x in shown}) == len(shown)  # no key twice
        for x in shown + [v for r in detail["decision"]["reasons"] for v in r["values"]]:
            for text in (x["display_zh"], x["display_en"], x["label_zh"], x["label_en"]):
                assert text and "None" not in text and "_" not in x["label_en"], x
        by_key = {x["key"]: x for x in shown}
        assert by_key["avg_monthly_fund_pay_12m"]["display_zh"] == f"{Decimal(avg12):,.2f} 元"
        assert by_key["cv_12m"]["display_zh"].endswith("%")
        assert by_key["segment"]["display_zh"] in ("零售药店", "诊所/门诊部", "医院")
    w.close()


def test_personal_identifiers_are_masked_by_configuration_and_unmasked_views_audited(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    from yibaodai.db.models import InstitutionRow

    with installation.bank.db.unit_of_work() as s:
        inst = s.get(InstitutionRow, w.case_a.fixmedins_code)
        assert inst is not None and inst.legrep_name and inst.bankacct
        name, acct = inst.legrep_name, inst.bankacct
    masked_name = name[0] + "*" * (len(name) - 1)
    masked_acct = "*" * (len(acct) - 4) + acct[-4:]
    expect = {"client_manager": (masked_name, masked_acct), "auditor": (masked_name, masked_acct),
              "branch_admin": (name, masked_acct), "sub_branch_manager": (name, acct),
              "branch_manager": (name, acct)}
    for label, (shown_name, shown_acct) in expect.items():
        detail = w.clients[label].get(f"/api/cases/{w.case_a.id}").json()
        assert (detail["institution"]["legrep_name"], detail["institution"]["bankacct"]) == (
            shown_name, shown_acct), label
        account_fact = next(i for i in detail["checklist"] if i["key"] == "settlement_account")
        assert account_fact["bureau"][0]["value"] == shown_acct
    views = audits(installation, "personal_data.view")
    assert [(a.actor, a.details["fields"]) for a in views] == [
        ("admin", ["legrep_name"]), (w.users["sub_branch_manager"], ["legrep_name", "bankacct"]),
        ("gm", ["legrep_name", "bankacct"])]
    w.close()


def test_the_case_shows_the_latest_decision_after_a_penalty_re_decides_it(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as wo:
        wo.onboard(inst)
        with installation.bank.db.unit_of_work() as s:
            case_id = s.scalars(select(CaseRow.id).where(
                CaseRow.fixmedins_code == inst.fixmedins_code)).one()
        installation.clock.advance(timedelta(days=1))
        wo.pusher.push_event(inst, evt_type="penalty", evt_date=date(2026, 9, 1),
                             evt_desc="违规结算", evt_amt="5000.00")
        detail = wo.api("GET", "gm", f"/api/cases/{case_id}").json()
    assert [d["result"] for d in detail["decisions"]] == ["refused", "admitted"]
    assert detail["decision"] == detail["decisions"][0]
    assert detail["decision"]["credit_limit"] == "0.00"
    assert detail["decision"]["trigger_zh"] == "医保处罚重评"
    assert any(r["code"] == "K05" for r in detail["decision"]["reasons"])
    kinds = [t["kind"] for t in detail["timeline"]]
    assert kinds.count("decision") == 2 and kinds[0] in ("case", "decision")
    assert [t["at"] for t in detail["timeline"]] == sorted(t["at"] for t in detail["timeline"])


def test_the_case_list_filters_sorts_pages_and_names_a_bad_filter(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    gm = w.clients["branch_manager"]
    every = gm.get("/api/cases", params={"page_size": 200}).json()
    assert every["total"] == len(every["items"]) >= 2
    target = every["items"][-1]
    for q in (target["uscc"], target["fixmedins_code"], target["fixmedins_name"][2:6]):
        found = gm.get("/api/cases", params={"q": q}).json()["items"]
        assert target["id"] in [c["id"] for c in found], q
    assert [c["id"] for c in gm.get("/api/cases", params={"q": target["uscc"]}).json()[
        "items"]] == [target["id"]]
    limits = [Decimal(c["credit_limit"]) for c in gm.get(
        "/api/cases", params={"sort": "-credit_limit", "page_size": 200}).json()["items"]]
    assert limits == sorted(limits, reverse=True)
    first = gm.get("/api/cases", params={"page_size": 1, "page": 2}).json()
    assert first["total"] == every["total"] and len(first["items"]) == 1
    assert first["items"][0]["id"] == every["items"][1]["id"]
    # a page past the last has no row to carry the total: still the whole count
    past = gm.get("/api/cases", params={"page_size": 200, "page": 2}).json()
    assert past["total"] == every["total"] and past["items"] == []
    assert gm.get("/api/cases", params={"state": "claimed"}).json()["total"] == 0
    due = {v: gm.get("/api/cases", params={"overdue": v}).json()["total"]
           for v in ("true", "false")}
    assert due["true"] + due["false"] == every["total"]
    # past the claim deadline every assigned case is overdue, and due today was yesterday
    # (the same statement as before, the clock a parameter of it)
    clock.advance(timedelta(days=5))
    overdue = gm.get("/api/cases", params={"overdue": "true"}).json()
    assert overdue["total"] == every["total"] and all(c["overdue"] for c in overdue["items"])
    for params, field in (({"state": "bogus"}, "state"), ({"due_from": "2026-13-01"}, "due_from"),
                          ({"sort": "password"}, "sort"), ({"page_size": 1000}, "page_size"),
                          ({"overdue": "maybe"}, "overdue"), ({"institution_type": "x"},
                                                              "institution_type")):
        r = gm.get("/api/cases", params=params)
        assert r.status_code == 422, params
        assert [f["field"] for f in r.json()["fields"]] == [field]
        assert r.json()["fields"][0]["message_zh"] and r.json()["fields"][0]["message_en"]
    w.close()


def _figures(dash: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    out = [(f["count"], f["link"]) for f in dash["funnel"] if f["link"]]
    for row in dash["due"]:
        for key in ("claims_due_today", "claims_overdue", "verifications_due_today",
                    "verifications_overdue"):
            out.append((row[key]["count"], row[key]["link"]))
    out += [(x["count"], x["link"]) for x in dash["open_warnings"]]
    out += [(m["admitted_count"], m["link"]) for m in dash["monthly"]]
    return out


def test_every_dashboard_figure_clicks_through_to_a_list_of_exactly_its_rows(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    w.clients["client_manager"].post(f"/api/cases/{w.case_a.id}/claim")
    clock.advance(timedelta(days=2, hours=6))  # Thursday: the claim deadline of the rest
    for label in ("branch_manager", "sub_branch_manager", "client_manager"):
        c = w.clients[label]
        dash = c.get("/api/dashboard").json()
        with installation.bank.db.unit_of_work() as s:
            mine = [(x.credit_limit, x.claimed_at, x.state) for x in s.scalars(select(CaseRow))
                    if label == "branch_manager" or x.sub_branch_code == w.own]
        funnel = {f["stage"]: f for f in dash["funnel"]}
        assert funnel["admitted"]["count"] == len(mine), label
        assert Decimal(funnel["admitted"]["amount"]) == sum(x[0] for x in mine)
        assert funnel["claimed"]["count"] == sum(1 for x in mine if x[1]), label
        assert sum(r["claims_due_today"]["count"] for r in dash["due"]) == sum(
            1 for x in mine if x[2] == "assigned"), label
        assert sum(x["count"] for x in dash["open_warnings"]) == 2, label  # both in w.own
        for count, link in _figures(dash):
            listing = c.get("/api" + link["path"], params=link["query"]).json()
            assert listing["total"] == count, (label, link)
    w.close()


def test_the_institution_view_sums_months_with_their_mix_and_mean_in_scope(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    code = w.case_a.fixmedins_code
    view = w.clients["sub_branch_manager"].get(f"/api/institutions/{code}",
                                               params={"months": 13}).json()
    months = view["months"]
    assert len(months) == 13 and months[-1]["month"] == "2026-08"
    for m in months:
        assert Decimal(m["fund_pay"]) == Decimal(m["hifp_pay"]) + Decimal(m["other_fund_pay"])
        assert Decimal(m["medfee"]) == Decimal(m["fund_pay"]) + Decimal(m["acct_pay"]) + Decimal(
            m["psn_cash_pay"])
    last12 = [Decimal(m["fund_pay"]) for m in months[-12:]]
    assert Decimal(view["mean_12m"]) == (sum(last12) / 12).quantize(Decimal("0.01"))
    assert months[-1]["rolling_mean_12m"] == view["mean_12m"]
    daily = w.clients["sub_branch_manager"].get(f"/api/institutions/{code}/settlement").json()
    august = sum(Decimal(r["fund_pay_sumamt"]) for r in daily["rows"]
                 if r["setl_date"].startswith("2026-08"))
    assert Decimal(months[-1]["fund_pay"]) == august
    assert {t["key"] for t in view["trend"]} >= {"growth_3m_over_prior_3m", "cv_12m"}
    assert [c["id"] for c in view["cases"]] == [w.case_a.id]
    for bad in ({"months": 6}, {"months": "x"}):
        assert w.clients["branch_manager"].get(f"/api/institutions/{code}",
                                               params=bad).status_code == 422
    assert w.clients["other_sub_branch_manager"].get(
        f"/api/institutions/{code}").status_code == 404
    assert w.clients["branch_manager"].get("/api/institutions/H00000000000").status_code == 404
    w.close()


def test_whitelist_settings_change_through_maker_checker_on_user_ids(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    gm, mgr = w.clients["branch_manager"], w.clients["sub_branch_manager"]
    active = next(v for v in gm.get("/api/models").json() if v["stage"] == "active")
    bad = mgr.post("/api/models", json={"from_id": active["id"], "changes": {
        "policy": {"min_months_of_history": "twelve"}}})
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "changes.policy.min_months_of_history"
    maker = w.users["sub_branch_manager"]
    draft = mgr.post("/api/models", json={"from_id": active["id"], "label": "rule-2026.12",
                                          "description": "放宽历史要求",
                                          "changes": {"policy": {"min_months_of_history": 9}}})
    assert draft.status_code == 200, draft.text
    vid = draft.json()["id"]
    assert draft.json()["stage"] == "draft" and draft.json()["created_by"] == maker
    assert draft.json()["actions"] == ["submit"]
    diff = gm.get("/api/models/diff", params={"a": active["id"], "b": vid}).json()
    changes = {c["path"]: c for s in diff["sections"] for c in s["changes"]}
    assert set(changes) == {"policy.min_months_of_history", "description"}
    assert (changes["policy.min_months_of_history"]["a"],
            changes["policy.min_months_of_history"]["b"]) == ("12", "9")
    assert changes["policy.min_months_of_history"]["label_zh"] == "最短结算历史（月）"
    assert mgr.post(f"/api/models/{vid}/actions", json={"action": "submit"}).status_code == 200
    mine = next(v for v in mgr.get("/api/models").json() if v["id"] == vid)
    theirs = next(v for v in gm.get("/api/models").json() if v["id"] == vid)
    # the maker (a sub-branch manager) checks nothing of a branch-wide model; the branch
    # department general manager, a different user, approves or rejects
    assert mine["actions"] == [] and theirs["actions"] == ["approve", "reject"]
    same = mgr.post(f"/api/models/{vid}/actions", json={"action": "approve"})
    assert same.status_code == 403 and same.json()["code"] == "role_not_allowed"
    assert w.clients["client_manager"].post(f"/api/models/{vid}/actions",
                                            json={"action": "approve"}).status_code == 403
    assert gm.post(f"/api/models/{vid}/actions", json={"action": "approve"}).json()[
        "stage"] == "approved"
    assert gm.post(f"/api/models/{vid}/actions", json={"action": "activate"}).json()[
        "stage"] == "active"
    stages = {v["id"]: v["stage"] for v in gm.get("/api/models").json()}
    assert stages[active["id"]] == "retired" and stages[vid] == "active"
    history = gm.get(f"/api/models/{vid}").json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("create", maker), ("submit", maker), ("approve", "gm"), ("activate", "gm")]
    # maker-checker on user ids: the branch manager's own draft waits for another checker
    own = gm.post("/api/models", json={"from_id": vid, "label": "rule-2026.12b",
                                       "changes": {"policy": {"min_months_of_history": 10}}})
    assert own.status_code == 200, own.text
    assert gm.post(f"/api/models/{own.json()['id']}/actions",
                   json={"action": "submit"}).status_code == 200
    self_check = gm.post(f"/api/models/{own.json()['id']}/actions", json={"action": "approve"})
    assert self_check.status_code == 403 and self_check.json()["code"] == "four_eyes"
    shadow = gm.get("/api/models/shadow").json()
    assert shadow["challenger"] is None and shadow["total"] == len(shadow["items"])
    w.close()


def test_the_performance_board_measures_time_to_claim_per_sub_branch(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    clock.advance(timedelta(hours=5))
    assert w.clients["client_manager"].post(f"/api/cases/{w.case_a.id}/claim").status_code == 200
    board = w.clients["branch_manager"].get("/api/performance").json()
    rows = {r["sub_branch_code"]: r for r in board["items"]}
    assert len(rows) == 17
    mine = rows[w.own]
    with installation.bank.db.unit_of_work() as s:
        assigned = s.scalar(select(func.count()).select_from(CaseRow).where(
            CaseRow.sub_branch_code == w.own))
    assert mine["assigned"] == assigned and mine["claimed"] == 1
    assert mine["median_hours_to_claim"] == 5.0 and mine["conversion"] == 0.0
    assert rows[w.other]["claimed"] == 0 and rows[w.other]["median_hours_to_claim"] is None
    listing = w.clients["branch_manager"].get("/api/cases", params=mine["link"]["query"]).json()
    assert listing["total"] == mine["assigned"]
    ordered = w.clients["branch_manager"].get("/api/performance",
                                              params={"sort": "-assigned"}).json()["items"]
    assert [r["assigned"] for r in ordered] == sorted((r["assigned"] for r in ordered),
                                                      reverse=True)
    w.close()


def test_the_administrator_retries_a_dead_message_with_a_reason_in_the_audit_log(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    with installation.bank.db.unit_of_work() as s:
        row = enqueue(s, destination=BUREAU, kind="admission_result", idempotency_key="t-1",
                      payload={"fixmedins_code": "X"}, now=clock.now())
        row.status, row.attempts, row.last_error = "dead", 8, "ConnectError: refused"
        sent = enqueue(s, destination=BUREAU, kind="admission_result", idempotency_key="t-2",
                       payload={"fixmedins_code": "Y"}, now=clock.now())
        sent.status = "sent"
        s.commit()
        dead_id, sent_id = row.id, sent.id
    admin = token_client(bank_server.url, "admin", installation)
    listed = admin.get("/api/outbox", params={"status": "dead"}).json()
    assert [m["id"] for m in listed["items"]] == [dead_id]
    assert listed["items"][0]["status_zh"] == "已停止重试"
    short = admin.post(f"/api/outbox/{dead_id}/retry", json={"reason": "x"})
    assert short.status_code == 422 and short.json()["fields"][0]["field"] == "reason"
    assert admin.post(f"/api/outbox/{sent_id}/retry",
                      json={"reason": "again"}).status_code == 409
    r = admin.post(f"/api/outbox/{dead_id}/retry", json={"reason": "医保局接口已恢复"})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    with installation.bank.db.unit_of_work() as s:
        again = s.get(OutboxRow, dead_id)
        assert again is not None and again.next_attempt_at == clock.now()
    (entry,) = audits(installation, "outbox.retry")
    assert entry.actor == "admin" and entry.details["reason"] == "医保局接口已恢复"
    assert entry.details["was"] == "dead"
    found = admin.get("/api/audit", params={"action": "outbox.", "target": f"outbox:{dead_id}"}
                      ).json()
    assert [a["id"] for a in found["items"]] == [entry.id]
    assert found["items"][0]["action_zh"] == "发件重试"
    admin.close()


def test_unknown_api_paths_answer_json_and_other_paths_never_raw_json(
        bank_server: ServerThread) -> None:
    r = httpx.get(f"{bank_server.url}/api/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == "not_found" and r.json()["message_zh"]
    for path in ("/cases/abc", "/no/such/page"):
        r = httpx.get(f"{bank_server.url}{path}")
        assert r.headers["content-type"].startswith("text/html"), path
    docs = httpx.get(f"{bank_server.url}/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    asset = httpx.get(f"{bank_server.url}/static/swagger/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


def test_the_openapi_schema_declares_the_error_responses_of_every_api_operation(
        bank_server: ServerThread) -> None:
    spec = httpx.get(f"{bank_server.url}/openapi.json").json()
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in ops.items():
            for status in ("401", "403", "404", "409", "422"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (method, path, status)
    assert spec["components"]["schemas"]["CasePage"]["properties"]["items"]


def _spa_world(monkeypatch: Any, tmp_path: Any) -> None:
    import yibaodai.web.app as web_app

    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>", encoding="utf-8")
    (tmp_path / "assets" / "main.js").write_text("console.log(1)", encoding="utf-8")
    monkeypatch.setattr(web_app, "SPA", tmp_path)


def test_with_a_build_every_page_path_is_the_single_page_app(
        bank_server: ServerThread, monkeypatch: Any, tmp_path: Any) -> None:
    _spa_world(monkeypatch, tmp_path)
    for path in ("/", "/login", "/cases/12", "/cases/abc", "/warnings?level=high"):
        r = httpx.get(f"{bank_server.url}{path}")
        assert r.status_code == 200 and "<div id=app>" in r.text, path
    asset = httpx.get(f"{bank_server.url}/assets/main.js")
    assert asset.text == "console.log(1)" and "immutable" in asset.headers["cache-control"]
    assert httpx.get(f"{bank_server.url}/cases/1").headers["cache-control"] == "no-cache"
    assert httpx.get(f"{bank_server.url}/../../etc/passwd").text.startswith("<!doctype")
    assert httpx.get(f"{bank_server.url}/api/cases/abc").status_code in (401, 422)


__all__ = ["World"]
