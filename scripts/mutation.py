"""Mutation testing of the bank's rules: run mutmut over ``domain/``, judge the survivors, and
write ``docs/mutation.md``.

Usage::

    python scripts/mutation.py                 # mutmut run, fresh-process re-check, report
    python scripts/mutation.py --report-only   # re-read mutants/ and rewrite the report
    python scripts/mutation.py --max-children 1 'yibaodai.domain.warnings*'

What is counted (the last line: ``mutation: K of N killed (P%)``):

* mutmut's verdicts are read from its meta files (``mutants/**/*.py.meta``); ``killed`` and
  ``timeout`` count as killed, ``survived``, ``no tests`` and anything else as not. A mutant
  mutmut has not tried yet (an interrupted run) is reported as *not checked* and left out of
  N, so a partial run says how partial it is instead of counting untried mutants either way.
* **Fresh import.** mutmut forks its workers from a process that has already imported the
  package, so a mutant in code that runs at import time (the initial model is built by
  ``admission._card`` then) is invisible to them. A survivor in such a function — called
  from module level, directly or through the module's own functions, or a pydantic validator
  of a module that builds objects at import — is tried again in a new process: its module is
  re-imported with ``MUTANT_UNDER_TEST`` set, then the unit test modules that import it (and
  those mutmut saw reach it), whose plain tests are called; a failure is a kill. One process
  re-imports for every such mutant, so hundreds cost seconds, not a pytest start each.
* **Excluded, by rule:** a mutant that changes nothing but the text of user messages — the
  original and the mutant differ only in string constants, and every changed string reads
  as a message (it has a space or a non-ASCII character). Codes, keys and labels
  (``"K04"``, ``"months_of_history"``, ``"[-inf, "``) are behaviour and stay counted.
* **Accepted survivors** (``tests/mutation_accepted.toml``, reviewed by hand): mutants that
  cannot change what the bank sees (equivalent), each with its reason; they are listed in the
  report and left out of N.
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
DOMAIN = Path("src/yibaodai/domain")
ACCEPTED = ROOT / "tests" / "mutation_accepted.toml"
REPORT = ROOT / "docs" / "mutation.md"

KILLED = "killed"
SURVIVED = "survived"
EXCLUDED = "message only"
ACCEPTED_STATUS = "accepted"
NOT_CHECKED = "not checked"
#: mutmut's exit codes (mutmut/stats.py): 1 and 3 failed tests, 36/24/-24/152/255 timeouts.
_KILL_CODES = {1, 3, 36, 24, -24, 152, 255, 37}
_MESSAGE = re.compile(r"[^\x00-\x7f]|\s")


@dataclass
class Mutant:
    name: str
    module: str
    status: str
    note: str = ""
    diff: str = ""


@dataclass
class ModuleCount:
    module: str
    mutants: int = 0
    excluded: int = 0
    accepted: int = 0
    unchecked: int = 0
    killed: int = 0
    survivors: list[Mutant] = field(default_factory=list)
    carried_from: str = ""

    @property
    def counted(self) -> int:
        return self.mutants - self.excluded - self.accepted - self.unchecked

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 100.0


# --- judging -----------------------------------------------------------------------------


def module_of(mutant_name: str) -> str:
    """``yibaodai.domain.admission.x_decide__mutmut_3`` -> ``yibaodai.domain.admission``."""
    head = re.split(r"\.x_|\.xǁ", mutant_name, maxsplit=1)[0]
    return head


def verdict(exit_code: int | None) -> str:
    return KILLED if exit_code in _KILL_CODES else SURVIVED


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _blank_strings(node: ast.AST) -> str:
    class Blank(ast.NodeTransformer):
        def visit_Constant(self, n: ast.Constant) -> ast.AST:
            return ast.Constant("") if isinstance(n.value, str) else n

    return ast.dump(Blank().visit(copy.deepcopy(node)))


def is_message_only(original: str, mutant: str) -> bool:
    """True when two versions of a function differ only in message strings (see module doc).
    Both are source texts of the same function (any name)."""
    a, b = ast.parse(_dedent(original)), ast.parse(_dedent(mutant))
    for tree in (a, b):
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                fn.name = "f"
                if (fn.body and isinstance(fn.body[0], ast.Expr)
                        and isinstance(fn.body[0].value, ast.Constant)):
                    fn.body = fn.body[1:] or [ast.Pass()]  # the docstring is no behaviour
    if _blank_strings(a) != _blank_strings(b):
        return False
    changed = [x for x, y in zip(_strings(a), _strings(b), strict=True) if x != y]
    return bool(changed) and all(_MESSAGE.search(s) for s in changed)


def _dedent(source: str) -> str:
    lines = source.splitlines()
    indent = min((len(s) - len(s.lstrip()) for s in lines if s.strip()), default=0)
    return "\n".join(s[indent:] for s in lines)


def judge(exit_codes: Mapping[str, int | None], *, message_only: Iterable[str],
          accepted: Mapping[str, str], fresh_kills: Iterable[str] = ()) -> list[Mutant]:
    """Each mutant's final status, from mutmut's exit codes and the three rules."""
    messages, kills = set(message_only), set(fresh_kills)
    out: list[Mutant] = []
    for name, code in sorted(exit_codes.items()):
        status, note = (NOT_CHECKED, "") if code is None else (verdict(code), "")
        if status == SURVIVED and name in kills:
            status, note = KILLED, "killed on a fresh import"
        if status == SURVIVED and name in messages:
            status = EXCLUDED
        if status == SURVIVED and name in accepted:
            status, note = ACCEPTED_STATUS, accepted[name]
        out.append(Mutant(name, module_of(name), status, note))
    return out


def domain_modules(root: Path = ROOT) -> list[str]:
    """Every module under ``domain/`` (``__init__`` files aside), so the report lists the ones
    with nothing to mutate (plain data: ``events``, ``roles``) instead of leaving them out."""
    base = root / "src"
    return sorted(".".join(p.relative_to(base).with_suffix("").parts)
                  for p in (root / DOMAIN).rglob("*.py") if p.name != "__init__.py")


def count(mutants: Iterable[Mutant], modules: Iterable[str] = ()) -> dict[str, ModuleCount]:
    by_module: dict[str, ModuleCount] = {m: ModuleCount(m) for m in modules}
    for m in mutants:
        c = by_module.setdefault(m.module, ModuleCount(m.module))
        c.mutants += 1
        if m.status == KILLED:
            c.killed += 1
        elif m.status == EXCLUDED:
            c.excluded += 1
        elif m.status == ACCEPTED_STATUS:
            c.accepted += 1
        elif m.status == NOT_CHECKED:
            c.unchecked += 1
        else:
            c.survivors.append(m)
    return dict(sorted(by_module.items()))


def summary_line(counts: Mapping[str, ModuleCount]) -> str:
    killed = sum(c.killed for c in counts.values())
    total = sum(c.counted for c in counts.values())
    pct = 100.0 * killed / total if total else 100.0
    return f"mutation: {killed} of {total} killed ({pct:.1f}%)"


def load_accepted(path: Path = ACCEPTED) -> dict[str, str]:
    """``[mutants."<name>"] reason = "..."`` -> {name: reason}; a reason is required."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text("utf-8"))
    out: dict[str, str] = {}
    for name, entry in data.get("mutants", {}).items():
        reason = str(entry.get("reason", "")).strip()
        if not reason:
            raise SystemExit(f"{path}: accepted mutant {name} has no reason")
        out[name] = reason
    return out


