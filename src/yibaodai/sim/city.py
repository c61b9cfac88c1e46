"""The synthetic city: designated institutions of Dalian and their daily settlement totals.

Everything is pure and deterministic by seed, so the bureau simulator, the demo and the tests
see the same city. Daily numbers depend only on (seed, institution, date) — each day draws from
its own RNG seeded by a hash of the three — so pushing any window at any time gives the same
figures. No patient-level data exists here: only institution-level daily totals, the shape of
the bureau's 8301 push.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final, Literal, TypeVar

from yibaodai.domain.codes import (
    DALIAN_DISTRICTS,
    USCC_ALPHABET,
    make_institution_code,
    make_uscc,
)

T = TypeVar("T")

Segment = Literal["pharmacy", "clinic", "hospital"]
Archetype = Literal["growing", "stable", "seasonal", "deteriorating", "stopped", "new"]

SPRING_FESTIVALS: Final[dict[int, date]] = {
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
"""Lunar New Year's Day by year. Outside 2020-2030 the simulation has no festival dip."""

DEFAULT_INSTITUTIONS: Final = 300

# ---------------------------------------------------------------------------------------------
# Public records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticInstitution:
    """One designated institution as the bureau holds it, plus the hidden behaviour the
    simulation uses (archetype, scale, trend parameters) — the bank never sees those."""

    fixmedins_code: str
    fixmedins_name: str
    uscc: str
    fixmedins_type: str  # "1" designated medical institution, "2" designated retail pharmacy
    segment: Segment
    hosp_lv: str  # "" for pharmacies; "一级" / "二级" / "未定级"
    ownership: Literal["private", "public"]
    area_code: str
    addr: str
    latitude: float
    longitude: float
    biz_stas: str  # "1" operating normally, "2" suspended
    cred_lv_name: str  # bureau credit grade A/B/C/D
    begntime: date  # designation start
    endtime: date  # designation end
    legrep_name: str  # fake
    bankacct: str  # fake, 19 digits
    contact_phone: str  # fake
    archetype: Archetype
    base_daily_fund: Decimal  # expected daily fund payment at ``level_date``, before patterns
    deterioration_start: date | None = None  # "deteriorating": income starts to fall here
    stopped_on: date | None = None  # "stopped": first day without any settlement
    level_date: date | None = None  # anchor of the growth trend (the city's as_of)
    growth_rate: float = 0.0  # continuous yearly growth of the level
    seasonal_amplitude: float = 0.0
    seasonal_peak_doy: int = 200
    employee_share: float = 0.6  # share of fund from 310 (employees); the rest is 390
    deterioration_depth: float = 0.6  # fraction of income lost once fully deteriorated


@dataclass(frozen=True)
class DailySettlement:
    """One day's settlement totals of one institution for one (insutype, clr_type): the fields
    of the bureau's 8301 push. Amounts in yuan with two decimals;
    ``medfee_sumamt == fund_pay_sumamt + acct_pay + psn_cash_pay`` exactly."""

    fixmedins_code: str
    setl_date: date
    insutype: str
    clr_type: str
    setl_cnt: int
    refd_setl_cnt: int
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    hifp_pay: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal


# ---------------------------------------------------------------------------------------------
# Geography and names
# ---------------------------------------------------------------------------------------------

# area code -> (latitude, longitude, jitter in degrees, weight of institutions)
_DISTRICT_GEO: Final[dict[str, tuple[float, float, float, int]]] = {
    "210202": (38.9180, 121.6440, 0.010, 12),
    "210203": (38.9150, 121.6120, 0.008, 10),
    "210204": (38.9000, 121.5900, 0.012, 14),
    "210211": (38.9550, 121.5600, 0.025, 22),
    "210212": (38.8120, 121.2620, 0.020, 6),
    "210213": (39.0900, 121.7400, 0.030, 15),
    "210214": (39.3920, 121.9630, 0.025, 6),
    "210224": (39.2720, 122.5880, 0.010, 2),
    "210281": (39.6270, 122.0080, 0.025, 7),
    "210283": (39.6810, 122.9670, 0.025, 6),
}

