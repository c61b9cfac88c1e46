"""Which rows are one institution: code, USCC, then fuzzy name + address within a district."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.marketing.matching import (
    WINDOW,
    MatchReason,
    MatchRecord,
    address_key,
    all_pairs_count,
    candidate_pairs,
    cluster,
    name_key,
)


def rec(key: int, name: str, address: str = "", *, district: str = "210202",
        code: str | None = None, uscc: str | None = None,
        prospect: int | None = None) -> MatchRecord:
    return MatchRecord(key, district, name_key(name), address_key(address), code, uscc, prospect)


def test_name_keys_drop_what_varies_between_spellings() -> None:
    keys = {name_key(n) for n in (
        "大连康宁大药房有限公司人民路店", "大连市康宁大药房人民路店",
        "辽宁省大连市 康宁大药房（人民路分店）", "康宁大药房人民路店")}
    assert keys == {"康宁大药房人民路店"}
    assert address_key("辽宁省大连市中山区人民路６８号") == address_key("人民路68号")
    assert address_key("人民路68号") == "人民路68号"


def test_variants_of_one_institution_are_merged_with_reason_and_score() -> None:
    result = cluster([
        rec(0, "大连康宁大药房有限公司人民路店", "辽宁省大连市中山区人民路68号",
            code="P21020200001"),
        rec(1, "大连市康宁大药房人民路店", "中山区人民路68号"),
        rec(2, "大连康宁大药房有限公司五五路店", "大连市中山区五五路3号", code="P21020200002"),
    ])
    assert result.groups == ((0, 1), (2,))
    link = result.links[1]
    assert (link.other, link.reason, link.score) == (0, MatchReason.NAME_ADDRESS, 100)


def test_exact_codes_and_usccs_come_before_names() -> None:
    code, uscc = "H21020200001", "91210202MA0000000X"
    result = cluster([rec(0, "甲诊所", code=code), rec(1, "完全不同的名字", code=code),
                      rec(2, "乙药房", uscc=uscc), rec(3, "丙", uscc=uscc)])
    assert result.groups == ((0, 1), (2, 3))
    assert result.links[1].reason is MatchReason.CODE
    assert result.links[3].reason is MatchReason.USCC


def test_different_codes_usccs_or_stored_prospects_are_never_merged_however_alike() -> None:
    same = ("大连康宁大药房人民路店", "中山区人民路68号")
    result = cluster([rec(0, *same, code="P21020200001"), rec(1, *same, code="P21020200002"),
                      rec(2, *same, uscc="91210202MA0000000X", district="210203"),
                      rec(3, *same, uscc="91210202MA0000001Y", district="210203"),
                      rec(4, *same, prospect=1, district="210204"),
                      rec(5, *same, prospect=2, district="210204")])
    assert all(len(g) == 1 for g in result.groups)


def test_a_row_that_matches_two_different_institutions_joins_only_the_closer() -> None:
    result = cluster([rec(0, "康宁大药房人民路店", "人民路68号", code="P21020200001"),
                      rec(1, "康宁大药房人民路店", "人民路68号", code="P21020200002"),
                      rec(2, "康宁大药房人民路店", "人民路68号")])
    assert sorted(len(g) for g in result.groups) == [1, 2]


def test_neighbours_with_numbered_names_or_other_house_numbers_stay_apart() -> None:
    result = cluster([rec(0, "康宁大药房华北路店（2）", "华北路12号"),
                      rec(1, "康宁大药房华北路店（3）", "华北路12号"),
                      rec(2, "康宁诊所", "华北路12号"), rec(3, "康宁诊所", "华北路13号"),
                      rec(4, "康宁中医诊所", "华北路20号")])
    assert all(len(g) == 1 for g in result.groups)


def test_alike_names_in_different_districts_are_not_compared() -> None:
    result = cluster([rec(0, "康宁诊所", "人民路1号", district="210202"),
                      rec(1, "康宁诊所", "人民路1号", district="210211")])
    assert result.compared == 0 and len(result.groups) == 2


@given(st.integers(min_value=1, max_value=400), st.integers(min_value=1, max_value=10))
def test_comparisons_grow_linearly_not_with_all_pairs(n: int, districts: int) -> None:
    records = [MatchRecord(i, str(i % districts), f"name{i * 7919 % 1000:03d}", f"a{i}")
               for i in range(n)]
    pairs = candidate_pairs(records)
    assert len(pairs) <= 3 * WINDOW * n
    assert len(pairs) <= all_pairs_count(records)
    assert all(records[a].district == records[b].district for a, b in pairs)


@given(st.lists(st.tuples(st.sampled_from(["康宁", "仁德", "惠民"]), st.integers(1, 3),
                          st.booleans()), max_size=12))
def test_clustering_is_a_partition_and_deterministic(
        items: list[tuple[str, int, bool]]) -> None:
    records = [rec(i, f"大连{brand}大药房{'有限公司' if suffix else ''}", f"人民路{n}号")
               for i, (brand, n, suffix) in enumerate(items)]
    first, again = cluster(records), cluster(list(reversed(records)))
    assert sorted(k for g in first.groups for k in g) == list(range(len(records)))
    assert first.groups == again.groups
    for group in first.groups:
        for key in group[1:]:
            assert first.links[key].other in group
