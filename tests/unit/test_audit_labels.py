"""Every audit action the code records has a Chinese and an English name on the audit page:
an unnamed action shows its raw key (``retention.quarantine``) to an auditor."""

from __future__ import annotations

import re
from pathlib import Path

from yibaodai.reports.labels import AUDIT_ACTIONS

SRC = Path(__file__).resolve().parents[2] / "src" / "yibaodai"
LITERAL = re.compile(r'\baction="([a-z_]+(?:\.[a-z_]+)+)"')


def recorded_actions() -> set[str]:
    return {m for path in SRC.rglob("*.py") if path.name != "labels.py"
            for m in LITERAL.findall(path.read_text(encoding="utf-8"))}


def test_the_scan_finds_the_actions_it_should() -> None:
    found = recorded_actions()
    assert {"auth.failed", "retention.delete", "warning.handled"} <= found


def test_every_recorded_action_has_both_names() -> None:
    missing = sorted(a for a in recorded_actions() if a not in AUDIT_ACTIONS)
    assert missing == []
    for action in recorded_actions():
        zh, en = AUDIT_ACTIONS[action]
        assert zh.strip() and en.strip() and zh != en