# --- reading mutants/ --------------------------------------------------------------------


def read_exit_codes(root: Path = MUTANTS) -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    for meta in sorted((root / DOMAIN).rglob("*.py.meta")):
        codes.update(json.loads(meta.read_text("utf-8"))["exit_code_by_key"])
    return codes


def _source_file(module: str, root: Path = MUTANTS) -> Path:
    return root / "src" / (module.replace(".", "/") + ".py")


@functools.cache
def function_sources(module: str, root: Path = MUTANTS) -> dict[str, str]:
    """Every function of a mutated file by its mangled name (``x_f__mutmut_3``)."""
    text = _source_file(module, root).read_text("utf-8")
    lines = text.splitlines()
    out: dict[str, str] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            out[node.name] = "\n".join(lines[node.lineno - 1:node.end_lineno])
    return out


def message_only_mutants(names: Iterable[str], root: Path = MUTANTS) -> set[str]:
    out: set[str] = set()
    sources: dict[str, dict[str, str]] = {}
    for name in names:
        module = module_of(name)
        fns = sources.setdefault(module, function_sources(module, root))
        local = name[len(module) + 1:]
        orig = fns.get(local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
        mutated = fns.get(local)
        if orig and mutated and is_message_only(orig, mutated):
            out.add(name)
    return out


def diff_of(name: str, root: Path = MUTANTS) -> str:
    module = module_of(name)
    fns = function_sources(module, root)
    local = name[len(module) + 1:]
    orig = fns.get(local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", "").splitlines()
    mutated = fns.get(local, "").splitlines()
    changed = [f"- {a.strip()}\n+ {b.strip()}" for a, b in zip(orig[1:], mutated[1:],
                                                              strict=False) if a != b]
    return "\n".join(changed[:3]) or "(lines added or removed)"


# --- running -----------------------------------------------------------------------------


def _ignored(root: Path = MUTANTS) -> set[str]:
    """The test files ``[tool.mutmut] pytest_add_cli_args`` leaves out (``--ignore=``)."""
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    return {a.removeprefix("--ignore=") for a in config.get("pytest_add_cli_args", [])
            if a.startswith("--ignore=")}


def _deselected(root: Path = MUTANTS) -> set[str]:
    """The tests ``--deselect=`` leaves out, as ``tests.unit.module.function``."""
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    return {a.removeprefix("--deselect=").replace(".py::", ".").replace("/", ".")
            for a in config.get("pytest_add_cli_args", []) if a.startswith("--deselect=")}


def _tests_for(name: str, root: Path = MUTANTS) -> list[str]:
    stats = json.loads((root / "mutmut-stats.json").read_text("utf-8"))
    module = module_of(name)
    mangled = module + "." + name[len(module) + 1:].rsplit("__mutmut_", 1)[0]
    files = {t.split("::")[0] for t in stats["tests_by_mangled_function_name"].get(mangled, [])}
    for path in sorted((root / "tests" / "unit").glob("test_*.py")):
        if re.search(rf"\b{re.escape(module)}\b", path.read_text("utf-8")):
            files.add(str(path.relative_to(root)))
    return sorted(files - _ignored(root))


def _called(node: ast.AST) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            out.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute)
                    else "")
    return out - {""}


