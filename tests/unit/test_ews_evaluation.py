"""Scoring the warning rules on a labelled portfolio (domain.ews.evaluation)."""

from __future__ import annotations

from yibaodai.domain.ews.evaluation import BorrowerRun, new_warnings, score_runs

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def run(code: str, fired: dict[str, set[str]], *, worse: str | None = None,
        default: str | None = None) -> BorrowerRun:
    return BorrowerRun(code, MONTHS, [frozenset(fired.get(m, set())) for m in MONTHS],
                       worse, default)


def test_a_rule_firing_month_after_month_is_one_warning() -> None:
    r = run("a", {"2026-03": {"W01"}, "2026-04": {"W01", "W02"}, "2026-05": {"W01"},
                  "2026-07": {"W01"}})
    assert new_warnings(r) == [("2026-03", "W01"), ("2026-04", "W02"), ("2026-07", "W01")]


def test_recall_counts_warnings_two_months_ahead_and_after_the_onset_only() -> None:
    early = run("early", {"2026-06": {"W01"}}, worse="2026-05", default="2026-09")
    late = run("late", {"2026-08": {"W01"}}, worse="2026-05", default="2026-09")
    lucky = run("lucky", {"2026-01": {"W05"}}, worse="2026-06", default="2026-10")
    report = score_runs([early, late, lucky, run("ok", {})])
    assert report["recall_2m"] == round(1 / 3, 4)
    assert report["lead_time_months"]["distribution"] == {"3": 1}
    assert report["missed"] == ["late", "lucky"]
    assert report["first_warning_by_rule"] == {"W01": 1}


def test_false_warnings_are_per_100_healthy_borrowers_per_month() -> None:
    noisy = run("noisy", {"2026-02": {"W01"}, "2026-09": {"W04", "W05"}})
    report = score_runs([noisy, run("quiet", {}), run("bad", {"2026-05": {"W02"}},
                                                      worse="2026-04", default="2026-08")])
    assert report["false_per_100_month"] == round(100 * 3 / 24, 4)
    assert report["false_by_rule"] == {"W01": 1, "W04": 1, "W05": 1}
