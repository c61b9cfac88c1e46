"""The text rule of bureau messages (``domain.text``) and the sign rule of amounts
(``gateway.rows.daily_problem``), as properties over generated values; and the refusal codes
of the gateway, each documented in ``docs/interface.md``."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.text import HIDDEN_RE, NONCHARACTERS, hidden_character
from yibaodai.gateway.rows import against_total, daily_problem
from yibaodai.gateway.service import INFCODES

REFUSED = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def _refused(ch: str) -> bool:
    return unicodedata.category(ch) in REFUSED or ch in NONCHARACTERS


def test_the_rule_covers_every_plane_of_the_unicode_database() -> None:
    """The class is built from planes 0-2 and 14 (for speed); no other plane may hold a
    refused character, in this Python's Unicode version."""
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        assert bool(HIDDEN_RE.match(ch)) == _refused(ch), hex(cp)


@given(st.text())
def test_text_is_refused_exactly_when_it_holds_a_refused_character(text: str) -> None:
    assert (hidden_character(text) is None) == (not any(map(_refused, text)))


@given(st.text(st.characters(exclude_categories=["Cc", "Cf", "Zl", "Zp", "Cs"])),
       st.sampled_from("\u200b\u200d\u202e\u2066\u2069\u2028\u2029\ufeff\x00\t\n\x85\ufffe"),
       st.integers(0, 50))
def test_one_hidden_character_anywhere_names_its_kind(text: str, ch: str, at: int) -> None:
    at %= len(text) + 1
    assert hidden_character(text[:at] + ch + text[at:]) is not None


def test_each_kind_is_named() -> None:
    kinds = {"\u202e": "bidi_control", "\u2067": "bidi_control", "\u200b": "format_character",
             "\x00": "control_character", "\t": "control_character",
             "\u2028": "line_separator", "\u2029": "line_separator",
             "\ud800": "lone_surrogate", "\ufdd0": "noncharacter", "\U0010ffff": "noncharacter"}
    for ch, kind in kinds.items():
        assert hidden_character(f"康宁{ch}诊所") == kind, repr(ch)
    assert hidden_character("大连市中山区康宁诊所 (No. 1) <a>") is None


CENTS = st.integers(-10**9, 10**9).map(lambda n: Decimal(n) / 100)


@given(fund=CENTS, acct=CENTS, cash=CENTS, hifp_share=st.integers(0, 100),
       refunds=st.integers(0, 3))
def test_an_amount_is_accepted_only_when_every_part_runs_with_its_total(
        fund: Decimal, acct: Decimal, cash: Decimal, hifp_share: int, refunds: int) -> None:
    medfee = fund + acct + cash
    hifp = (fund * hifp_share / 100).quantize(Decimal("0.01"))
    if abs(hifp) > abs(fund):
        hifp = fund
    problem = daily_problem(medfee, fund, hifp, acct, cash, 10, refunds)
    parts = (fund, acct, cash)
    with_total = all(p == 0 or (medfee != 0 and (p > 0) == (medfee > 0)) for p in parts)
    no_negatives = all(v >= 0 for v in (*parts, hifp, medfee))
    assert (problem is None) == (with_total and (no_negatives or refunds > 0)), problem


@given(total=CENTS, part=CENTS)
def test_a_part_against_its_total_is_named(total: Decimal, part: Decimal) -> None:
    problem = against_total("medfee_sumamt", total, {"acct_pay": part})
    runs_with = part == 0 or (total != 0 and (part > 0) == (total > 0))
    assert (problem is None) == runs_with
    if problem is not None:
        assert "acct_pay" in problem and " / " in problem


def test_every_refusal_code_is_documented_with_its_infcode() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "interface.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (\d{4}) \| ([a-z_]+) \|", doc, flags=re.MULTILINE))
    assert {code: int(n) for n, code in table.items()} == INFCODES


def test_no_key_or_secret_file_is_in_the_repository() -> None:
    """Secrets come from the environment or from files outside the repository
    (``docs/security.md`` §4): no key file is tracked, and no tracked file holds a private
    key or link key field."""
    root = Path(__file__).parents[2]
    tracked = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True,
                             text=True).stdout.split()
    assert tracked
    assert not [p for p in tracked if re.search(
        r"(\.sm2\.private\.json|\.sm4\.json|chain-keys\.json|\.pem|\.key|\.env)$", p)]
    for path in tracked:
        if path.endswith((".py", ".json", ".md", ".toml", ".ini", ".yml", ".yaml", ".ts")):
            text = (root / path).read_text(encoding="utf-8", errors="replace")
            assert not re.search(r'"(private_key_hex|key_hex)"\s*:\s*"[0-9a-fA-F]{32,}"',
                                 text), path
