"""The mutation report's counting and exclusion rules (scripts/mutation.py), on hand-made
mutmut results: what is a kill, which mutants are left out and why."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutation.py"


@pytest.fixture(scope="module")
def mutation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ORIGINAL = '''def x_f__mutmut_orig(n):
    """Why."""
    if n < 12:
        return Reason("K04", f"医保结算历史不足{n}个月", "less than 12 months", {"minimum": n})
    return None
'''


@pytest.mark.parametrize(("mutant", "message_only"), [
    (ORIGINAL.replace("less than 12 months", "XXless than 12 monthsXX"), True),
    (ORIGINAL.replace("医保结算历史不足", "XX医保结算历史不足XX"), True),
    (ORIGINAL.replace('"K04"', '"XXK04XX"'), False),          # a code is behaviour
    (ORIGINAL.replace('"minimum"', '"XXminimumXX"'), False),  # so is a key
    (ORIGINAL.replace("n < 12", "n <= 12"), False),
    (ORIGINAL.replace('"less than 12 months"', "None"), False),
    (ORIGINAL.replace('"""Why."""', '"""XXWhy.XX"""'), False),  # no change at all
    (ORIGINAL.replace("less than 12 months", "XXless than 12 monthsXX").replace(
        "n < 12", "n > 12"), False),
])
def test_only_mutants_changing_nothing_but_message_text_are_left_out(
        mutation: ModuleType, mutant: str, message_only: bool) -> None:
    assert mutation.is_message_only(ORIGINAL, mutant) is message_only


def test_module_of_a_mutant_name(mutation: ModuleType) -> None:
    assert mutation.module_of("yibaodai.domain.admission.x_decide__mutmut_3") == \
        "yibaodai.domain.admission"
    assert mutation.module_of("yibaodai.domain.scorecard.xǁNumericBinǁcontains__mutmut_1") == \
        "yibaodai.domain.scorecard"


def test_kills_timeouts_survivors_and_the_three_rules_are_counted_apart(
        mutation: ModuleType) -> None:
    codes = {"yibaodai.domain.a.x_f__mutmut_1": 1,     # killed
             "yibaodai.domain.a.x_f__mutmut_2": 36,    # timeout: killed
             "yibaodai.domain.a.x_f__mutmut_3": 0,     # survived
             "yibaodai.domain.a.x_f__mutmut_4": 0,     # message only
             "yibaodai.domain.a.x_f__mutmut_5": 0,     # accepted
             "yibaodai.domain.a.x_f__mutmut_6": 0,     # killed on a fresh import
             "yibaodai.domain.b.x_g__mutmut_1": 33,    # no tests: not killed
             "yibaodai.domain.b.x_g__mutmut_2": None}  # not checked (yet): left out
    mutants = mutation.judge(codes, message_only={"yibaodai.domain.a.x_f__mutmut_4"},
                             accepted={"yibaodai.domain.a.x_f__mutmut_5": "equivalent"},
                             fresh_kills={"yibaodai.domain.a.x_f__mutmut_6",
                                          "yibaodai.domain.a.x_f__mutmut_1"})
    counts = mutation.count(mutants)
    a, b = counts["yibaodai.domain.a"], counts["yibaodai.domain.b"]
    assert (a.mutants, a.excluded, a.accepted, a.counted, a.killed) == (6, 1, 1, 4, 3)
    assert [m.name for m in a.survivors] == ["yibaodai.domain.a.x_f__mutmut_3"]
    assert (b.mutants, b.unchecked, b.counted, b.killed, len(b.survivors)) == (2, 1, 1, 0, 1)
    assert a.percent == 75.0
    assert mutation.summary_line(counts) == "mutation: 3 of 5 killed (60.0%)"


def test_an_accepted_survivor_needs_a_reason(mutation: ModuleType, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[mutants."m.x_f__mutmut_1"]\nreason = "equivalent: x"\n', "utf-8")
    assert mutation.load_accepted(good) == {"m.x_f__mutmut_1": "equivalent: x"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[mutants."m.x_f__mutmut_1"]\nreason = ""\n', "utf-8")
    with pytest.raises(SystemExit, match="no reason"):
        mutation.load_accepted(bad)


def test_results_and_functions_are_read_from_mutmuts_files(mutation: ModuleType,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "src" / "yibaodai" / "domain"
    folder.mkdir(parents=True)
    (folder / "a.py").write_text(
        ORIGINAL + "\n\n" + ORIGINAL.replace("x_f__mutmut_orig", "x_f__mutmut_1").replace(
            "less than", "XXless than") + "\n\n" + ORIGINAL.replace(
            "x_f__mutmut_orig", "x_f__mutmut_2").replace("n < 12", "n <= 12"), "utf-8")
    (folder / "a.py.meta").write_text(json.dumps({"exit_code_by_key": {
        "yibaodai.domain.a.x_f__mutmut_1": 0, "yibaodai.domain.a.x_f__mutmut_2": 1}}), "utf-8")
    codes = mutation.read_exit_codes(tmp_path)
    assert codes == {"yibaodai.domain.a.x_f__mutmut_1": 0, "yibaodai.domain.a.x_f__mutmut_2": 1}
    assert mutation.message_only_mutants(codes, tmp_path) == {
        "yibaodai.domain.a.x_f__mutmut_1"}
    assert mutation.diff_of("yibaodai.domain.a.x_f__mutmut_2", tmp_path) == \
        "- if n < 12:\n+ if n <= 12:"


def test_a_fresh_import_runs_the_tests_that_reach_the_mutant_or_import_its_module(
        mutation: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\npytest_add_cli_args = ["-q", "--ignore=tests/unit/test_c.py"]\n',
        "utf-8")
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"tests_by_mangled_function_name": {
        "yibaodai.domain.a.x_f": ["tests/unit/test_z.py::test_one"]}}), "utf-8")
    unit = tmp_path / "tests" / "unit"
    unit.mkdir(parents=True)
    (unit / "test_a.py").write_text("from yibaodai.domain.a import f\n", "utf-8")
    (unit / "test_b.py").write_text("from yibaodai.domain.ab import g\n", "utf-8")
    (unit / "test_c.py").write_text("from yibaodai.domain.a import f\n", "utf-8")
    assert mutation._tests_for("yibaodai.domain.a.x_f__mutmut_2", tmp_path) == [
        "tests/unit/test_a.py", "tests/unit/test_z.py"]


def test_functions_run_at_import_are_found_through_the_modules_own_calls(
        mutation: ModuleType) -> None:
    source = '''
import re
from pydantic import BaseModel, model_validator

PATTERN = re.compile("x")


def _bins(*edges):
    return tuple(edges)


def _card(size):
    return Card(bins=_bins(size))


def decide(card):
    return card


class Card(BaseModel):
    @model_validator(mode="after")
    def _check(self):
        return self

    def label(self):
        return "card"


INITIAL = {"pharmacy": _card(20_000)}
'''
    assert mutation.import_time_functions(source) == {"_card", "_bins", "_check"}
    assert mutation.import_time_functions("def f():\n    return 1\n\n\nX = 1\n") == set()


def test_every_domain_module_is_listed_even_with_nothing_to_mutate(
        mutation: ModuleType) -> None:
    modules = mutation.domain_modules()
    assert {"yibaodai.domain.events", "yibaodai.domain.roles", "yibaodai.domain.verification",
            "yibaodai.domain.ews.rules", "yibaodai.domain.marketing.rows"} <= set(modules)
    assert not any(m.endswith("__init__") for m in modules)
    mutants = mutation.judge({"yibaodai.domain.a.x_f__mutmut_1": 1}, message_only=(),
                             accepted={})
    counts = mutation.count(mutants, ["yibaodai.domain.a", "yibaodai.domain.roles"])
    assert counts["yibaodai.domain.roles"].mutants == 0
    report = mutation.render(counts, mutants, "cmd")
    assert "| `domain.roles` | 0 | 0 | 0 | 0 | 0 | 0 | 0 | no functions |" in report
    assert "| `domain.a` | 1 | 0 | 0 | 0 | 1 | 1 | 0 | 100.0 |" in report


def test_only_unchecked_modules_unchanged_since_the_old_run_are_carried(
        mutation: ModuleType) -> None:
    """eabf8ab is the commit of the full run on the old base: months has not changed since
    and is carried with that run's figures; sla changed (working_hours_between), and a module
    this run checked is never replaced."""
    mc = mutation.ModuleCount
    counts = {"yibaodai.domain.months": mc("yibaodai.domain.months", 15, unchecked=15),
              "yibaodai.domain.sla": mc("yibaodai.domain.sla", 207, unchecked=207),
              "yibaodai.domain.case": mc("yibaodai.domain.case", 127, killed=127)}
    carried = mutation.carried_counts("eabf8ab", counts)
    assert list(carried) == ["yibaodai.domain.months"]
    months = carried["yibaodai.domain.months"]
    assert (months.counted, months.killed, months.carried_from) == (15, 15, "eabf8ab")
