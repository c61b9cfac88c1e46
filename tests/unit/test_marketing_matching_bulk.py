"""The bulk de-duplication (numpy neighbour pairs, rapidfuzz ``cpdist`` screen) against the
straightforward version it replaced, kept here as the reference: one Python loop over every
sorted-neighbourhood pair, one ``fuzz.ratio`` per pair. Same pairs, same groups, same links,
same comparison count, on generated records and on the simulator's messy list."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from yibaodai.domain.marketing import matching as m
from yibaodai.domain.marketing.layout import find_layout
from yibaodai.domain.marketing.matching import (
    WINDOW,
    Clustering,
    MatchRecord,
    address_key,
    candidate_pairs,
    cluster,
    name_key,
)
from yibaodai.domain.marketing.rows import parse_table
from yibaodai.marketing.reader import read_list
from yibaodai.sim.bureau_list import write_bureau_list
from yibaodai.sim.city import generate_city


def reference_pairs(records: Sequence[MatchRecord], *, window: int = WINDOW
                    ) -> set[tuple[int, int]]:
    by_district: dict[str | None, list[MatchRecord]] = {}
    for r in records:
        by_district.setdefault(r.district, []).append(r)
    orders: tuple[Callable[[MatchRecord], str], ...] = (
        lambda r: r.name, lambda r: r.address or r.name, lambda r: r.name[::-1])
    pairs: set[tuple[int, int]] = set()
    for block in by_district.values():
        for order in orders:
            ranked = sorted(block, key=lambda r: (order(r), r.key))
            for i, left in enumerate(ranked):
                for right in ranked[i + 1:i + 1 + window]:
                    pairs.add((min(left.key, right.key), max(left.key, right.key)))
    return pairs


def reference_cluster(records: Sequence[MatchRecord], *, window: int = WINDOW) -> Clustering:
    """``cluster`` as it was before the bulk screen (commit 4c1ad88), pair by pair."""
    groups = m._Groups(records)
    links: dict[int, m.Link] = {}

    def note(a: int, b: int, link_a: m.Link, link_b: m.Link) -> None:
        if m._better(link_a, links.get(a)):
            links[a] = link_a
        if m._better(link_b, links.get(b)):
            links[b] = link_b

    for a, b in m._exact(records, lambda r: r.code):
        if groups.union(a, b, check=(m._PROSPECT,)):
            note(a, b, m.Link(b, m.MatchReason.CODE, 100), m.Link(a, m.MatchReason.CODE, 100))
    for a, b in m._exact(records, lambda r: r.uscc):
        if groups.union(a, b, check=(m._CODE, m._PROSPECT)):
            note(a, b, m.Link(b, m.MatchReason.USCC, 100), m.Link(a, m.MatchReason.USCC, 100))
    by_key = {r.key: r for r in records}
    distinct: dict[tuple[int, str, str], MatchRecord] = {}
    for r in records:
        distinct.setdefault((groups.find(r.key), r.name, r.address), r)
    scored = []
    pairs = reference_pairs(list(distinct.values()), window=window)
    for a, b in pairs:
        left, right = by_key[a], by_key[b]
        if groups.find(a) == groups.find(b) or left.distinct_from(right) or not fuzz.ratio(
                left.name, right.name, score_cutoff=m.NAME_THRESHOLD):
            continue
        sim = m.similarity(left, right)
        if sim.same:
            scored.append((-sim.score, a, b, sim))
    for _, a, b, sim in sorted(scored, key=lambda t: t[:3]):
        if groups.union(a, b, check=(m._CODE, m._USCC, m._PROSPECT)):
            link = (m.MatchReason.NAME_ADDRESS, sim.score, sim.name, sim.address)
            note(a, b, m.Link(b, *link), m.Link(a, *link))
    members: dict[int, list[int]] = {}
    for r in records:
        members.setdefault(groups.find(r.key), []).append(r.key)
    ordered = tuple(sorted(tuple(sorted(g)) for g in members.values()))
    kept = {k: v for k, v in links.items() if len(members[groups.find(k)]) > 1}
    return Clustering(ordered, kept, len(pairs))


_BRANDS = ["康宁", "康宁大", "仁德", "惠民", "惠民堂", "益生"]
_KINDS = ["大药房", "诊所", "药店", "医院"]

record_specs = st.lists(st.tuples(
    st.sampled_from(_BRANDS), st.sampled_from(_KINDS), st.integers(0, 4),
    st.sampled_from(["", "人民路", "中山路", "人民北路"]), st.integers(1, 3),
    st.sampled_from(["210202", "210203", "210211"]),
    st.sampled_from([None, "H21020200001", "H21020200002"]),
    st.sampled_from([None, "p1", "p2"]), st.booleans()), max_size=60)


def _records(specs: list[tuple[str, str, int, str, int, str, str | None, str | None, bool]],
             ) -> list[MatchRecord]:
    return [MatchRecord(
        key * 3 + 5, district, name_key(f"大连{brand}{kind}{'（' + str(n) + '）' if n else ''}"),
        address_key(f"{street}{house}号" if street else ""), code, None,
        (key if stored == "p1" else key + 1000) if stored and keep else None)
        for key, (brand, kind, n, street, house, district, code, stored, keep)
        in enumerate(specs)]


@settings(max_examples=150, deadline=None)
@given(record_specs, st.integers(1, 8))
def test_bulk_pairs_are_exactly_the_sorted_neighbourhood_pairs(
        specs: list[tuple[str, str, int, str, int, str, str | None, str | None, bool]],
        window: int) -> None:
    records = _records(specs)
    assert candidate_pairs(records, window=window) == reference_pairs(records, window=window)


@settings(max_examples=150, deadline=None)
@given(record_specs)
def test_bulk_clustering_equals_the_pair_by_pair_reference(
        specs: list[tuple[str, str, int, str, int, str, str | None, str | None, bool]]) -> None:
    records = _records(specs)
    assert cluster(records) == reference_cluster(records)


def test_on_the_simulated_messy_list_the_bulk_clustering_equals_the_reference() -> None:
    city = generate_city(seed=11, institutions=1500, as_of=date(2026, 8, 31))
    out = io.BytesIO()
    manifest = write_bureau_list(city, out, seed=11, as_of=date(2026, 8, 31))
    rows = read_list(out.getvalue(), filename="list.xlsx")[0].rows
    layout = find_layout(rows)
    assert layout is not None
    table = parse_table(rows, layout)
    records = [MatchRecord(i, r.district, name_key(r.name), address_key(r.address or ""),
                           r.fixmedins_code, r.uscc) for i, r in enumerate(table.rows)]
    fast, slow = cluster(records), reference_cluster(records)
    assert fast == slow
    assert sum(len(g) - 1 for g in fast.groups) == manifest.near_duplicates
    # imported again: every row next to its stored twin, the case the twins shortcut serves
    stored = [MatchRecord(len(records) + r.key, r.district, r.name, r.address, r.code, r.uscc,
                          prospect_id=r.key) for r in records]
    assert cluster(stored + records) == reference_cluster(stored + records)
