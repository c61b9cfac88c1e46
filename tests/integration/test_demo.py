"""The demo, as `yibaodai demo --no-serve --json` runs it, on every backend."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from yibaodai.cli import app
from yibaodai.settings import Settings

STAGES = ["institutions", "authorized", "decided", "admitted", "refused", "assigned", "claimed",
          "verified", "reported", "drawn", "warnings", "sla_breaches", "reminders", "reassigned",
          "verification_mismatches"]


def test_the_demo_reaches_every_stage_of_the_flow(settings: Settings, tmp_path: Path) -> None:
    env = {"YIBAODAI_DATABASE_URL": settings.database_url,
           "YIBAODAI_VAR_DIR": str(tmp_path / "demo-var")}
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--json", "--institutions", "60",
                                      "--seed", "7"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {k: summary[k] for k in STAGES if summary[k] <= 0} == {}
    assert summary["decided"] == summary["admitted"] + summary["refused"]
    assert summary["drawn"] <= summary["reported"] <= summary["verified"] <= summary["claimed"]
    assert summary["outbox_pending"] == 0
    assert summary["answers_received_by_bureau"] == summary["decided"]
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
    rows = json.loads(listing.stdout)
    return next(r["fixmedins_code"] for r in rows if r["result"] == "admitted")
