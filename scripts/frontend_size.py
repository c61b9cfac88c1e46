"""Weigh what the browser downloads for the platform's first pages, from the Vite build's
manifest (src/yibaodai/web/static/app/.vite/manifest.json): the entry chunk and everything it
imports statically, plus the chunks of the page's route (loaded on demand) and theirs. Sizes
are gzip level 9 of each distinct file, summed; JavaScript and CSS are counted apart.

    .venv/bin/python scripts/frontend_size.py          # a table; exit 1 over the budget
    .venv/bin/python scripts/frontend_size.py --json
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BUILD = Path(__file__).resolve().parents[1] / "src/yibaodai/web/static/app"
#: The budget of the issue: the first page's JavaScript, gzipped.
BUDGET_JS_GZIP = 1_000_000
#: A page = the route components it loads, beside the entry (frontend/src/router/).
PAGES = {
    "log-in (/login)": ["src/views/auth/LoginView.vue"],
    "dashboard after log-in (/)": ["src/layouts/BasicLayout.vue",
                                   "src/views/dashboard/DashboardView.vue"],
    "case list (/cases)": ["src/layouts/BasicLayout.vue", "src/views/cases/CaseListView.vue"],
}


@dataclass(frozen=True)
class Weight:
    page: str
    js_files: int
    js_bytes: int
    js_gzip: int
    css_gzip: int
    js: tuple[str, ...]


#: One manifest entry: ``file``, ``imports``, ``css``, ``isEntry``, … (Vite's format).
Chunk = dict[str, Any]


def _closure(manifest: dict[str, Chunk], keys: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(keys)
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        todo.extend(str(k) for k in manifest[key].get("imports", []))
    return seen


def weigh(build: Path = BUILD) -> list[Weight]:
    manifest_path = build / ".vite" / "manifest.json"
    if not manifest_path.is_file():
        raise SystemExit(f"no build at {build}: run `make frontend` first")
    manifest: dict[str, Chunk] = json.loads(manifest_path.read_text())
    entry = [k for k, v in manifest.items() if v.get("isEntry")]
    out = []
    for page, routes in PAGES.items():
        missing = [r for r in routes if r not in manifest]
        if missing:
            raise SystemExit(f"{missing} not in the manifest: update PAGES")
        chunks = _closure(manifest, entry + routes)
        js = {str(manifest[k]["file"]) for k in chunks}
        css = {str(c) for k in chunks for c in manifest[k].get("css", [])}
        raw = {f: (build / f).read_bytes() for f in js | css}
        out.append(Weight(
            page=page, js_files=len(js), js_bytes=sum(len(raw[f]) for f in js),
            js_gzip=sum(len(gzip.compress(raw[f], 9)) for f in js),
            css_gzip=sum(len(gzip.compress(raw[f], 9)) for f in css), js=tuple(sorted(js))))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    weights = weigh()
    if args.json:
        print(json.dumps([asdict(w) for w in weights], indent=2))
    else:
        print(f"{'page':30} {'JS files':>8} {'JS':>11} {'JS gzip':>11} {'CSS gzip':>11}")
        for w in weights:
            print(f"{w.page:30} {w.js_files:>8} {w.js_bytes / 1024:>7.1f} KiB "
                  f"{w.js_gzip / 1024:>7.1f} KiB {w.css_gzip / 1024:>7.1f} KiB")
        print(f"budget: first page's JS <= {BUDGET_JS_GZIP / 1e6:.1f} MB gzipped")
    return 0 if all(w.js_gzip <= BUDGET_JS_GZIP for w in weights) else 1


if __name__ == "__main__":
    sys.exit(main())
