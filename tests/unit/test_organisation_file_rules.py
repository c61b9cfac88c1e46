"""The organisation file's rules, one problem at a time, each on the field it concerns, and
the assignment rule's edges: half a coordinate pair is no position, a district nobody serves
goes to the first available sub-branch, and distances are great-circle kilometres."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from yibaodai.domain.organisation import (
    EARTH_RADIUS_KM,
    Branch,
    SubBranch,
    choose_sub_branch,
    haversine_km,
    load_organisation,
    parse_organisation,
)
from yibaodai.errors import ConfigurationError, ValidationFailed


def packaged() -> dict[str, Any]:
    text = resources.files("yibaodai.data").joinpath("organisation.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def problems(data: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(ValidationFailed) as info:
        parse_organisation(data)
    assert info.value.code == "invalid_organisation"
    return [(f.field, f.message_zh, f.message_en) for f in info.value.fields]


def test_every_field_of_the_file_reaches_the_branch() -> None:
    data = packaged()
    branch = parse_organisation(data)
    assert (branch.code, branch.name_zh, branch.name_en) == (
        data["branch"]["code"], data["branch"]["name_zh"], data["branch"]["name_en"])
    assert [(s.code, s.name_zh, s.name_en, s.address, s.phone, s.latitude, s.longitude,
             list(s.districts)) for s in branch.sub_branches] == [
        (s["code"], s["name_zh"], s["name_en"], s["address"], s["phone"], s["latitude"],
         s["longitude"], s["districts"]) for s in data["sub_branches"]]
    assert load_organisation() == branch


def test_a_district_listed_twice_by_one_sub_branch() -> None:
    data = packaged()
    sub = data["sub_branches"][3]
    sub["districts"].append(sub["districts"][0])
    [(field, zh, en)] = problems(data)
    assert field == "sub_branches.3.districts"
    assert sub["code"] in zh and "重复" in zh
    assert repr(sub["code"]) in en and "twice" in en


def test_an_unknown_district_is_named_at_its_position() -> None:
    data = packaged()
    sub = data["sub_branches"][2]
    sub["districts"].append("110101")
    position = len(sub["districts"]) - 1
    [(field, zh, en)] = problems(data)
    assert field == f"sub_branches.2.districts.{position}"
    assert "110101" in zh and sub["code"] in zh
    assert "'110101'" in en and "ten Dalian district codes" in en


def test_a_district_nobody_serves_is_reported_on_the_list() -> None:
    data = packaged()
    data["sub_branches"] = [s for s in data["sub_branches"] if "210283" not in s["districts"]]
    found = problems(data)
    assert ("sub_branches", "庄河市（210283）没有任何支行服务",
            "no sub-branch serves Zhuanghe City (210283)") in found


def test_a_sub_branch_may_not_reuse_the_branch_code() -> None:
    data = packaged()
    data["sub_branches"][4]["code"] = data["branch"]["code"]
    [(field, zh, en)] = problems(data)
    assert field == "sub_branches.4.code"
    assert data["branch"]["code"] in zh and "duplicated" in en


def test_shape_errors_name_the_field_and_the_rule() -> None:
    data = packaged()
    data["sub_branches"][1]["code"] = "dl-1"
    data["sub_branches"][5]["extra"] = 1
    found = problems(data)
    fields = [f for f, _, _ in found]
    assert fields == ["sub_branches.1.code", "sub_branches.5.extra"]
    zh, en = found[0][1], found[0][2]
    assert zh == "字段“sub_branches.1.code”缺失、多余或取值不正确（string_pattern_mismatch）"
    assert en.startswith("sub_branches.1.code: String should match pattern")


def test_unreadable_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as unreadable:
        load_organisation(tmp_path)  # a directory cannot be read as a file
    assert unreadable.value.code == "organisation_unreadable"
    assert "无法读取机构配置文件" in unreadable.value.message_zh
    assert str(tmp_path) in unreadable.value.message_en
    path = tmp_path / "organisation.json"
    path.write_text('{\n  "branch": ,\n}', encoding="utf-8")
    with pytest.raises(ValidationFailed) as broken:
        load_organisation(path)
    [field] = broken.value.fields
    assert field.field == "(file)"
    assert "第2行第13列" in field.message_zh
    assert "(line 2, column 13): Expecting value" in field.message_en
    assert broken.value.message_en == "the organisation file is invalid"
    path.write_text(json.dumps(packaged(), ensure_ascii=False), encoding="utf-8")
    assert load_organisation(path).name_zh == packaged()["branch"]["name_zh"]


def _sub(code: str, lat: float, lon: float, *districts: str) -> SubBranch:
    return SubBranch(code=code, name_zh=code, name_en=code, address="-", phone="-",
                     latitude=lat, longitude=lon, districts=districts)


BRANCH = Branch(code="DL", name_zh="分行", name_en="branch", sub_branches=(
    _sub("S1", 38.90, 121.60, "210202"), _sub("S2", 39.10, 121.70, "210202", "210211"),
    _sub("S3", 39.60, 122.00, "210281")))


@pytest.mark.parametrize(("lat", "lon"), [(39.10, None), (None, 121.70), (None, None)])
def test_half_a_coordinate_pair_is_no_position(lat: float | None, lon: float | None) -> None:
    chosen = choose_sub_branch(BRANCH, district="210202", latitude=lat, longitude=lon)
    assert chosen is not None and chosen.code == "S1"  # the first serving, not the nearest
    chosen = choose_sub_branch(BRANCH, district="210202", latitude=lat, longitude=lon,
                               excluded=frozenset({"S1", "S2"}))
    assert chosen is not None and chosen.code == "S3"
    assert choose_sub_branch(BRANCH, district="210202", latitude=39.10, longitude=121.70) \
        == BRANCH.sub_branches[1]


def test_a_district_nobody_serves_goes_to_the_first_available() -> None:
    chosen = choose_sub_branch(BRANCH, district="210224", latitude=None, longitude=None)
    assert chosen is not None and chosen.code == "S1"
    chosen = choose_sub_branch(BRANCH, district="210224", latitude=None, longitude=None,
                               excluded=frozenset({"S1"}))
    assert chosen is not None and chosen.code == "S2"
    chosen = choose_sub_branch(BRANCH, district="210224", latitude=39.55, longitude=122.0)
    assert chosen is not None and chosen.code == "S3"


def test_great_circle_distances() -> None:
    one_degree = math.pi / 180 * EARTH_RADIUS_KM  # 111.195 km along a meridian
    assert haversine_km(39.0, 121.0, 40.0, 121.0) == pytest.approx(one_degree, rel=1e-9)
    assert haversine_km(0.0, 121.0, 0.0, 122.0) == pytest.approx(one_degree, rel=1e-9)
    # along a parallel the degree shrinks with the cosine of the latitude (roughly)
    assert haversine_km(60.0, 0.0, 60.0, 1.0) == pytest.approx(one_degree / 2, rel=1e-4)
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(38.9, 121.6, 39.1, 121.7) == haversine_km(39.1, 121.7, 38.9, 121.6)
