"""Reading the district from a Chinese address as the bureau's profiles and people write it:
with and without the province, 区/县/县级市/新区, full-width digits, buildings and malls before
the street; and deciding between the area code and the address."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.address import (
    FUNCTIONAL_AREAS,
    DistrictReading,
    ParsedAddress,
    district_centre,
    normalise,
    parse_address,
    read_district,
)
from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.domain.organisation import LATITUDE_RANGE, LONGITUDE_RANGE, haversine_km


def centre_of(code: str) -> tuple[float, float]:
    centre = district_centre(code)
    assert centre is not None
    return centre

TABLE = [
    ("辽宁省大连市沙河口区黄河路668号", "210204"),
    ("辽宁大连市沙河口区黄河路６６８号", "210204"),
    ("大连市中山区人民路23号远洋大厦B座1201室", "210202"),
    ("大连市西岗区中山路１２８号万达广场3层", "210203"),
    ("大连市甘井子区红旗西路 99号 (红旗药房)", "210211"),
    ("大连甘井子红旗西路99号", "210211"),
    ("大连高新园区软件园路8号", "210211"),
    ("辽宁省大连市旅顺口区黄河路1号", "210212"),
    ("大连市金州区斯大林路1号", "210213"),
    ("大连金普新区金马路123号", "210213"),
    ("大连经济技术开发区辽河西路8号", "210213"),
    ("辽宁省大连市普兰店区丰荣街道新华路", "210214"),
    ("大连市长海县大长山岛镇", "210224"),
    ("辽宁省瓦房店市共济街128号", "210281"),
    ("大连长兴岛经济区兴港路", "210281"),
    ("庄河市新华路一段18号", "210283"),
    ("金州区友谊街道", "210213"),
]


@pytest.mark.parametrize(("address", "district"), TABLE)
def test_real_looking_addresses_name_their_district(address: str, district: str) -> None:
    assert parse_address(address).district == district


@pytest.mark.parametrize("address", ["北京市朝阳区建国路88号", "沈阳市和平区中华路",
                                     "上海市徐汇区虹漕路461号"])
def test_an_address_in_another_city_names_no_dalian_district(address: str) -> None:
    parsed = parse_address(address)
    assert parsed.district is None and parsed.found_elsewhere is not None
    assert not parsed.found_elsewhere.startswith("2102")


@pytest.mark.parametrize("address", [None, "", "   ", "大连市", "辽宁省大连市人民路1号",
                                     "一楼门面"])
def test_an_address_without_a_district_says_so(address: str | None) -> None:
    assert parse_address(address).district is None


def test_a_road_named_after_a_district_does_not_count_without_qu() -> None:
    # 中山路 runs through several districts; the district named is Xigang's
    assert parse_address("大连市西岗区中山路128号").district == "210203"
    assert parse_address("大连市中山路128号").district != "210202"


def test_full_width_text_reads_as_its_ascii_form() -> None:
    assert normalise("黄河路６６８号Ｂ座　１２０１") == "黄河路668号B座1201"


def test_every_district_has_a_centre_inside_dalian() -> None:
    for code in DALIAN_DISTRICTS:
        centre = district_centre(code)
        assert centre is not None
        lat, lon = centre
        assert LATITUDE_RANGE[0] <= lat <= LATITUDE_RANGE[1]
        assert LONGITUDE_RANGE[0] <= lon <= LONGITUDE_RANGE[1]
    # Zhongshan and Xigang are neighbours in the old town
    assert haversine_km(*centre_of("210202"), *centre_of("210203")) < 5


_DISTRICT = st.sampled_from(sorted(DALIAN_DISTRICTS))
_PREFIX = st.sampled_from(["", "大连市", "辽宁省大连市", "辽宁大连"])
_STREET = st.text(alphabet="人民路黄河长江号楼座室层广场大厦0123456789０１２３ABＡＢ-",
                  max_size=20)


@given(_DISTRICT, _PREFIX, _STREET)
def test_a_prefix_and_any_street_never_change_the_named_district(
        code: str, prefix: str, street: str) -> None:
    name = DALIAN_DISTRICTS[code][0]
    assert parse_address(f"{prefix}{name}{street}").district == code


@given(st.text(max_size=60))
def test_any_text_parses_without_error_to_a_dalian_district_or_none(text: str) -> None:
    district = parse_address(text).district
    assert district is None or district in DALIAN_DISTRICTS


@given(st.sampled_from(sorted(FUNCTIONAL_AREAS)), _STREET)
def test_functional_areas_map_to_their_district(area: str, street: str) -> None:
    assert parse_address(f"大连{area}{street}").district == FUNCTIONAL_AREAS[area]


def test_the_code_is_used_when_the_address_agrees_or_says_nothing() -> None:
    agree = read_district(area_code="210204", address="大连市沙河口区黄河路1号",
                          institution_code_area="210204")
    assert (agree.district, agree.source) == ("210204", "area_code")
    silent = read_district(area_code="210204", address="一楼门面",
                           institution_code_area="210202")
    assert (silent.district, silent.source) == ("210204", "area_code")


def test_the_address_wins_when_the_code_disagrees_or_is_missing() -> None:
    moved = read_district(area_code="210202", address="大连金普新区金马路123号",
                          institution_code_area="210202")
    assert (moved.district, moved.source, moved.parsed) == (
        "210213", "address_over_code", "210213")
    missing = read_district(area_code=None, address="庄河市新华路18号",
                            institution_code_area="210202")
    assert (missing.district, missing.source) == ("210283", "address")
    city_only = read_district(area_code="210200", address="瓦房店市共济街",
                              institution_code_area="210202")
    assert (city_only.district, city_only.source) == ("210281", "address")


def test_neither_code_nor_address_falls_back_to_the_institution_code() -> None:
    reading = read_district(area_code=None, address=None, institution_code_area="210211")
    assert (reading.district, reading.source) == ("210211", "institution_code")


@pytest.mark.parametrize(("address", "district", "method"), [
    ("大连市沙河口区黄河路668号", "210204", "cpca"),             # the administrative name
    ("大连高新园区软件园路8号", "210211", "functional_area"),    # no 区 name, a functional area
    ("大连甘井子红旗西路99号", "210211", "short_name"),          # only the short name
])
def test_the_reading_says_how_the_district_was_found(address: str, district: str,
                                                       method: str) -> None:
    assert parse_address(address) == ParsedAddress(district, method)


def test_the_reading_keeps_the_bureaus_code_and_what_the_address_said() -> None:
    """The assigned event records both inputs, so a wrong assignment can be traced."""
    assert read_district(area_code="210204", address="大连市沙河口区黄河路1号",
                         institution_code_area="210204") == DistrictReading(
        "210204", "area_code", "210204", "210204")
    assert read_district(area_code="210204", address="大连市中山区人民路23号",
                         institution_code_area="210204") == DistrictReading(
        "210202", "address_over_code", "210204", "210202")
    assert read_district(area_code="999999", address="一楼门面",
                         institution_code_area="210202") == DistrictReading(
        "210202", "institution_code", "999999", None)
