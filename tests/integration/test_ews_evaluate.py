"""`yibaodai ews evaluate` over the simulator's labelled portfolio: the labels come from the
simulator's hidden behaviour, the report meets issue 11's targets on the default city."""

from __future__ import annotations

import json
from datetime import date

from typer.testing import CliRunner

from yibaodai.cli import app
from yibaodai.sim.city import generate_city
from yibaodai.sim.portfolio import label


def test_labels_follow_the_hidden_behaviour() -> None:
    city = generate_city(seed=7, institutions=120, as_of=date(2026, 8, 31))
    for inst in city:
        worse, default = label(inst)
        if inst.archetype in ("deteriorating", "stopped"):
            assert worse is not None and default is not None and worse < default
        else:
            assert (worse, default) == (None, None)


def test_the_rules_warn_defaulters_early_and_rarely_cry_wolf() -> None:
    result = CliRunner().invoke(app, ["ews", "evaluate", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["defaulters"] >= 20
    assert report["recall_2m"] >= 0.80
    assert report["false_per_100_month"] <= 2.0
    leads = report["lead_time_months"]
    assert leads["min"] >= 2 and sum(leads["distribution"].values()) == round(
        report["recall_2m"] * report["defaulters"])