def import_time_functions(source: str) -> set[str]:
    """Names of the functions a module runs when it is imported (see module doc)."""
    tree = ast.parse(source)
    defs: dict[str, list[ast.AST]] = {}
    validators: set[str] = set()
    top: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            defs.setdefault(stmt.name, []).append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            for item in stmt.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    defs.setdefault(item.name, []).append(item)
                    if any("validator" in ast.unparse(d) for d in item.decorator_list):
                        validators.add(item.name)
        elif not isinstance(stmt, ast.Import | ast.ImportFrom):
            top |= _called(stmt)
    reached = {name for name in top if name in defs}
    if reached:
        reached |= validators
    frontier = set(reached)
    while frontier:
        name = frontier.pop()
        for node in defs.get(name, []):
            new = {n for n in _called(node) if n in defs} - reached
            reached |= new
            frontier |= new
    return reached


def needs_fresh_process(name: str, root: Path = MUTANTS) -> bool:
    module = module_of(name)
    original = ROOT / "src" / (module.replace(".", "/") + ".py")
    if root != MUTANTS:
        original = root / "src" / (module.replace(".", "/") + ".py")
    local = name[len(module) + 1:].rsplit("__mutmut_", 1)[0]
    function = local.split("ǁ")[-1] if "ǁ" in local else local.removeprefix("x_")
    return function in import_time_functions(original.read_text("utf-8"))


