"""The matching thresholds of docs/marketing.md ("Matching and de-duplication") on both sides
and exactly on them: name >= 88 and address >= 80, or name >= 95 when one side has no
address; different numbers in the names cap the name at 60, different house numbers cap the
address at 50; the stored score is 0.6 x name + 0.4 x address. The keys are written directly
(``MatchRecord`` takes keys) so each Indel ratio is known: for strings of lengths a and b at
Indel distance d it is 100 x (1 - d / (a + b))."""

from __future__ import annotations

import pytest

from yibaodai.domain.marketing.matching import (
    MatchReason,
    MatchRecord,
    address_key,
    all_pairs_count,
    candidate_pairs,
    cluster,
    name_key,
    similarity,
)

N13, N12_88 = "abcdefghijklm", "abcdefghijkx"       # 88.0 exactly (distance 3 over 25)
N12, N11_87 = "abcdefghijkl", "abcdefghijx"         # 86.96: just below
N20, N20_95 = "abcdefghijklmnopqrst", "abcdefghijklmnopqrsx"  # 95.0 exactly
N19, N19_94 = "abcdefghijklmnopqrs", "abcdefghijklmnopqrx"    # 94.74: just below
A5, A5_80 = "rdabc", "rdabx"                        # 80.0 exactly
A4, A4_75 = "rdab", "rdax"                          # 75.0


def r(key: int, name: str, address: str = "", **kw: object) -> MatchRecord:
    return MatchRecord(key, "210202", name, address, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("a", "b", "same", "name", "address", "score"), [
    ((N13, A5), (N12_88, A5_80), True, 88, 80, 85),      # both exactly on the threshold
    ((N12, A5), (N11_87, A5_80), False, 87, 80, 84),     # name just below
    ((N13, A4), (N12_88, A4_75), False, 88, 75, 83),     # address just below
    ((N13, A5), (N12_88, A5), True, 88, 100, 93),
    ((N20, ""), (N20_95, "rdabc"), True, 95, None, 95),  # no address on one side: 95 alone
    ((N19, ""), (N19_94, ""), False, 95, None, 95),      # 94.74 rounds to 95 but is below
    ((N13, ""), (N12_88, ""), False, 88, None, 88),
])
def test_name_and_address_thresholds(a: tuple[str, str], b: tuple[str, str], same: bool,
                                     name: int, address: int | None, score: int) -> None:
    sim = similarity(r(0, *a), r(1, *b))
    assert (sim.same, sim.name, sim.address, sim.score) == (same, name, address, score)
    assert similarity(r(1, *b), r(0, *a)) == sim


def test_the_score_weighs_name_six_tenths_and_address_four() -> None:
    sim = similarity(r(0, N13, "rdabcdefgh"), r(1, N13, "rdabcdefgx"))  # 100 and 90
    assert (sim.name, sim.address, sim.score) == (100, 90, 96)
    sim = similarity(r(0, N13, A5), r(1, N12_88, "rdxyz"))  # 88 and 40
    assert (sim.name, sim.address, sim.score, sim.same) == (88, 40, 69, False)


def test_numbers_in_names_cap_the_name_at_60_and_house_numbers_the_address_at_50() -> None:
    sim = similarity(r(0, "kangning2", "renmin12号"), r(1, "kangning3", "renmin12号"))
    assert (sim.name, sim.address, sim.score, sim.same) == (60, 100, 76, False)
    sim = similarity(r(0, "kangning", "renmin12号"), r(1, "kangning", "renmin13号"))
    assert (sim.name, sim.address, sim.score, sim.same) == (100, 50, 80, False)
    sim = similarity(r(0, "kangning2", ""), r(1, "kangning3", ""))
    assert (sim.name, sim.address, sim.same) == (60, None, False)
    # the same numbers, or a house number on one side only, cap nothing
    sim = similarity(r(0, "kangning2", "renmin12号"), r(1, "kangning2", "renmin12号"))
    assert (sim.name, sim.address, sim.same) == (100, 100, True)
    sim = similarity(r(0, "kangning", "renmin12号"), r(1, "kangning", "renmin"))
    assert sim.address == 80 and sim.name == 100  # 9 and 6 characters, distance 3


def test_distinct_institutions_by_code_uscc_or_stored_prospect() -> None:
    base = r(0, "a")
    assert r(1, "a", code="P1").distinct_from(r(2, "a", code="P2"))
    assert not r(1, "a", code="P1").distinct_from(r(2, "a", code="P1"))
    assert not r(1, "a", code="P1").distinct_from(base)
    assert not base.distinct_from(r(1, "a", code="P1"))
    assert r(1, "a", uscc="U1").distinct_from(r(2, "a", uscc="U2"))
    assert not r(1, "a", uscc="U1").distinct_from(r(2, "a", uscc="U1"))
    assert not r(1, "a", uscc="U1").distinct_from(base)
    assert r(1, "a", prospect_id=0).distinct_from(r(2, "a", prospect_id=5))
    assert not r(1, "a", prospect_id=0).distinct_from(base)
    assert not base.distinct_from(r(1, "a", prospect_id=0))
    assert not base.distinct_from(r(1, "a"))


