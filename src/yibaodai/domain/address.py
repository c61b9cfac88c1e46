"""Which Dalian district an institution's Chinese address names (assignment, step 4).

The bureau's area code is usually right, but it is missing for some institutions and, for
others, still the code of the district the business left. The registered address then says
where it is. Addresses as people type them vary: with or without the province
(``辽宁省大连市`` / ``大连市`` / nothing), full-width digits and letters, a building or a
mall before the street, the county-level cities (瓦房店市, 庄河市) beside the districts, and
the names of the functional areas that replaced a district on the letterhead (金普新区 for
Jinzhou, 高新园区 inside Ganjingzi, 长兴岛 in Wafangdian...).

The administrative part is read by ``cpca`` (its national table of area codes, shipped in the
package: no network); this module only normalises the text first (NFKC), tells ``cpca`` that
a bare district name means Dalian's, and maps the functional areas it does not know. The
result is an area code of one of the ten districts, or None with what was found instead.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from yibaodai.domain.codes import DALIAN_DISTRICTS

DALIAN_PREFIX = "2102"

#: Functional areas (经济区/新区/园区) an address may name instead of its district, longest
#: first so ``大连金普新区`` wins over a shorter name inside it.
FUNCTIONAL_AREAS: dict[str, str] = {
    "金普新区": "210213",
    "普湾新区": "210214",
    "保税区": "210213",
    "大连经济技术开发区": "210213",
    "经济技术开发区": "210213",
    "开发区": "210213",
    "高新技术产业园区": "210211",
    "高新园区": "210211",
    "高新区": "210211",
    "长兴岛": "210281",
    "花园口": "210283",
}

#: Short forms in use for districts whose short name is no street name elsewhere in the city
#: (``中山``/``西岗`` are also roads, so they count only with 区).
SHORT_NAMES: dict[str, str] = {
    "沙河口": "210204",
    "甘井子": "210211",
    "旅顺": "210212",
    "金州": "210213",
    "普兰店": "210214",
    "长海": "210224",
    "瓦房店": "210281",
    "庄河": "210283",
}

#: A bare district name (no city before it) means Dalian's: ``cpca``'s ``umap``.
_UMAP = {name: code for code, (name, _en) in DALIAN_DISTRICTS.items()}

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ParsedAddress:
    """What an address says: the Dalian district's area code (or None), how it was read
    (``cpca``, ``functional_area``, ``short_name``), and the area ``cpca`` found when that
    is no Dalian district (an address in another city)."""

    district: str | None
    method: str | None
    found_elsewhere: str | None = None


def normalise(address: str) -> str:
    """NFKC (full-width digits, letters and brackets to ASCII), no whitespace."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", address))


@cache
def _cpca() -> Any:
    # cpca 0.5.5 loads its table through pkg_resources, which warns that it is deprecated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca
    return cpca


def _first(text: str, table: dict[str, str]) -> str | None:
    hits = [(text.find(name), -len(name), code) for name, code in table.items() if name in text]
    return min(hits)[2] if hits else None


def parse_address(address: str | None) -> ParsedAddress:
    """The district an address names. Administrative names win (``cpca``); then functional
    areas; then the unambiguous short names. Never raises on odd text: None says why not."""
    if not address or not address.strip():
        return ParsedAddress(None, None)
    text = normalise(address)
    frame = _cpca().transform([text], umap=_UMAP)
    adcode = frame.iloc[0]["adcode"]
    code = str(adcode)[:6] if isinstance(adcode, str) else None
    if code in DALIAN_DISTRICTS:
        return ParsedAddress(code, "cpca")
    if code is not None and not code.startswith(DALIAN_PREFIX):
        return ParsedAddress(None, None, found_elsewhere=code)
    area = _first(text, FUNCTIONAL_AREAS)
    if area is not None:
        return ParsedAddress(area, "functional_area")
    short = _first(text, SHORT_NAMES)
    if short is not None:
        return ParsedAddress(short, "short_name")
    return ParsedAddress(None, None)


@cache
def district_centre(district: str) -> tuple[float, float] | None:
    """The district's centre (latitude, longitude) from ``cpca``'s table, to measure from
    when an institution has no coordinates of its own."""
    info = _cpca().ad_2_addr_dict.get(f"{district}000000")
    if info is None or not info.latitude or not info.longitude:
        return None
    return float(info.latitude), float(info.longitude)


@dataclass(frozen=True)
class DistrictReading:
    """The district a case is assigned by, and why (kept in the ``assigned`` event):
    ``area_code`` (the bureau's code, the address agrees or says nothing), ``address`` (no
    usable code), ``address_over_code`` (the address names another district than the code),
    ``institution_code`` (neither: the district digits of the institution code)."""

    district: str
    source: str
    area_code: str | None
    parsed: str | None


def read_district(*, area_code: str | None, address: str | None,
                  institution_code_area: str) -> DistrictReading:
    """Decide the district from the code and the address, the address winning when the two
    disagree (the bureau's address is what the institution registered most recently)."""
    parsed = parse_address(address).district
    code = area_code if area_code in DALIAN_DISTRICTS else None
    if code is not None and parsed in (None, code):
        return DistrictReading(code, "area_code", area_code, parsed)
    if parsed is not None:
        source = "address_over_code" if code is not None else "address"
        return DistrictReading(parsed, source, area_code, parsed)
    return DistrictReading(code or institution_code_area,
                           "area_code" if code else "institution_code", area_code, None)