#: Runs in one new process under mutants/: for each mutant, re-import its module with the
#: mutant active (module-level code runs again, through mutmut's trampolines), re-import the
#: unit test modules that import it, and call their plain (argument-free, non-hypothesis)
#: tests. The clean module must pass them all first.
_RELOAD_DRIVER = """
import importlib, inspect, json, os, sys
given = json.loads(sys.stdin.read())
plan, skip = given["modules"], set(given["deselected"])
def attempt(name, module, tests):
    os.environ["MUTANT_UNDER_TEST"] = name
    try:
        importlib.reload(importlib.import_module(module))
        for t in tests:
            m = importlib.reload(importlib.import_module(t))
            for fn_name, fn in sorted(vars(m).items()):
                if (fn_name.startswith("test_") and inspect.isfunction(fn)
                        and t + "." + fn_name not in skip
                        and not hasattr(fn, "hypothesis")
                        and not inspect.signature(fn).parameters):
                    fn()
    except BaseException:
        return True
    finally:
        os.environ["MUTANT_UNDER_TEST"] = ""
    return False
out = {}
for module, (tests, names) in plan.items():
    if attempt("", module, tests):
        raise SystemExit("the clean module fails its own tests: " + module)
    out.update({n: attempt(n, module, tests) for n in names})
print(json.dumps(out))
"""


def import_time_kills(survivors: list[str], root: Path = MUTANTS) -> set[str]:
    """Survivors in import-time code, tried by re-importing (see ``_RELOAD_DRIVER``)."""
    plan: dict[str, tuple[list[str], list[str]]] = {}
    for name in survivors:
        module = module_of(name)
        tests = [t.removesuffix(".py").replace("/", ".") for t in _tests_for(name, root)]
        plan.setdefault(module, (tests, []))[1].append(name)
    if not plan:
        return set()
    env = {**os.environ, "MUTANT_UNDER_TEST": "", "PYTHONPATH": f"{root / 'src'}:{root}"}
    given = {"modules": plan, "deselected": sorted(_deselected(root))}
    run = subprocess.run([sys.executable, "-c", _RELOAD_DRIVER], input=json.dumps(given),
                         cwd=root, env=env, capture_output=True, text=True, timeout=3600,
                         check=True)
    result: dict[str, bool] = json.loads(run.stdout.strip().splitlines()[-1])
    return {n for n, k in result.items() if k}