#: Further clusters of a district's institutions, chosen by sequence number so that no random
#: draw moves (with n clusters here, n of every n + 2 sequence numbers): Ganjingzi (甘井子区)
#: is large, and its hi-tech zone (高新园区) and Quanshui (泉水) lie far from its centre; without
#: them the sub-branches there would have almost nobody near.
_MORE_CENTRES: Final[dict[str, tuple[tuple[float, float], ...]]] = {
    "210211": ((38.8640, 121.5290), (39.0010, 121.6180))}

_STREETS: Final[dict[str, tuple[str, ...]]] = {
    "210202": ("人民路", "解放路", "港湾街", "鲁迅路", "五五路", "桃源街", "友好路", "延安路"),
    "210203": ("新开路", "八一路", "黄河路", "长江路", "北京街", "五四路", "大同街", "沿海街"),
    "210204": ("西安路", "五一路", "兴工街", "太原街", "联合路", "长兴街", "中山路", "黑石礁街"),
    "210211": ("华北路", "红旗西路", "中华西路", "山东路", "姚工街", "虹港路", "泉水路", "黄浦路"),
    "210212": ("黄河路", "井冈山路", "太阳沟路", "水师营街", "登峰街", "顺乐街"),
    "210213": ("斯大林路", "金马路", "辽河西路", "友谊街", "东北大街", "先进街"),
    "210214": ("中央路", "铁西路", "新华大街", "振兴路", "丰荣街", "南山路"),
    "210224": ("大长山岛镇环海路", "大长山岛镇鑫海路", "小长山岛镇中心路", "广鹿岛镇沙尖路"),
    "210281": ("共济街", "西长春路", "岭东路", "红旗大街", "南海街", "长兴街"),
    "210283": ("黄海大街", "新华路", "昌盛街", "建设大街", "北大街", "向阳路"),
}

_BRAND_TEXT: Final = (
    "康宁仁德益康福寿百姓惠民同济安康永安德仁春和济生万和普济正和"
    "华康泰和长春瑞丰宏达博爱健民天和康泰乐仁海川金海鑫源润生明德"
)
_BRANDS: Final = tuple(_BRAND_TEXT[i : i + 2] for i in range(0, len(_BRAND_TEXT), 2))
_SURNAMES: Final = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾于董"
_GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文海燕雪梅晓东"

_SEGMENT_QUOTA: Final[tuple[tuple[Segment, float], ...]] = (
    ("pharmacy", 0.6),
    ("clinic", 0.3),
    ("hospital", 0.1),
)
_ARCHETYPE_QUOTA: Final[tuple[tuple[Archetype, float], ...]] = (
    ("growing", 0.20),
    ("stable", 0.43),
    ("seasonal", 0.10),
    ("deteriorating", 0.12),
    ("stopped", 0.05),
    ("new", 0.10),
)


def _quota(items: Sequence[tuple[T, float]], n: int, rng: random.Random) -> list[T]:
    """Exactly ``n`` items in the given proportions (largest remainder), shuffled: a small city
    still gets every kind."""
    raw = [(item, share * n) for item, share in items]
    counts = [int(x) for _, x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i][1] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    out = [item for (item, _), c in zip(raw, counts, strict=True) for _ in range(c)]
    rng.shuffle(out)
    return out


def _person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(_SURNAMES) + given


def _institution_name(
    rng: random.Random, segment: Segment, ownership: str, area: str, street: str
) -> str:
    district_zh = DALIAN_DISTRICTS[area][0]
    brand = rng.choice(_BRANDS)
    if segment == "pharmacy":
        form = rng.choice(
            ("大连{b}大药房有限公司", "大连{b}药店有限公司", "大连{b}医药连锁有限公司")
        )
        name = form.format(b=brand) + f"{street}店"
    elif segment == "clinic":
        form = rng.choice(
            ("大连{d}{b}诊所", "大连{b}中医诊所", "大连{b}口腔门诊部", "大连{d}{b}社区卫生服务站")
        )
        name = form.format(b=brand, d=district_zh)
    elif ownership == "public":
        name = rng.choice(("大连市{d}人民医院", "大连市{d}中医医院", "大连市{d}第二人民医院"))
        name = name.format(d=district_zh)
    else:
        form = rng.choice(
            ("大连{b}医院", "大连{b}骨科医院", "大连{b}中西医结合医院", "大连{b}眼科医院")
        )
        name = form.format(b=brand)
    return name


# ---------------------------------------------------------------------------------------------
# City generation
# ---------------------------------------------------------------------------------------------


