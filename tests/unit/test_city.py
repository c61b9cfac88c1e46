"""The synthetic city: institutions and their daily settlement totals."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibaodai.domain.codes import (
    DALIAN_DISTRICTS,
    institution_code_area,
    is_valid_institution_code,
    is_valid_uscc,
)
from yibaodai.domain.organisation import haversine_km
from yibaodai.sim.city import (
    SPRING_FESTIVALS,
    DailySettlement,
    SyntheticInstitution,
    daily_settlements,
    generate_city,
)

SEED = 20250630
AS_OF = date(2025, 6, 30)
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def city() -> list[SyntheticInstitution]:
    return generate_city(seed=SEED, institutions=300, as_of=AS_OF)


def fund(rows: list[DailySettlement], start: date, end: date) -> Decimal:
    return sum((r.fund_pay_sumamt for r in rows if start <= r.setl_date <= end), start=Decimal("0"))


def months(rows: list[DailySettlement]) -> set[tuple[int, int]]:
    return {(r.setl_date.year, r.setl_date.month) for r in rows}


# --- institutions -------------------------------------------------------------------------


def test_same_seed_gives_the_same_city_and_another_seed_a_different_one() -> None:
    a = generate_city(seed=1, institutions=50, as_of=AS_OF)
    b = generate_city(seed=1, institutions=50, as_of=AS_OF)
    c = generate_city(seed=2, institutions=50, as_of=AS_OF)
    assert a == b
    assert a != c


def test_city_mix_is_sixty_thirty_ten(city: list[SyntheticInstitution]) -> None:
    segments = Counter(i.segment for i in city)
    assert segments == {"pharmacy": 180, "clinic": 90, "hospital": 30}
    assert {i.fixmedins_type for i in city if i.segment == "pharmacy"} == {"2"}
    assert {i.fixmedins_type for i in city if i.segment != "pharmacy"} == {"1"}
    assert {i.hosp_lv for i in city if i.segment == "pharmacy"} == {""}


def test_every_archetype_and_district_appears(city: list[SyntheticInstitution]) -> None:
    assert {i.archetype for i in city} == {
        "growing",
        "stable",
        "seasonal",
        "deteriorating",
        "stopped",
        "new",
    }
    areas = Counter(i.area_code for i in city)
    assert set(areas) == set(DALIAN_DISTRICTS)
    urban = sum(areas[a] for a in ("210202", "210203", "210204", "210211"))
    assert urban > len(city) / 2


def test_codes_and_usccs_are_unique_and_valid(city: list[SyntheticInstitution]) -> None:
    assert len({i.fixmedins_code for i in city}) == len(city)
    assert len({i.uscc for i in city}) == len(city)
    assert len({i.fixmedins_name for i in city}) == len(city)
    for inst in city:
        assert is_valid_institution_code(inst.fixmedins_code)
        assert institution_code_area(inst.fixmedins_code) == inst.area_code
        assert is_valid_uscc(inst.uscc)
        assert inst.uscc[2:8] == inst.area_code
        assert len(inst.bankacct) == 19 and inst.bankacct.isascii() and inst.bankacct.isdigit()
        assert DALIAN_DISTRICTS[inst.area_code][0] in inst.addr


def test_institutions_lie_near_their_district(city: list[SyntheticInstitution]) -> None:
    for inst in city:
        others = [j for j in city if j.area_code == inst.area_code]
        lat = sum(j.latitude for j in others) / len(others)
        lon = sum(j.longitude for j in others) / len(others)
        assert haversine_km(inst.latitude, inst.longitude, lat, lon) < 20.0, inst.fixmedins_code


def test_designation_dates_fit_the_archetype(city: list[SyntheticInstitution]) -> None:
    for inst in city:
        assert inst.begntime < inst.endtime
        assert inst.endtime > AS_OF
        if inst.archetype == "new":
            assert AS_OF - timedelta(days=365) < inst.begntime <= AS_OF
        else:
            assert inst.begntime <= AS_OF - timedelta(days=730)
        assert (inst.deterioration_start is not None) == (inst.archetype == "deteriorating")
        assert (inst.stopped_on is not None) == (inst.archetype == "stopped")
    deteriorating = [i.deterioration_start for i in city if i.deterioration_start is not None]
    assert any(d < AS_OF for d in deteriorating) and any(d > AS_OF for d in deteriorating)


def test_only_institutions_that_stopped_are_suspended(city: list[SyntheticInstitution]) -> None:
    for inst in city:
        stopped = inst.stopped_on is not None and inst.stopped_on <= AS_OF
        assert (inst.biz_stas == "2") == stopped
    assert Counter(i.cred_lv_name for i in city).most_common(1)[0][0] in {"A", "B"}


# --- daily settlements --------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**31),
    index=st.integers(min_value=0, max_value=11),
    start=st.dates(min_value=date(2022, 1, 1), max_value=date(2026, 12, 31)),
    days=st.integers(min_value=0, max_value=120),
)
def test_every_row_keeps_the_8301_invariants(seed: int, index: int, start: date, days: int) -> None:
    inst = generate_city(seed=seed, institutions=12, as_of=AS_OF)[index]
    rows = daily_settlements(inst, seed=seed, start=start, end=start + timedelta(days=days))
    for r in rows:
        assert r.fixmedins_code == inst.fixmedins_code
        assert start <= r.setl_date <= start + timedelta(days=days)
        assert r.medfee_sumamt == r.fund_pay_sumamt + r.acct_pay + r.psn_cash_pay
        assert Decimal(0) <= r.hifp_pay <= r.fund_pay_sumamt
        for amount in (r.medfee_sumamt, r.fund_pay_sumamt, r.hifp_pay, r.acct_pay):
            assert amount >= 0 and amount == amount.quantize(CENT)
            assert amount.as_tuple().exponent == -2
        assert r.psn_cash_pay >= 0 and r.psn_cash_pay.as_tuple().exponent == -2
        assert 0 <= r.refd_setl_cnt <= r.setl_cnt and r.setl_cnt > 0
        assert r.insutype in {"310", "390"}
        if inst.segment == "pharmacy":
            assert r.clr_type == "41"
        elif inst.segment == "clinic":
            assert r.clr_type == "11"
        else:
            assert r.clr_type in {"11", "21"}
        if r.insutype == "390":
            assert r.acct_pay == 0  # residents have no personal account
    assert len({(r.setl_date, r.insutype, r.clr_type) for r in rows}) == len(rows)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**31),
    index=st.integers(min_value=0, max_value=11),
    offset=st.integers(min_value=0, max_value=60),
    length=st.integers(min_value=0, max_value=30),
)
def test_a_day_gives_the_same_numbers_whatever_window_is_asked(
    seed: int, index: int, offset: int, length: int
) -> None:
    inst = generate_city(seed=seed, institutions=12, as_of=AS_OF)[index]
    wide_start, wide_end = date(2025, 1, 1), date(2025, 4, 30)
    wide = daily_settlements(inst, seed=seed, start=wide_start, end=wide_end)
    start = wide_start + timedelta(days=offset)
    end = start + timedelta(days=length)
    narrow = daily_settlements(inst, seed=seed, start=start, end=end)
    assert narrow == [r for r in wide if start <= r.setl_date <= end]


def test_another_seed_gives_other_numbers(city: list[SyntheticInstitution]) -> None:
    inst = next(i for i in city if i.archetype == "stable")
    a = daily_settlements(inst, seed=1, start=date(2025, 3, 1), end=date(2025, 3, 31))
    b = daily_settlements(inst, seed=2, start=date(2025, 3, 1), end=date(2025, 3, 31))
    assert a != b


def test_established_institutions_have_at_least_24_months_of_rows(
    city: list[SyntheticInstitution],
) -> None:
    start = date(2023, 7, 1)
    for inst in city:
        if inst.archetype in ("new", "stopped"):
            continue
        rows = daily_settlements(inst, seed=SEED, start=start, end=AS_OF)
        assert len(months(rows)) == 24, inst.fixmedins_code


def test_new_institutions_have_no_rows_before_designation(
    city: list[SyntheticInstitution],
) -> None:
    for inst in (i for i in city if i.archetype == "new"):
        rows = daily_settlements(inst, seed=SEED, start=date(2023, 1, 1), end=AS_OF)
        assert rows, inst.fixmedins_code
        assert min(r.setl_date for r in rows) >= inst.begntime


def test_stopped_institutions_have_no_rows_from_their_stop_date(
    city: list[SyntheticInstitution],
) -> None:
    for inst in (i for i in city if i.archetype == "stopped"):
        assert inst.stopped_on is not None
        rows = daily_settlements(inst, seed=SEED, start=date(2023, 1, 1), end=date(2026, 12, 31))
        assert max(r.setl_date for r in rows) < inst.stopped_on
        assert max(r.setl_date for r in rows) >= inst.stopped_on - timedelta(days=14)


def test_deteriorating_institutions_lose_most_of_their_fund_income(
    city: list[SyntheticInstitution],
) -> None:
    checked = 0
    for inst in city:
        d = inst.deterioration_start
        if d is None or inst.endtime <= d + timedelta(days=240):
            continue  # no designation left to watch the fall in
        rows = daily_settlements(
            inst, seed=SEED, start=d - timedelta(days=120), end=d + timedelta(days=240)
        )
        before = fund(rows, d - timedelta(days=120), d - timedelta(days=31))
        after = fund(rows, d + timedelta(days=150), d + timedelta(days=239))
        assert after < before * Decimal("0.6"), inst.fixmedins_code
        checked += 1
    assert checked >= 10


def test_stable_institutions_do_not_collapse(city: list[SyntheticInstitution]) -> None:
    for inst in (i for i in city if i.archetype == "stable"):
        rows = daily_settlements(inst, seed=SEED, start=date(2024, 7, 1), end=AS_OF)
        h1 = fund(rows, date(2024, 7, 1), date(2024, 9, 30))
        h2 = fund(rows, date(2025, 4, 1), date(2025, 6, 30))
        assert h2 > h1 * Decimal("0.7"), inst.fixmedins_code


def test_spring_festival_week_is_quieter_than_the_weeks_around_it(
    city: list[SyntheticInstitution],
) -> None:
    for year in (2024, 2025):
        festival = SPRING_FESTIVALS[year]
        established = [i for i in city if i.archetype in ("stable", "growing")][:40]
        rows = [
            r
            for inst in established
            for r in daily_settlements(
                inst,
                seed=SEED,
                start=festival - timedelta(days=35),
                end=festival + timedelta(days=35),
            )
        ]
        week = fund(rows, festival, festival + timedelta(days=6))
        earlier = fund(rows, festival - timedelta(days=28), festival - timedelta(days=22))
        later = fund(rows, festival + timedelta(days=22), festival + timedelta(days=28))
        assert week < earlier * Decimal("0.75")
        assert week < later * Decimal("0.75")


def test_sundays_are_quieter_than_weekdays(city: list[SyntheticInstitution]) -> None:
    rows = [
        r
        for inst in city[:60]
        for r in daily_settlements(inst, seed=SEED, start=date(2024, 9, 1), end=date(2024, 11, 30))
    ]
    by_weekday: dict[int, Decimal] = {}
    for r in rows:
        wd = r.setl_date.weekday()
        by_weekday[wd] = by_weekday.get(wd, Decimal(0)) + r.fund_pay_sumamt
    weekday_mean = sum((by_weekday[d] for d in range(5)), start=Decimal(0)) / 5
    assert by_weekday[6] < weekday_mean * Decimal("0.85")


def test_flu_season_lifts_winter_above_autumn(city: list[SyntheticInstitution]) -> None:
    clinics = [i for i in city if i.segment == "clinic" and i.archetype == "stable"][:20]
    rows = [
        r
        for inst in clinics
        for r in daily_settlements(inst, seed=SEED, start=date(2024, 9, 1), end=date(2025, 3, 31))
    ]
    # December + early January (no festival) against September + October
    winter = fund(rows, date(2024, 12, 1), date(2025, 1, 15)) / 46
    autumn = fund(rows, date(2024, 9, 1), date(2024, 10, 16)) / 46
    assert winter > autumn