def carried_counts(rev: str, counts: Mapping[str, ModuleCount]) -> dict[str, ModuleCount]:
    """Rows of the report at git ``rev`` for the modules this run did not check at all and
    whose source is unchanged since ``rev``: mutmut resets every verdict when its settings
    change, so an earlier full run's figures stand for such a module, marked as carried."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False)

    old = git("show", f"{rev}:docs/mutation.md").stdout
    rows = {f"yibaodai.{m}": [int(x) for x in nums.split(" | ")[:7]] for m, nums in
            re.findall(r"^\| `([\w.]+)` \| ([\d |]+) \| [\d.]+ \|$", old, re.MULTILINE)}
    survivors = re.findall(r"^- `(yibaodai\.domain\.[^`]+)`$", old.split("## Remaining")[-1],
                           re.MULTILINE)
    out: dict[str, ModuleCount] = {}
    for module, c in counts.items():
        path = str(DOMAIN.parent.parent / (module.replace(".", "/") + ".py"))
        if (c.mutants and c.unchecked < c.mutants) or module not in rows:
            continue
        if git("diff", "--quiet", rev, "HEAD", "--", path).returncode != 0:
            continue
        mutants, _, excluded, accepted, _, killed, _ = rows[module]
        out[module] = ModuleCount(
            module, mutants, excluded, accepted, 0, killed,
            [Mutant(n, module, SURVIVED, diff=f"(survivor of the run at {rev})")
             for n in survivors if module_of(n) == module], carried_from=rev)
    return out


def render(counts: Mapping[str, ModuleCount], mutants: list[Mutant], command: str,
           note: str = "") -> str:
    lines = [
        "# Mutation testing of `domain/`",
        "",
        "Generated by `scripts/mutation.py` (`make mutation`); do not edit by hand. How mutants",
        "are counted, excluded and accepted: the script's docstring. Command: `" + command + "`.",
        "",
        *([note, ""] if note else []),
        *(["Rows marked *(from <commit>)* are carried from the report at that commit (see "
           "`--carry-from`): their module's source is unchanged since, and this run did not "
           "check them.", ""] if any(c.carried_from for c in counts.values()) else []),
        "| module | mutants | not checked | message only | accepted | counted | killed | survived "
        "| killed % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in counts.values():
        percent = f"{c.percent:.1f}" if c.mutants else "no functions"
        carried = f" (from {c.carried_from})" if c.carried_from else ""
        lines.append(f"| `{c.module.removeprefix('yibaodai.')}`{carried} | {c.mutants} | "
                     f"{c.unchecked} | {c.excluded} | "
                     f"{c.accepted} | {c.counted} | {c.killed} | {len(c.survivors)} | "
                     f"{percent} |")
    lines += ["", summary_line(counts)]
    unchecked = sum(c.unchecked for c in counts.values())
    if unchecked:
        lines += ["", f"**Incomplete run:** {unchecked} mutants were not checked (mutmut was "
                  "stopped before it tried them); they are left out of the counts above."]
    lines += ["", "## Accepted survivors (equivalent or harmless)", ""]
    accepted = [m for m in mutants if m.status == ACCEPTED_STATUS]
    lines += [f"- `{m.name}`: {m.note}" for m in accepted] or ["(none)"]
    lines += ["", "## Remaining survivors", ""]
    remaining = [m for c in counts.values() for m in c.survivors]
    for m in remaining:
        lines += [f"- `{m.name}`", "", "  ```diff", *("  " + x for x in m.diff.splitlines()),
                  "  ```"]
    if not remaining:
        lines.append("(none)")
    lines += ["", summary_line(counts)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh-import check")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--carry-from", metavar="REV", action="append", default=[],
                        help="take unchecked, unchanged modules' rows from the report at REV "
                             "(repeatable: the first REV that has a module's row wins)")
    parser.add_argument("--note", default="", help="a paragraph on which runs are merged")
    parser.add_argument("names", nargs="*", help="mutant names or globs for mutmut run")
    args = parser.parse_args(argv)
    command = "python scripts/mutation.py " + " ".join(
        a for a in (argv or sys.argv[1:]) if not a.startswith("--note="))
    if not args.report_only:
        subprocess.run([str(Path(sys.executable).parent / "mutmut"), "run", "--max-children",
                        str(args.max_children), *args.names], cwd=ROOT, check=False)
    codes = read_exit_codes()
    if not codes:
        print("no mutmut results under mutants/: run without --report-only", file=sys.stderr)
        return 1
    accepted = load_accepted()
    messages = message_only_mutants(codes)
    first = judge(codes, message_only=messages, accepted=accepted)
    open_ = [m.name for m in first if m.status == SURVIVED and needs_fresh_process(m.name)]
    fresh = set() if args.no_fresh else import_time_kills(open_)
    mutants = judge(codes, message_only=messages, accepted=accepted, fresh_kills=fresh)
    for m in mutants:
        if m.status == SURVIVED:
            m.diff = diff_of(m.name)
    counts = count(mutants, domain_modules())
    for rev in args.carry_from:
        counts = {**counts, **carried_counts(rev, counts)}
    REPORT.write_text(render(counts, mutants, command.strip(), args.note), "utf-8")
    for c in counts.values():
        print(f"{c.module:40} {c.killed:5} of {c.counted:5} killed ({c.percent:.1f}%)")
    print(summary_line(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
