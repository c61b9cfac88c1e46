"""`yibaodai ews benchmark` on the TCPD series kept in bench/data/tcpd: the detector beats
both baselines computed in the same run, and the baselines are what the metrics say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from yibaodai.cli import app
from yibaodai.domain.ews.metrics import score
from yibaodai.monitoring.benchmark import load_tcpd

TCPD = Path(__file__).resolve().parents[2] / "bench" / "data" / "tcpd"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["ews", "benchmark", "--tcpd", str(TCPD), "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_the_detector_beats_both_baselines_of_the_same_run(report: dict[str, Any]) -> None:
    mean, base = report["mean"], report["baselines"]
    assert mean["f1"] > base["binseg"]["f1"] > base["zero"]["f1"]
    assert mean["cover"] > base["binseg"]["cover"] > base["zero"]["cover"]


def test_per_series_scores_are_the_metrics_of_the_printed_points(report: dict[str, Any]) -> None:
    data = load_tcpd(TCPD)
    assert sorted(report["series"]) == [s.name for s in data]
    zero = []
    for s in data:
        row = report["series"][s.name]
        f1, cover = score(s.annotations, row["predicted"], len(s.values))
        assert (row["f1"], row["cover"]) == (round(f1, 4), round(cover, 4))
        zero.append(score(s.annotations, [], len(s.values)))
    assert report["baselines"]["zero"]["f1"] == round(sum(z[0] for z in zero) / len(zero), 4)
    means = [report["series"][k]["f1"] for k in report["series"]]
    assert abs(report["mean"]["f1"] - sum(means) / len(means)) < 1e-3


def test_a_missing_directory_is_refused_in_both_languages(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ews", "benchmark", "--tcpd", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "找不到变点基准数据" in result.output
    assert "no change-point benchmark data" in result.output


def test_the_held_out_figure_is_bounded_by_per_series_tuning_and_names_its_choices() -> None:
    result = CliRunner().invoke(app, ["ews", "benchmark", "--tcpd", str(TCPD), "--holdout",
                                      "--json"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    held, report = parsed["holdout"], parsed
    assert held["series"] == len(report["series"])
    assert sum(held["chosen_when_held_out"].values()) == held["series"]
    assert {k: held["default"][k] for k in ("f1", "cover")} == report["mean"]
    bound = held["per_series_best_upper_bound"]
    assert held["held_out"]["f1"] + held["held_out"]["cover"] <= bound["f1"] + bound["cover"]
    best = held["best_on_all"]
    assert best["f1"] + best["cover"] >= report["mean"]["f1"] + report["mean"]["cover"] - 1e-3


def test_leave_one_out_over_a_single_series_is_refused_in_both_languages(tmp_path: Path) -> None:
    (tmp_path / "series").mkdir()
    name = "centralia"
    (tmp_path / "series" / f"{name}.json").write_text(
        (TCPD / "series" / f"{name}.json").read_text("utf-8"), "utf-8")
    notes = json.loads((TCPD / "annotations.json").read_text("utf-8"))
    (tmp_path / "annotations.json").write_text(json.dumps({name: notes[name]}), "utf-8")
    plain = CliRunner().invoke(app, ["ews", "benchmark", "--tcpd", str(tmp_path)])
    assert plain.exit_code == 0, plain.output
    refused = CliRunner().invoke(app, ["ews", "benchmark", "--tcpd", str(tmp_path),
                                       "--holdout"])
    assert refused.exit_code == 1
    assert "留一验证至少需要两条序列" in refused.output
    assert "leave-one-out needs at least two series" in refused.output
