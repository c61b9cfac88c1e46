"""The dashboard's campaign progress (issue 12): the campaigns running today, their funnel in
the viewer's scope against the scope's targets (counts and 万元), each figure linking to the
list behind it; a finished campaign leaves the dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_marketing_platform import busiest_manager, imported
from tests.integration.test_routes_by_role import token_client
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import ProspectRow
from yibaodai.sim.server import ServerThread


def _campaigns(client: httpx.Client) -> list[dict[str, Any]]:
    r = client.get("/api/dashboard")
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()["campaigns"]
    return out


def test_the_dashboard_shows_running_campaigns_in_scope_against_their_targets(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    imported(bank_server, installation)
    cm, _, own = busiest_manager(installation)
    other = "DL002" if own != "DL002" else "DL003"
    with token_client(bank_server.url, "gm", installation) as gm:
        for name, start, end in (("七月营销", "2026-07-01", "2026-07-31"),
                                 ("九月营销", "2026-09-01", "2026-09-30")):
            r = gm.post("/api/marketing/campaigns", json={
                "name": name, "starts_on": start, "ends_on": end, "targets": [
                    {"sub_branch": own, "count": 5, "amount": "1500000"},
                    {"sub_branch": other, "count": 3, "amount": "900000"}]})
            assert r.status_code == 200, r.text
        running = r.json()["id"]
    with installation.bank.db.unit_of_work() as s:
        total = int(s.scalar(select(func.count()).select_from(ProspectRow)) or 0)
        in_own = int(s.scalar(select(func.count()).select_from(ProspectRow).where(
            ProspectRow.sub_branch_code == own)) or 0)
        mine = s.scalars(select(ProspectRow.id).where(
            ProspectRow.client_manager_id.is_not(None), ProspectRow.sub_branch_code == own)
            .order_by(ProspectRow.id)).first()
    with token_client(bank_server.url, cm, installation) as c:
        assert c.post(f"/api/marketing/prospects/{mine}/outcome",
                      json={"outcome": "interested"}).status_code == 200

    with token_client(bank_server.url, "gm", installation) as gm:
        [shown] = _campaigns(gm)
    steps = {x["stage"]: x for x in shown["steps"]}
    assert (shown["id"], shown["name"]) == (running, "九月营销")
    assert (shown["target_count"], shown["target_amount"], shown["target_amount_wan"]) == (
        8, "2400000.00", "240.00")
    assert steps["listed"]["count"] == total and steps["interested"]["count"] == 1
    assert steps["drawn"]["amount_wan"] == "0.00" and shown["amount_attainment"] == 0
    assert steps["listed"]["link"] == {"path": "/marketing/prospects", "query": {}}
    assert steps["interested"]["link"] == {"path": f"/marketing/campaigns/{running}",
                                           "query": {"stage": "interested"}}
    assert shown["link"]["path"] == f"/marketing/campaigns/{running}"

    with token_client(bank_server.url, f"mgr_{own.lower()}", installation) as mgr:
        [scoped] = _campaigns(mgr)
    assert scoped["target_count"] == 5 and scoped["target_amount_wan"] == "150.00"
    assert {x["stage"]: x["count"] for x in scoped["steps"]}["listed"] == in_own
    with token_client(bank_server.url, f"mgr_{other.lower()}", installation) as elsewhere:
        [theirs] = _campaigns(elsewhere)
    assert {x["stage"]: x["count"] for x in theirs["steps"]}["interested"] == 0

    clock.advance(timedelta(days=30))  # 2026-10-01: the September campaign is over
    with token_client(bank_server.url, "gm", installation) as gm:
        assert _campaigns(gm) == []