def _money(value: float) -> Decimal:
    return Decimal(round(value * 100)).scaleb(-2)


def generate_city(
    *, seed: int, institutions: int = DEFAULT_INSTITUTIONS, as_of: date
) -> list[SyntheticInstitution]:
    """Generate ``institutions`` designated institutions of Dalian as of ``as_of``.

    Mix: ~60% pharmacies, 30% clinics, 10% hospitals, located mostly in the urban districts
    (every district gets at least one when there are ten or more). Established institutions were
    designated 2-15 years before ``as_of`` (so at least 24 months of history exist); "new" ones
    less than 12 months before. Deterioration and stopping dates fall on either side of
    ``as_of`` so the demo has borrowers that fail both before and after the loan.
    """
    if institutions < 0:
        raise ValueError("institutions must be >= 0")
    rng = random.Random(f"yibaodai-city|{seed}")
    segments = _quota(_SEGMENT_QUOTA, institutions, rng)
    archetypes = _quota(_ARCHETYPE_QUOTA, institutions, rng)
    districts = list(_DISTRICT_GEO)
    weights = [_DISTRICT_GEO[d][3] for d in districts]
    areas = districts[: min(institutions, len(districts))]
    areas += rng.choices(districts, weights=weights, k=institutions - len(areas))
    rng.shuffle(areas)

    next_seq: dict[tuple[str, str], int] = {}
    used_names: set[str] = set()
    used_usccs: set[str] = set()
    out: list[SyntheticInstitution] = []
    for segment, archetype, area in zip(segments, archetypes, areas, strict=True):
        letter = "P" if segment == "pharmacy" else "H"
        seq = next_seq.get((letter, area), rng.randint(1, 300)) + rng.randint(1, 9)
        next_seq[(letter, area)] = seq
        code = make_institution_code(letter=letter, area_code=area, seq=seq)

        ownership: Literal["private", "public"] = (
            "public" if segment == "hospital" and rng.random() < 0.2 else "private"
        )
        if segment == "pharmacy":
            hosp_lv, registering, entity = "", "9", rng.choice("1112")
        elif segment == "clinic":
            hosp_lv = rng.choice(("未定级", "未定级", "未定级", "一级"))
            registering, entity = rng.choice((("9", "1"), ("9", "2"), ("5", "2")))
        elif ownership == "public":
            hosp_lv, registering, entity = "二级", "1", "2"
        else:
            hosp_lv = rng.choices(("一级", "二级", "未定级"), weights=(55, 35, 10))[0]
            registering, entity = rng.choice((("9", "1"), ("5", "2")))

        while True:
            body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
            uscc = make_uscc(area_code=area, org_body8=body, registering=registering, entity=entity)
            if uscc not in used_usccs:
                used_usccs.add(uscc)
                break

        street = rng.choice(_STREETS[area])
        name = _institution_name(rng, segment, ownership, area, street)
        suffix = 2
        base_name = name
        while name in used_names:
            name = f"{base_name}（{suffix}）"
            suffix += 1
        used_names.add(name)
        addr = f"辽宁省大连市{DALIAN_DISTRICTS[area][0]}{street}{rng.randint(1, 899)}号"
        lat0, lon0, jitter, _ = _DISTRICT_GEO[area]
        more = _MORE_CENTRES.get(area, ())
        if 1 <= (k := seq % (len(more) + 2)) <= len(more):
            lat0, lon0 = more[k - 1]
        latitude = round(lat0 + rng.gauss(0.0, jitter), 6)
        longitude = round(lon0 + rng.gauss(0.0, jitter * 1.3), 6)

        if archetype == "new":
            begntime = as_of - timedelta(days=rng.randint(20, 330))
        else:
            begntime = as_of - timedelta(days=rng.randint(2 * 365 + 10, 15 * 365))
        if rng.random() < 0.05:
            endtime = as_of + timedelta(days=rng.randint(1, 59))  # designation expiring soon
        else:
            endtime = as_of + timedelta(days=rng.randint(60, 4 * 365))

        deterioration_start = stopped_on = None
        if archetype == "deteriorating":
            deterioration_start = as_of + timedelta(days=rng.randint(-300, 300))
        if archetype == "stopped":
            stopped_on = as_of + timedelta(days=rng.randint(-300, 240))
            endtime = max(endtime, stopped_on + timedelta(days=30))  # it stops, not expires
        biz_stas = "2" if stopped_on is not None and stopped_on <= as_of else "1"

        risky = archetype in ("deteriorating", "stopped")
        grade_weights = (30, 40, 20, 10) if risky else (55, 33, 9, 3)
        cred_lv_name = rng.choices("ABCD", weights=grade_weights)[0]

        if segment == "pharmacy":
            scale = rng.lognormvariate(math.log(900.0), 0.55)
        elif segment == "clinic":
            scale = rng.lognormvariate(math.log(1300.0), 0.6)
        else:
            scale = rng.lognormvariate(math.log(30000.0 if hosp_lv == "二级" else 12000.0), 0.5)

        growth = {
            "growing": rng.uniform(0.15, 0.45),
            "stable": rng.uniform(-0.04, 0.06),
            "seasonal": rng.uniform(-0.02, 0.05),
            "deteriorating": rng.uniform(-0.02, 0.05),
            "stopped": rng.uniform(-0.10, 0.02),
            "new": 0.0,
        }[archetype]
        if archetype == "seasonal":
            amplitude = rng.uniform(0.25, 0.45)
            # summer peak (tourism, Lüshun/Jinshitan) or winter peak (respiratory, elderly)
            peak = rng.choice((200, 15)) + rng.randint(-20, 20)
        else:
            amplitude, peak = 0.0, 200
        urban = area in ("210202", "210203", "210204", "210211")
        employee_share = min(0.9, max(0.2, rng.gauss(0.68 if urban else 0.42, 0.08)))

        out.append(
            SyntheticInstitution(
                fixmedins_code=code,
                fixmedins_name=name,
                uscc=uscc,
                fixmedins_type="2" if segment == "pharmacy" else "1",
                segment=segment,
                hosp_lv=hosp_lv,
                ownership=ownership,
                area_code=area,
                addr=addr,
                latitude=latitude,
                longitude=longitude,
                biz_stas=biz_stas,
                cred_lv_name=cred_lv_name,
                begntime=begntime,
                endtime=endtime,
                legrep_name=_person_name(rng),
                bankacct="6" + "".join(rng.choice("0123456789") for _ in range(18)),
                contact_phone=f"0411-8{rng.randint(0, 9_999_999):07d}",
                archetype=archetype,
                base_daily_fund=_money(scale),
                deterioration_start=deterioration_start,
                stopped_on=stopped_on,
                level_date=as_of,
                growth_rate=round(growth, 4),
                seasonal_amplitude=round(amplitude, 4),
                seasonal_peak_doy=peak % 365 or 365,
                employee_share=round(employee_share, 4),
                deterioration_depth=round(rng.uniform(0.5, 0.7), 4),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Daily settlements
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One (insutype, clr_type) line of business: its share of fund payment, the average fee
    per settlement and how that fee splits between fund, personal account and cash."""

    insutype: str
    clr_type: str
    weight: float
    ticket: float
    fund_share: float
    acct_share: float
    hifp_share: float


def _lines(inst: SyntheticInstitution) -> tuple[_Line, ...]:
    emp = inst.employee_share
    res = 1.0 - emp
    if inst.segment == "pharmacy":
        return (
            _Line("310", "41", emp, 85.0, 0.25, 0.55, 0.97),
            _Line("390", "41", res, 60.0, 0.35, 0.0, 0.97),
        )
    if inst.segment == "clinic":
        return (
            _Line("310", "11", emp, 130.0, 0.50, 0.20, 0.95),
            _Line("390", "11", res, 110.0, 0.50, 0.0, 0.95),
        )
    inpatient_ticket = 9000.0 if inst.hosp_lv == "二级" else 6000.0
    return (
        _Line("310", "11", emp * 0.3, 260.0, 0.50, 0.15, 0.92),
        _Line("390", "11", res * 0.3, 220.0, 0.50, 0.0, 0.92),
        _Line("310", "21", emp * 0.7, inpatient_ticket, 0.72, 0.03, 0.88),
        _Line("390", "21", res * 0.7, inpatient_ticket * 0.85, 0.60, 0.0, 0.90),
    )


# Monday..Sunday
_WEEKDAY: Final[dict[str, tuple[float, ...]]] = {
    "pharmacy": (1.0, 1.0, 1.0, 1.0, 1.02, 0.95, 0.72),
    "outpatient": (1.08, 1.0, 1.0, 1.0, 1.0, 0.78, 0.48),
    "inpatient": (1.0, 1.02, 1.02, 1.02, 1.1, 0.7, 0.45),
}

_FLU_PEAK_DOY: Final = 15
_FLU_HALF_WIDTH: Final = 75
_FLU_AMPLITUDE: Final[dict[str, float]] = {"41": 0.12, "11": 0.20, "21": 0.08}


def spring_festival_factor(day: date) -> float:
    """Activity multiplier around Lunar New Year: stocking up the week before, a deep dip from
    New Year's Eve to the end of the holiday week, a slow recovery after."""
    festival = SPRING_FESTIVALS.get(day.year)
    if festival is None:
        return 1.0
    offset = (day - festival).days
    if -9 <= offset <= -3:
        return 1.05
    if -2 <= offset <= -1:
        return 0.7
    if 0 <= offset <= 6:
        return 0.35 + 0.05 * offset
    if 7 <= offset <= 14:
        return 0.85
    return 1.0


def _flu_factor(doy: int, clr_type: str) -> float:
    """Winter respiratory season: a smooth bump centred mid-January, +-75 days."""
    dist = abs(doy - _FLU_PEAK_DOY)
    dist = min(dist, 365 - dist)
    if dist >= _FLU_HALF_WIDTH:
        return 1.0
    return 1.0 + _FLU_AMPLITUDE[clr_type] * 0.5 * (1.0 + math.cos(math.pi * dist / _FLU_HALF_WIDTH))


def _trend_factor(inst: SyntheticInstitution, ordinal: int, doy: int) -> float:
    """Level of the business on the day ``ordinal`` (day of year ``doy``) relative to
    ``base_daily_fund``: the archetype's behaviour. Works on ordinals because it runs once per
    institution-day."""
    factor = 1.0
    if inst.level_date is not None and inst.growth_rate:
        years = (ordinal - inst.level_date.toordinal()) / 365.25
        factor = min(3.0, max(0.2, math.exp(inst.growth_rate * years)))
    if inst.seasonal_amplitude:
        factor *= 1.0 + inst.seasonal_amplitude * math.cos(
            2.0 * math.pi * (doy - inst.seasonal_peak_doy) / 365.25
        )
    if inst.archetype == "new":
        factor *= min(1.0, 0.3 + 0.7 * (ordinal - inst.begntime.toordinal()) / 120.0)
    if inst.deterioration_start is not None:
        days_in = ordinal - inst.deterioration_start.toordinal()
        if days_in >= 0:
            factor *= 1.0 - inst.deterioration_depth * min(1.0, days_in / 90.0)
    if inst.stopped_on is not None:
        days_left = inst.stopped_on.toordinal() - ordinal
        if days_left < 90:
            factor *= 0.7 + 0.3 * days_left / 90.0
    return factor


_UNPACK16: Final = struct.Struct("<16I").unpack
_TWO_PI: Final = 2.0 * math.pi
_U32: Final = 1.0 / 4294967296.0
_CENT: Final = Decimal("0.01")


def _day_words(seed: int, code: str, day: date, lines: int) -> tuple[int, ...]:
    """Random 32-bit words for one (seed, institution, day): eight per line of business.

    Hash-derived rather than a seeded ``random.Random`` per day: the same determinism at a
    fraction of the cost (hundreds of thousands of institution-days per city).
    """
    key = f"{seed}|{code}|{day.isoformat()}".encode()
    words = _UNPACK16(hashlib.blake2b(key, digest_size=64).digest())
    if lines > 2:
        words += _UNPACK16(hashlib.blake2b(key, digest_size=64, person=b"lines3+").digest())
    return words


def _count(lam: float, u: float, z: float) -> int:
    """Poisson-like count: exact inverse CDF for small means (uniform ``u``), normal
    approximation (standard normal ``z``) above."""
    if lam <= 0.0:
        return 0
    if lam < 12.0:
        p = math.exp(-lam)
        cdf, k = p, 0
        while u > cdf and k < 200:
            k += 1
            p *= lam / k
            cdf += p
        return k
    return max(0, round(lam + math.sqrt(lam) * z))


@functools.lru_cache(maxsize=8192)
def _calendar(day: date) -> tuple[int, int, int, float, dict[str, float]]:
    """Per-date values shared by every institution: ordinal, day of year, weekday, festival
    factor, flu factor by clr_type."""
    doy = day.timetuple().tm_yday
    flu = {clr: _flu_factor(doy, clr) for clr in _FLU_AMPLITUDE}
    return day.toordinal(), doy, day.weekday(), spring_festival_factor(day), flu


def daily_settlements(
    inst: SyntheticInstitution, *, seed: int, start: date, end: date
) -> list[DailySettlement]:
    """Daily settlement totals of ``inst`` for ``start``..``end`` inclusive, sorted by date and
    line. Days without activity (before designation, after ``stopped_on`` or ``endtime``, or
    simply no customers) have no rows. Each day's numbers depend only on (seed, code, day)."""
    first = max(start, inst.begntime)
    last = min(end, inst.endtime)
    if inst.stopped_on is not None:
        last = min(last, inst.stopped_on - timedelta(days=1))
    code = inst.fixmedins_code
    base = float(inst.base_daily_fund)
    # Per line, hoisted out of the hot loop: (offset into the day's words, insutype, clr_type,
    # weekday pattern, expected count at level 1, fee per settlement in cents, fund share,
    # account share, pooled-fund share of fund payment).
    plan = [
        (
            8 * i,
            line.insutype,
            line.clr_type,
            _WEEKDAY[
                "pharmacy"
                if line.clr_type == "41"
                else "inpatient"
                if line.clr_type == "21"
                else "outpatient"
            ],
            base * line.weight / (line.ticket * line.fund_share),
            line.ticket * 100.0,
            line.fund_share,
            line.acct_share,
            line.hifp_share,
        )
        for i, line in enumerate(_lines(inst))
    ]
    n_lines = len(plan)
    rows: list[DailySettlement] = []
    append = rows.append
    log, cos, sin, sqrt, exp = math.log, math.cos, math.sin, math.sqrt, math.exp
    new_row = object.__new__
    u32, two_pi, cent = _U32, _TWO_PI, _CENT
    day = first
    one_day = timedelta(days=1)
    while day <= last:
        ordinal, doy, weekday, festival, flu = _calendar(day)
        common = _trend_factor(inst, ordinal, doy) * festival
        words = _day_words(seed, code, day, n_lines)
        for off, insutype, clr_type, weekly, lam_base, ticket, f_share, a_share, h_share in plan:
            lam = lam_base * common * weekly[weekday] * flu[clr_type]
            # Box-Muller: two standard normals from two words (count noise, ticket noise)
            r = sqrt(-2.0 * log((words[off] + 0.5) * u32))
            angle = two_pi * words[off + 1] * u32
            setl_cnt = _count(lam, words[off + 2] * u32, r * cos(angle))
            if setl_cnt == 0:
                continue
            medfee = round(setl_cnt * ticket * exp(0.15 * r * sin(angle)))
            r = sqrt(-2.0 * log((words[off + 3] + 0.5) * u32))
            angle = two_pi * words[off + 4] * u32
            fund_share = f_share * (1.0 + 0.05 * r * cos(angle))
            fund = round(medfee * (1.0 if fund_share > 1.0 else max(fund_share, 0.0)))
            acct = min(medfee - fund, max(0, round(medfee * a_share * (1 + 0.05 * r * sin(angle)))))
            hifp = min(fund, round(fund * h_share * (0.97 + 0.03 * words[off + 5] * u32)))
            refd = min(setl_cnt, int((setl_cnt * 0.03 * words[off + 6] + words[off + 7]) * u32))
            # Built without the frozen dataclass's per-field object.__setattr__ calls: this is
            # the hot path (~400k rows for 300 institutions x 2 years).
            row = new_row(DailySettlement)
            row.__dict__.update(
                fixmedins_code=code,
                setl_date=day,
                insutype=insutype,
                clr_type=clr_type,
                setl_cnt=setl_cnt,
                refd_setl_cnt=refd,
                medfee_sumamt=medfee * cent,
                fund_pay_sumamt=fund * cent,
                hifp_pay=hifp * cent,
                acct_pay=acct * cent,
                psn_cash_pay=(medfee - fund - acct) * cent,
            )
            append(row)
        day += one_day
    return rows
