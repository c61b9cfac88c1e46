"""The demo, as `yibaodai demo --no-serve --json` runs it, on every backend."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from yibaodai.cli import app
from yibaodai.settings import Settings

STAGES = ["institutions", "authorized", "decided", "admitted", "refused", "assigned", "claimed",
          "verified", "reported", "drawn", "warnings", "sla_breaches", "reminders", "reassigned",
          "verification_mismatches"]


def test_the_demo_reaches_every_stage_of_the_flow(settings: Settings, tmp_path: Path) -> None:
    # the commands after the demo read the demo's database, made with demo chain keys: demo mode
    env = {"YIBAODAI_DATABASE_URL": settings.database_url,
           "YIBAODAI_VAR_DIR": str(tmp_path / "demo-var"), "YIBAODAI_DEMO_MODE": "1"}
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--json", "--institutions", "60",
                                      "--seed", "7"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {k: summary[k] for k in STAGES if summary[k] <= 0} == {}
    assert summary["decided"] == summary["admitted"] + summary["refused"]
    assert summary["drawn"] <= summary["reported"] <= summary["verified"] <= summary["claimed"]
    assert summary["outbox_pending"] == 0
    assert summary["answers_received_by_bureau"] == summary["decided"]
    # work waiting on first log-in: cases to claim and cases to verify
    assert summary["waiting_claim"] > 0 and summary["waiting_verification"] > 0
    assert summary["sub_branches_with_cases_to_claim"] > 0
    # the bureau's month-end notices leave open post-loan warnings in the sub-branches
    assert 0 < summary["sub_branches_with_open_warnings"] <= summary["warnings"]
    # the month-long campaign: a funnel that narrows, its authorizations from the gateway
    funnel = [v["count"] for v in summary["campaign_funnel"]["stages"].values()]
    assert funnel == sorted(funnel, reverse=True) and funnel[0] == summary["institutions"]
    assert summary["campaign_funnel"]["stages"]["authorized"]["count"] > 0
    # stage by stage with the elapsed time, though stderr is not a terminal here
    stages = [line for line in result.stderr.splitlines() if re.match(r"\[ *\d+\.\d s\] ", line)]
    assert any("wave 1" in line for line in stages) and any("wave 3" in line for line in stages)
    listed = CliRunner().invoke(app, ["users", "list", "--json"], env={
        k: v for k, v in env.items() if k != "YIBAODAI_DEMO_MODE"})
    assert listed.exit_code == 0, listed.output
    by_name = {u["username"]: u for u in json.loads(listed.stdout)}
    assert {a["username"]: (a["role"], a["password"]) for a in summary["accounts"]} == {
        n: (u["role"], u["demo_password"]) for n, u in by_name.items()}
    roles = {a["role"] for a in summary["accounts"]}
    assert roles == {"branch_admin", "branch_manager", "sub_branch_manager", "client_manager",
                     "auditor"}
    inspect = CliRunner().invoke(app, ["inspect", "institution", "--json",
                                       _an_admitted_code(env)], env=env)
    assert inspect.exit_code == 0, inspect.output
    detail = json.loads(inspect.stdout)
    assert detail["authorization"]["state"] == "granted"
    assert detail["settlement_fact_rows"] > 700
    assert detail["latest_decision"]["result"] == "admitted" and detail["case"]["state"]
    replay = CliRunner().invoke(app, ["decision", "replay", "1"], env=env)
    assert replay.exit_code == 0 and "identical" in replay.stdout
    verify = CliRunner().invoke(app, ["archive", "verify"], env=env)
    assert verify.exit_code == 0, verify.output


def _an_admitted_code(env: dict[str, str]) -> str:
    listing = CliRunner().invoke(app, ["decision", "list", "--json"], env=env)
    assert listing.exit_code == 0, listing.output
    rows = json.loads(listing.stdout)
    return next(r["fixmedins_code"] for r in rows if r["result"] == "admitted")
