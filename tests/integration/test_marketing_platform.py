"""Marketing in the platform, over real HTTP on SQLite and PostgreSQL: the bureau's list
uploaded through the API (refusals first, nothing written), prospects scoped by sub-branch,
outcomes validated field by field, the call list and its exports, campaigns refused and
created, and the funnel after real bureau pushes — the authorization credited by the flow's
event handler to the outreach that preceded it."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import HISTORY_END, HISTORY_START, token_client
from yibaodai.bootstrap import keyring
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import (
    AuditRow,
    AuthorizationRow,
    CampaignAttributionRow,
    CampaignRow,
    CaseRow,
    ListImportRow,
    OutreachEventRow,
    ProspectRow,
    UserRow,
)
from yibaodai.domain.events import AuthorizationGranted
from yibaodai.marketing.handlers import credit_authorization
from yibaodai.sim.bureau import BureauPusher
from yibaodai.sim.bureau_list import write_bureau_list
from yibaodai.sim.city import SyntheticInstitution, generate_city
from yibaodai.sim.server import ServerThread

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AS_OF = date(2026, 8, 31)


def the_city() -> list[SyntheticInstitution]:
    return generate_city(seed=7, institutions=200, as_of=AS_OF)


def the_list(city: list[SyntheticInstitution]) -> bytes:
    out = io.BytesIO()
    write_bureau_list(city, out, seed=7, as_of=AS_OF)
    return out.getvalue()


def count(installation: Installation, model: type) -> int:
    with installation.bank.db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def upload(client: httpx.Client, data: bytes, *, name: str = "定点机构名单.xlsx",
           media: str = XLSX) -> httpx.Response:
    return client.post("/api/marketing/imports", params={"filename": name}, content=data,
                       headers={"content-type": media})


def fields(r: httpx.Response) -> set[str]:
    return {f["field"] for f in r.json()["fields"]}


def imported(server: ServerThread, installation: Installation) -> dict[str, Any]:
    admin = token_client(server.url, "admin", installation)
    r = upload(admin, the_list(the_city()))
    admin.close()
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def busiest_manager(installation: Installation) -> tuple[str, int, str]:
    """The client manager with the most prospects: username, id, sub-branch."""
    with installation.bank.db.unit_of_work() as s:
        manager_id, _ = s.execute(select(ProspectRow.client_manager_id, func.count()).where(
            ProspectRow.client_manager_id.is_not(None)).group_by(
            ProspectRow.client_manager_id).order_by(func.count().desc(),
                                                     ProspectRow.client_manager_id)).first()
        user = s.get(UserRow, manager_id)
        assert user is not None and user.sub_branch_code
        return user.username, user.id, user.sub_branch_code


def test_an_upload_is_refused_whole_when_wrong_and_reported_row_by_row_when_read(
        bank_server: ServerThread, installation: Installation) -> None:
    admin = token_client(bank_server.url, "admin", installation)
    data = the_list(the_city())
    for kw, field_code in (({"name": "名单.pdf"}, "file_type"),
                           ({"media": "application/json"}, "file_type"),
                           ({"name": "名单.csv", "media": "image/png"}, "file_type")):
        r = upload(admin, data, **kw)
        assert r.status_code == 422 and r.json()["code"] == field_code, r.text
        assert fields(r) == {"file"} and r.json()["fields"][0]["message_zh"]
    r = upload(admin, b"PK\x03\x04 not really a workbook")
    assert r.status_code == 422 and r.json()["code"] == "list_unreadable", r.text
    r = upload(admin, b"x" * (20 * 1024 * 1024 + 1))
    assert r.status_code == 422 and r.json()["code"] == "file_too_large", r.text
    assert count(installation, ListImportRow) == count(installation, ProspectRow) == 0

    r = upload(admin, data)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["new"] == count(installation, ProspectRow) > 150
    assert report["read"] == report["new"] + report["merged"] + len(report["refused"])
    assert all(isinstance(i["row"], int) and i["row"] > 1 and i["reason"]
               for i in report["refused"] + report["warnings"])
    again = upload(admin, data).json()  # the same list again updates, never duplicates
    assert (again["new"], again["updated"]) == (0, report["new"])
    assert count(installation, ProspectRow) == report["new"]
    listed = admin.get("/api/marketing/imports").json()
    assert [i["id"] for i in listed] == [again["import_id"], report["import_id"]]
    assert admin.get(f"/api/marketing/imports/{report['import_id']}").json() == report
    x = admin.get(f"/api/marketing/imports/{report['import_id']}/report.xlsx")
    assert x.status_code == 200 and x.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(x.content))
    assert book.sheetnames == ["汇总", "拒绝", "警告", "合并"]
    refused_rows = [r[0] for r in book["拒绝"].iter_rows(values_only=True)
                    if isinstance(r[0], int)]
    assert refused_rows == [i["row"] for i in report["refused"]]
    assert admin.get("/api/marketing/imports/999999").status_code == 404
    # a client manager may not import, whatever the body
    cm = token_client(bank_server.url, "cm_dl001_1", installation)
    assert upload(cm, data).status_code == 403
    assert count(installation, ListImportRow) == 2
    admin.close()
    cm.close()


def test_prospects_are_scoped_by_sub_branch_and_outcomes_validated_field_by_field(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    imported(bank_server, installation)
    username, cm_id, own = busiest_manager(installation)
    cm = token_client(bank_server.url, username, installation)
    page = cm.get("/api/marketing/prospects", params={"page_size": 200}).json()
    assert page["total"] > 0 and {p["sub_branch_code"] for p in page["items"]} == {own}
    with installation.bank.db.unit_of_work() as s:
        in_scope = s.scalar(select(func.count()).select_from(ProspectRow).where(
            ProspectRow.sub_branch_code == own))
        elsewhere = s.scalars(select(ProspectRow.id).where(
            ProspectRow.sub_branch_code != own).order_by(ProspectRow.id)).first()
        mine = list(s.scalars(select(ProspectRow).where(
            ProspectRow.client_manager_id == cm_id).order_by(ProspectRow.id)))
        s.expunge_all()
    assert page["total"] == in_scope
    assert cm.get(f"/api/marketing/prospects/{elsewhere}").status_code == 404
    # a filter for another sub-branch narrows to nothing, never widens
    assert cm.get("/api/marketing/prospects", params={"sub_branch": "DL999"}).json()[
        "total"] == 0
    coded = next(p for p in mine if p.fixmedins_code)
    found = cm.get("/api/marketing/prospects", params={"q": coded.fixmedins_code}).json()
    assert [p["id"] for p in found["items"]] == [coded.id]
    r = cm.get("/api/marketing/prospects", params={"state": "asleep"})
    assert r.status_code == 422 and fields(r) == {"state"}

    first, second = mine[0].id, mine[1].id
    path = f"/api/marketing/prospects/{first}/outcome"
    for body, bad in (({"outcome": "bored"}, {"outcome"}),
                      ({"outcome": "visit_scheduled"}, {"next_action_on"}),
                      ({"outcome": "interested", "next_action_on": "2026-08-01"},
                       {"next_action_on"}),
                      ({"outcome": "interested", "note": "很" * 2001}, {"note"})):
        r = cm.post(path, json=body)
        assert r.status_code == 422 and fields(r) == bad, (body, r.text)
        assert all(f["message_zh"] and f["message_en"] for f in r.json()["fields"])
    assert count(installation, OutreachEventRow) == 0
    # a client manager of the same sub-branch records only on their own prospects
    colleague = next(u for u in installation.accounts if u.startswith(f"cm_{own.lower()}_")
                     and u != username)
    other = token_client(bank_server.url, colleague, installation)
    assert other.post(path, json={"outcome": "interested"}).status_code == 404
    assert other.get(f"/api/marketing/prospects/{first}").json()["can_record"] is False

    visit_on = (clock.today() + timedelta(days=3)).isoformat()
    r = cm.post(path, json={"outcome": "visit_scheduled", "next_action_on": visit_on,
                            "note": "约周四上午"})
    assert r.status_code == 200 and r.json() == {"id": first, "state": "visit_scheduled"}
    assert cm.post(f"/api/marketing/prospects/{second}/outcome",
                   json={"outcome": "not_interested"}).json()["state"] == "not_interested"
    detail = cm.get(f"/api/marketing/prospects/{first}").json()
    assert [(e["outcome"], e["note"], e["by"]) for e in detail["outreach"]] == [
        ("visit_scheduled", "约周四上午", username)]
    assert detail["state"] == "visit_scheduled" and detail["can_record"] is True
    assert detail["matches"] and detail["matches"][0]["sheet_row"] == mine[0].first_row
    states = cm.get("/api/marketing/prospects",
                    params={"state": "visit_scheduled", "page_size": 200}).json()
    assert [p["id"] for p in states["items"]] == [first]

    # the call list: due today or never called, with tel: links; the visit is in 3 days
    calls = cm.get("/api/marketing/call-list").json()
    ids = [e["prospect_id"] for e in calls["items"]]
    assert calls["manager_id"] == cm_id and first not in ids and second not in ids
    assert len(ids) == len(mine) - 2
    phoned = next(e for e in calls["items"] if e["phones"])
    assert all(t.startswith("tel:+86") for t in phoned["tel"])
    assert cm.get("/api/marketing/call-list", params={"manager_id": cm_id}).status_code == 200
    assert other.get("/api/marketing/call-list",
                     params={"manager_id": cm_id}).status_code == 404
    mgr = token_client(bank_server.url, f"mgr_{own.lower()}", installation)
    assert [e["prospect_id"] for e in mgr.get(
        "/api/marketing/call-list", params={"manager_id": cm_id}).json()["items"]] == ids
    x = cm.get("/api/marketing/call-list/export.xlsx")
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert [r[1] for r in rows] == [e["name"] for e in calls["items"]]
    csv_text = cm.get("/api/marketing/call-list/export.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("序号 No.,机构名称 Institution")
    assert len(csv_text.splitlines()) == len(ids) + 1
    for c in (cm, other, mgr):
        c.close()


def test_the_funnel_counts_a_campaign_and_credits_authorizations_from_the_gateway(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    imported(bank_server, installation)
    gm = token_client(bank_server.url, "gm", installation)
    cm_any = token_client(bank_server.url, "cm_dl001_1", installation)
    mgr = token_client(bank_server.url, "mgr_dl001", installation)
    body = {"name": "九月营销", "starts_on": "2026-09-01", "ends_on": "2026-09-30",
            "targets": [{"sub_branch": "DL001", "count": 5, "amount": "1500000"}]}
    assert cm_any.post("/api/marketing/campaigns", json=body).status_code == 403
    for bad, where in (({"ends_on": "2026-08-01"}, {"ends_on"}),
                       ({"targets": [{"sub_branch": "XX", "count": 1, "amount": "1"}]},
                        {"targets.XX"}),
                       ({"targets": [body["targets"][0]] * 2}, {"targets.1.sub_branch"}),
                       ({"targets": [{"sub_branch": "DL001", "count": -1, "amount": "1"}]},
                        {"targets.0.count"})):
        r = gm.post("/api/marketing/campaigns", json=body | bad)
        assert r.status_code == 422 and fields(r) == where, (bad, r.text)
    r = mgr.post("/api/marketing/campaigns", json=body | {"targets": [
        {"sub_branch": "DL002", "count": 1, "amount": "1"}]})
    assert r.status_code == 422 and fields(r) == {"targets.DL002"}
    assert count(installation, CampaignRow) == 0
    campaign = gm.post("/api/marketing/campaigns", json=body).json()["id"]
    assert gm.post("/api/marketing/campaigns", json=body).status_code == 409

    city = the_city()
    likely = [i for i in city if i.segment in ("pharmacy", "clinic")
              and i.archetype in ("stable", "growing", "seasonal") and i.biz_stas == "1"
              and i.cred_lv_name in ("A", "B") and i.ownership == "private"][:4]
    with installation.bank.db.unit_of_work() as s:
        targets = {p.fixmedins_code: (p.id, s.get(UserRow, p.client_manager_id).username)
                   for p in s.scalars(select(ProspectRow).where(ProspectRow.fixmedins_code.in_(
                       [i.fixmedins_code for i in likely])))
                   if p.client_manager_id is not None}  # type: ignore[union-attr]
    assert len(targets) >= 3, "the likely borrowers are not on the list with a manager"
    called: dict[int, int] = {}
    for pid, username in targets.values():
        c = token_client(bank_server.url, username, installation)
        assert c.post(f"/api/marketing/prospects/{pid}/outcome",
                      json={"outcome": "interested"}).status_code == 200
        c.close()
        with installation.bank.db.unit_of_work() as s:
            called[pid] = s.scalars(select(OutreachEventRow.id).where(
                OutreachEventRow.prospect_id == pid)).one()
    clock.advance(timedelta(days=2))
    pusher = BureauPusher(bank_url=bank_server.url,
                          keyring=keyring(installation.settings.keys_dir, "bureau"),
                          clock=clock, seed=7)
    try:
        for inst in likely:
            if inst.fixmedins_code in targets:
                pusher.authorize(inst, on=clock.today())
                pusher.push_profile(inst)
                pusher.push_settlements(inst, start=HISTORY_START, end=HISTORY_END)
    finally:
        pusher.close()
    with installation.bank.db.unit_of_work() as s:
        credits = {a.prospect_id: a.outreach_event_id for a in s.scalars(select(
            CampaignAttributionRow).where(CampaignAttributionRow.campaign_id == campaign))}
        cases = s.scalars(select(CaseRow.fixmedins_code).where(
            CaseRow.fixmedins_code.in_(list(targets)))).all()
        total = s.scalar(select(func.count()).select_from(ProspectRow))
    assert credits == called  # each authorization credited to the call before it
    assert cases, "none of the likely borrowers was admitted"

    funnel = gm.get(f"/api/marketing/campaigns/{campaign}").json()
    steps = {x["stage"]: x for x in funnel["total"]}
    assert [x["stage"] for x in funnel["total"]] == [
        "listed", "contacted", "interested", "authorized", "admitted", "reported", "drawn"]
    assert steps["listed"]["count"] == total
    assert steps["contacted"]["count"] == steps["interested"]["count"] == len(targets)
    assert steps["authorized"]["count"] == len(targets)
    assert steps["admitted"]["count"] == len(cases)
    with installation.bank.db.unit_of_work() as s:
        limits = sum(c.credit_limit for c in s.scalars(select(CaseRow)))
    assert steps["admitted"]["amount"] == f"{limits:.2f}"
    assert steps["admitted"]["amount_wan"] == f"{limits / 10000:.2f}"
    assert len(funnel["leaderboard"]) == 17 and all(
        x["sub_branch_name_zh"] for x in funnel["leaderboard"])
    dl001 = next(x for x in funnel["leaderboard"] if x["sub_branch"] == "DL001")
    assert (dl001["target_count"], dl001["target_amount"]) == (5, "1500000.00")
    # a sub-branch's staff see their own sub-branch's funnel, the leaderboard of all
    mine = cm_any.get(f"/api/marketing/campaigns/{campaign}").json()
    assert list(mine["by_sub_branch"]) in ([], ["DL001"])
    assert len(mine["leaderboard"]) == 17
    listed = gm.get("/api/marketing/campaigns").json()
    assert [(c["id"], c["target_count"]) for c in listed] == [(campaign, 5)]
    assert gm.get("/api/marketing/campaigns/999999").status_code == 404
    # the prospects now read authorized, and the call list drops them
    for pid, username in targets.values():
        c = token_client(bank_server.url, username, installation)
        assert c.get(f"/api/marketing/prospects/{pid}").json()["state"] == "authorized"
        assert pid not in [e["prospect_id"] for e in c.get(
            "/api/marketing/call-list").json()["items"]]
        c.close()
    for c in (gm, cm_any, mgr):
        c.close()
    # the handler again, for an authorization already credited: nothing more is written
    def written() -> tuple[int, ...]:
        return tuple(count(installation, m) for m in (AuditRow, OutreachEventRow,
                                                      CampaignAttributionRow))

    before = written()
    with installation.bank.db.unit_of_work() as s:
        auth = s.scalars(select(AuthorizationRow).where(
            AuthorizationRow.fixmedins_code.in_(list(targets)))).first()
        assert auth is not None
        credit_authorization(s, AuthorizationGranted(
            at=auth.granted_at, fixmedins_code=auth.fixmedins_code, auth_no=auth.auth_no,
            auth_scope=tuple(auth.auth_scope), begndate=auth.begndate, enddate=auth.enddate,
            msgid="replay"))
        s.commit()
    assert written() == before