def test_links_carry_reason_score_and_the_partner() -> None:
    result = cluster([r(0, N13, A5), r(1, N12_88, A5_80), r(2, "zzz", code="P9"),
                      r(3, "yyy", code="P9"), r(4, "xxx", uscc="U9"), r(5, "www", uscc="U9")])
    assert result.groups == ((0, 1), (2, 3), (4, 5))
    fuzzy = result.links[1]
    assert (fuzzy.other, fuzzy.reason, fuzzy.score, fuzzy.name_score, fuzzy.address_score) == (
        0, MatchReason.NAME_ADDRESS, 85, 88, 80)
    assert result.links[0].other == 1 and result.links[0].score == 85
    assert (result.links[2].other, result.links[2].reason, result.links[2].score) == (
        3, MatchReason.CODE, 100)
    assert (result.links[3].other, result.links[3].reason) == (2, MatchReason.CODE)
    assert (result.links[5].other, result.links[5].reason, result.links[5].score) == (
        4, MatchReason.USCC, 100)
    assert result.links[4].other == 5
    assert result.links[2].name_score is None and result.links[2].address_score is None


def test_a_record_keeps_its_strongest_link() -> None:
    # 1 shares a code with 0 and a USCC with 2: the code is the stronger reason
    result = cluster([r(0, "aaa", code="P1"), r(1, "bbb", code="P1", uscc="U1"),
                      r(2, "ccc", uscc="U1")])
    assert result.groups == ((0, 1, 2),)
    assert result.links[1].reason is MatchReason.CODE and result.links[1].other == 0
    assert result.links[2].reason is MatchReason.USCC and result.links[2].other == 1
    # equal evidence: the closer score, then the lower key
    result = cluster([r(0, N13, A5), r(1, N13, A5), r(2, N12_88, A5_80)])
    assert result.groups == ((0, 1, 2),)
    assert result.links[1].other == 0 and result.links[1].score == 100
    assert result.links[0].other == 1
    assert result.links[2].score == 85


def test_a_uscc_never_joins_two_codes_and_a_code_never_two_prospects() -> None:
    result = cluster([r(0, "aaa", code="P1", uscc="U1"), r(1, "bbb", code="P2", uscc="U1")])
    assert result.groups == ((0,), (1,)) and result.links == {}
    result = cluster([r(0, "aaa", code="P1", prospect_id=1),
                      r(1, "bbb", code="P1", prospect_id=2)])
    assert result.groups == ((0,), (1,))
    result = cluster([r(0, "aaa", code="P1", prospect_id=1), r(1, "bbb", code="P1")])
    assert result.groups == ((0, 1),)
    # a group joined by code keeps its code: a fuzzy twin with another code stays out
    result = cluster([r(0, N13, A5, code="P1"), r(1, "qqq", code="P1"),
                      r(2, N13, A5, uscc="U7"), r(3, N13, A5, code="P2")])
    assert (0, 1, 2) in result.groups and (3,) in result.groups


def test_a_list_imported_twice_is_compared_once_per_distinct_record() -> None:
    rows = [r(i, f"name{i}", f"addr{i}", code=f"P{i}") for i in range(5)]
    again = [r(10 + i, f"name{i}", f"addr{i}", code=f"P{i}") for i in range(5)]
    once, twice = cluster(rows), cluster([*rows, *again])
    assert twice.groups == tuple((i, 10 + i) for i in range(5))
    assert twice.compared == once.compared


def test_neighbourhoods_compare_each_record_with_the_next_six_in_each_order() -> None:
    records = [r(i, f"n{i:02d}", f"a{i:02d}") for i in range(10)]
    pairs = candidate_pairs(records)
    assert (0, 6) in pairs and (0, 7) not in pairs  # the name order
    assert (3, 9) in pairs and (2, 9) not in pairs
    # the three orders agree here (reversed keys 00n, 10n, ... sort alike)
    assert candidate_pairs(records, window=1) == {(i, i + 1) for i in range(9)}
    assert all(b - a <= 6 for a, b in pairs)
    assert candidate_pairs([records[0]]) == set()


def test_all_pairs_are_counted_per_district() -> None:
    records = [MatchRecord(i, str(i % 3), "n", "a") for i in range(10)]  # 4, 3 and 3
    assert all_pairs_count(records) == 6 + 3 + 3
    assert all_pairs_count([]) == 0


def test_keys_strip_prefixes_repeatedly_and_every_district_from_addresses() -> None:
    assert name_key("中国辽宁省大连市康宁诊所") == "康宁诊所"
    assert name_key("大连大连康宁诊所") == "康宁诊所"
    assert name_key("康宁ABC诊所") == "康宁abc诊所"
    assert name_key("康宁诊所股份有限公司") == name_key("康宁诊所有限责任公司") == "康宁诊所"
    assert address_key("辽宁省大连市沙河口区西岗区人民路1号") == "人民路1号"
    assert address_key("大连市旅顺口区 黄河路 1-2 号") == "黄河路12号"
    assert address_key("ABC路") == "abc路"


def test_a_row_alike_to_two_coded_institutions_joins_the_closer_whatever_the_order() -> None:
    for near, far in ((0, 1), (1, 0)):
        records = [r(near, N13, A5, code="P1"), r(far, N12_88, A5_80, code="P2"),
                   r(2, N13, A5)]
        result = cluster(sorted(records, key=lambda x: x.key))
        assert (near, 2) in result.groups or (2, near) in result.groups
        assert (far,) in result.groups
        assert result.links[2].other == near and result.links[2].score == 100
