"""The demo's month-long campaign (issue 12), played by staff through the real JSON API: the
bureau's list of the whole synthetic city, exported by the simulator as the messy Excel file
real lists are, is uploaded by the branch administrator; the branch manager opens a September
campaign with targets per sub-branch; every client manager works their call list on the
first morning. The institutions that go on to authorize were the interested ones; the bank's
flow credits each authorization to the call before it (``marketing.credit_authorization``),
and the summary shows the funnel.

Kept apart from ``demo.py`` (which calls it twice) so the story there stays short."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Collection
from datetime import date
from typing import Any, Final

from yibaodai.sim.bureau_list import write_bureau_list
from yibaodai.sim.city import SyntheticInstitution

Call = Callable[..., Any]  # Staff.call(method, username, path, **httpx arguments)
Say = Callable[[str], None]

NAME: Final = "九月定点机构营销活动"
STARTS_ON, ENDS_ON = date(2026, 9, 1), date(2026, 9, 30)
TARGET_COUNT, TARGET_YUAN = 3, "900000.00"  # per sub-branch
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What the first call to an institution that will not authorize this month comes to; the
#: rest are not called in the demo (each call is one request: the demo's time matters).
OTHER_OUTCOMES: Final = (("not_reached", 0.20), ("not_interested", 0.15), ("interested", 0.10))


def _pages(call: Call, username: str, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = call("GET", username, path, params={"page": page, "page_size": 200})
        items += answer["items"]
        if len(items) >= answer["total"] or not answer["items"]:
            return items
        page += 1


def _outcome(rng: random.Random) -> str | None:
    roll = rng.random()
    for outcome, share in OTHER_OUTCOMES:
        if roll < share:
            return outcome
        roll -= share
    return None  # not called yet


def start_campaign(call: Call, *, city: list[SyntheticInstitution],
                   authorizing: Collection[str], seed: int, say: Say) -> int:
    """Import the list, create the campaign, make the first round of calls; returns the
    campaign's id. ``authorizing``: the codes of the institutions that will authorize."""
    out = io.BytesIO()
    write_bureau_list(city, out, seed=seed, as_of=STARTS_ON)
    report = call("POST", "admin", "/api/marketing/imports",
                  params={"filename": "定点机构名单.xlsx"}, content=out.getvalue(),
                  headers={"content-type": XLSX})
    say(f"名单导入 list import: read {report['read']}, new {report['new']}, merged "
        f"{report['merged']}, refused {len(report['refused'])}, warnings "
        f"{len(report['warnings'])}")
    subs = [o["value"] for o in call("GET", "gm", "/api/options")["org"][0]["children"]]
    campaign: int = call("POST", "gm", "/api/marketing/campaigns", json={
        "name": NAME, "starts_on": STARTS_ON.isoformat(), "ends_on": ENDS_ON.isoformat(),
        "targets": [{"sub_branch": s, "count": TARGET_COUNT, "amount": TARGET_YUAN}
                    for s in subs]})["id"]
    users = {u["id"]: u["username"] for u in _pages(call, "admin", "/api/users")}
    rng = random.Random(f"demo-campaign|{seed}")
    calls = 0
    for p in _pages(call, "gm", "/api/marketing/prospects"):
        if p["client_manager_id"] is None or p["do_not_contact"]:
            continue
        outcome = ("interested" if p["fixmedins_code"] in authorizing else _outcome(rng))
        if outcome is not None:
            call("POST", users[p["client_manager_id"]],
                 f"/api/marketing/prospects/{p['id']}/outcome",
                 json={"outcome": outcome, "note": "电话营销 first call"})
            calls += 1
    say(f"营销活动 campaign {NAME}: {calls} first calls by the client managers")
    return campaign


def funnel_summary(call: Call, campaign: int) -> dict[str, Any]:
    """The campaign's funnel (count, and amount in 万元) and its three leading sub-branches."""
    funnel = call("GET", "gm", f"/api/marketing/campaigns/{campaign}")
    return {"name": funnel["campaign"]["name"],
            "period": [funnel["campaign"]["starts_on"], funnel["campaign"]["ends_on"]],
            "stages": {s["stage"]: {"count": s["count"], "amount_wan": s["amount_wan"]}
                       for s in funnel["total"]},
            "leaders": [{"sub_branch": x["sub_branch_name_zh"], "drawn": x["drawn_count"],
                         "drawn_wan": x["drawn_amount_wan"]}
                        for x in funnel["leaderboard"][:3]]}
