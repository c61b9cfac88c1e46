"""The packaged organisation file and the sub-branch assignment rule."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.domain.organisation import (
    TIE_KM,
    Branch,
    SubBranch,
    choose_sub_branch,
    haversine_km,
    load_organisation,
    parse_organisation,
)
from yibaodai.errors import ConfigurationError, ValidationFailed

URBAN = ("210202", "210203", "210204", "210211")


@pytest.fixture(scope="module")
def branch() -> Branch:
    return load_organisation()


def packaged_data() -> dict[str, Any]:
    text = resources.files("yibaodai.data").joinpath("organisation.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "organisation.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_packaged_file_loads_as_the_dalian_branch(branch: Branch) -> None:
    assert branch.code == "DL000"
    assert branch.name_zh == "大连分行"


def test_there_are_exactly_17_sub_branches_with_unique_codes(branch: Branch) -> None:
    codes = [s.code for s in branch.sub_branches]
    assert len(codes) == 17
    assert len(set(codes)) == 17
    assert codes == [f"DL{i:03d}" for i in range(1, 18)]


def test_every_district_is_served_and_urban_districts_by_several(branch: Branch) -> None:
    served: dict[str, int] = {d: 0 for d in DALIAN_DISTRICTS}
    for sub in branch.sub_branches:
        for d in sub.districts:
            served[d] += 1
    assert all(n >= 1 for n in served.values()), served
    assert all(served[d] >= 2 for d in URBAN), served


def test_every_sub_branch_sits_inside_dalian(branch: Branch) -> None:
    for sub in branch.sub_branches:
        assert 38.7 <= sub.latitude <= 39.9 and 121.1 <= sub.longitude <= 123.1, sub.code


def test_haversine_matches_a_known_distance() -> None:
    # Zhongshan Square to Lüshun: about 34 km as the crow flies
    d = haversine_km(38.9215, 121.6472, 38.8120, 121.2620)
    assert 33.0 < d < 36.0
    assert haversine_km(39.0, 121.0, 39.0, 121.0) == 0.0


@given(
    st.sampled_from(sorted(DALIAN_DISTRICTS)),
    st.floats(min_value=38.7, max_value=39.9),
    st.floats(min_value=121.1, max_value=123.1),
)
def test_choose_picks_the_nearest_sub_branch_serving_the_district(
    district: str, lat: float, lon: float
) -> None:
    branch = load_organisation()
    chosen = choose_sub_branch(branch, district=district, latitude=lat, longitude=lon)
    assert chosen is not None
    assert district in chosen.districts
    serving = [s for s in branch.sub_branches if district in s.districts]
    best = min(haversine_km(lat, lon, s.latitude, s.longitude) for s in serving)
    assert haversine_km(lat, lon, chosen.latitude, chosen.longitude) == best


def test_choose_without_coordinates_takes_the_first_serving_sub_branch(branch: Branch) -> None:
    for district in DALIAN_DISTRICTS:
        chosen = choose_sub_branch(branch, district=district, latitude=None, longitude=None)
        first = next(s for s in branch.sub_branches if district in s.districts)
        assert chosen == first


def test_choose_respects_exclusions_within_the_district(branch: Branch) -> None:
    lat, lon = 38.9215, 121.6472  # next to DL001 in Zhongshan
    first = choose_sub_branch(branch, district="210202", latitude=lat, longitude=lon)
    assert first is not None and first.code == "DL001"
    second = choose_sub_branch(
        branch, district="210202", latitude=lat, longitude=lon, excluded=frozenset({"DL001"})
    )
    assert second is not None
    assert second.code != "DL001" and "210202" in second.districts


def test_choose_falls_back_to_the_nearest_sub_branch_overall(branch: Branch) -> None:
    lat, lon = 38.8120, 121.2620  # Lüshun, served only by DL008
    chosen = choose_sub_branch(
        branch, district="210212", latitude=lat, longitude=lon, excluded=frozenset({"DL008"})
    )
    assert chosen is not None
    others = [s for s in branch.sub_branches if s.code != "DL008"]
    nearest = min(others, key=lambda s: haversine_km(lat, lon, s.latitude, s.longitude))
    assert chosen == nearest
    assert "210212" not in chosen.districts


def test_fallback_without_coordinates_stays_near_the_district(branch: Branch) -> None:
    chosen = choose_sub_branch(
        branch, district="210212", latitude=None, longitude=None, excluded=frozenset({"DL008"})
    )
    lushun = branch.sub_branch("DL008")
    assert chosen is not None and lushun is not None
    others = [s for s in branch.sub_branches if s.code != "DL008"]
    nearest = min(
        others,
        key=lambda s: haversine_km(lushun.latitude, lushun.longitude, s.latitude, s.longitude),
    )
    assert chosen == nearest


def test_choose_returns_none_only_when_every_sub_branch_is_excluded(branch: Branch) -> None:
    all_codes = frozenset(s.code for s in branch.sub_branches)
    assert (
        choose_sub_branch(
            branch, district="210202", latitude=38.9, longitude=121.6, excluded=all_codes
        )
        is None
    )
    one_left = all_codes - {"DL014"}
    chosen = choose_sub_branch(
        branch, district="210202", latitude=38.9, longitude=121.6, excluded=one_left
    )
    assert chosen is not None and chosen.code == "DL014"


def test_distance_ties_are_broken_by_code() -> None:
    data = packaged_data()
    # two sub-branches at the same spot serving the same district, listed out of code order
    data["sub_branches"][1]["latitude"] = data["sub_branches"][0]["latitude"]
    data["sub_branches"][1]["longitude"] = data["sub_branches"][0]["longitude"]
    data["sub_branches"][0], data["sub_branches"][1] = (
        data["sub_branches"][1],
        data["sub_branches"][0],
    )
    branch = parse_organisation(data)
    chosen = choose_sub_branch(branch, district="210202", latitude=38.95, longitude=121.7)
    assert chosen is not None and chosen.code == "DL001"


def test_choose_is_deterministic(branch: Branch) -> None:
    results = {
        choose_sub_branch(branch, district="210211", latitude=38.96, longitude=121.57)
        for _ in range(20)
    }
    assert len(results) == 1


# --- bad files ----------------------------------------------------------------------------


def test_unknown_area_code_in_the_file_is_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    data["sub_branches"][0]["districts"].append("110101")
    with pytest.raises(ValidationFailed) as info:
        load_organisation(write(tmp_path, data))
    assert info.value.code == "invalid_organisation"
    messages = [f.message_en for f in info.value.fields]
    assert any("110101" in m for m in messages)
    assert all(f.message_zh for f in info.value.fields)


def test_full_width_area_code_in_the_file_is_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    data["sub_branches"][0]["districts"].append("２１０２０２")
    with pytest.raises(ValidationFailed):
        load_organisation(write(tmp_path, data))


def test_duplicate_sub_branch_codes_are_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    data["sub_branches"][1]["code"] = "DL001"
    with pytest.raises(ValidationFailed) as info:
        load_organisation(write(tmp_path, data))
    assert any("duplicated" in f.message_en for f in info.value.fields)
    assert any("重复" in f.message_zh for f in info.value.fields)


def test_a_district_left_without_a_sub_branch_is_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    data["sub_branches"] = [s for s in data["sub_branches"] if "210224" not in s["districts"]]
    with pytest.raises(ValidationFailed) as info:
        load_organisation(write(tmp_path, data))
    assert any("210224" in f.message_en and "长海县" in f.message_zh for f in info.value.fields)


def test_missing_field_and_swapped_coordinates_are_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    del data["sub_branches"][0]["phone"]
    sub = data["sub_branches"][2]
    sub["latitude"], sub["longitude"] = sub["longitude"], sub["latitude"]
    with pytest.raises(ValidationFailed) as info:
        load_organisation(write(tmp_path, data))
    fields = {f.field for f in info.value.fields}
    assert "sub_branches.0.phone" in fields
    assert "sub_branches.2.latitude" in fields


def test_broken_json_is_a_validation_error(tmp_path: Path) -> None:
    path = tmp_path / "organisation.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ValidationFailed):
        load_organisation(path)


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_organisation(tmp_path / "absent.json")


def _sub(code: str, lat: float, lon: float, districts: tuple[str, ...]) -> SubBranch:
    return SubBranch(code=code, name_zh=code, name_en=code, address="-", phone="-",
                     latitude=lat, longitude=lon, districts=districts)


def test_fallback_without_coordinates_starts_from_the_mean_of_the_districts_sub_branches(
        ) -> None:
    # two excluded sub-branches serve Lüshunkou; the case goes to whoever is nearest their
    # midpoint (M), not to one nearer either end (A near the first, B near the second)
    home = (_sub("H1", 38.80, 121.20, ("210212",)), _sub("H2", 39.00, 121.60, ("210212",)))
    others = (_sub("A", 38.78, 121.10, ("210202",)), _sub("M", 38.90, 121.40, ("210203",)),
              _sub("B", 39.04, 121.75, ("210204",)))
    branch = Branch(code="DL", name_zh="分行", name_en="branch", sub_branches=home + others)
    chosen = choose_sub_branch(branch, district="210212", latitude=None, longitude=None,
                               excluded=frozenset({"H1", "H2"}))
    assert chosen is not None and chosen.code == "M"
    alone = Branch(code="DL", name_zh="分行", name_en="branch",
                   sub_branches=(home[1], *others))
    chosen = choose_sub_branch(alone, district="210212", latitude=None, longitude=None,
                               excluded=frozenset({"H2"}))
    assert chosen is not None and chosen.code == "B"


def test_a_bad_file_says_so_in_both_languages_field_by_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_organisation(["not", "an", "object"])
    error = info.value
    assert (error.code, error.message_zh, error.message_en) == (
        "invalid_organisation", "机构配置文件无效", "the organisation file is invalid")
    (field,) = error.fields
    assert field.field == "(root)"
    assert field.message_zh == "字段“(root)”缺失、多余或取值不正确（model_type）"
    assert field.message_en.startswith("(root): ")


def test_an_unknown_sub_branch_code_is_none(branch: Branch) -> None:
    assert branch.sub_branch("NOPE") is None
    first = branch.sub_branches[0]
    assert branch.sub_branch(first.code) is first


def test_sub_branches_about_as_near_split_by_their_open_load() -> None:
    # N is 300 m nearer than F; within the tie distance, the less loaded F takes the case
    near, far = _sub("N", 38.9000, 121.6000, ("210202",)), _sub("F", 38.9027, 121.6000,
                                                                ("210202",))
    branch = Branch(code="DL", name_zh="分行", name_en="branch", sub_branches=(near, far))
    pick = choose_sub_branch(branch, district="210202", latitude=38.8990, longitude=121.6,
                             open_load={"N": 5, "F": 1})
    assert pick is not None and pick.code == "F"
    even = choose_sub_branch(branch, district="210202", latitude=38.8990, longitude=121.6,
                             open_load={"N": 1, "F": 1})
    assert even is not None and even.code == "N"


def test_distance_beats_load_beyond_the_tie() -> None:
    near, far = _sub("N", 38.90, 121.60, ("210202",)), _sub("F", 38.95, 121.60, ("210202",))
    branch = Branch(code="DL", name_zh="分行", name_en="branch", sub_branches=(near, far))
    pick = choose_sub_branch(branch, district="210202", latitude=38.90, longitude=121.60,
                             open_load={"N": 40, "F": 0})
    assert pick is not None and pick.code == "N"


@given(st.sampled_from(sorted(DALIAN_DISTRICTS)), st.floats(38.7, 39.9), st.floats(121.1, 123.1),
       st.dictionaries(st.sampled_from([f"DL{i:03d}" for i in range(1, 18)]),
                       st.integers(0, 50)))
def test_with_loads_the_choice_is_never_beyond_the_tie_distance(
        district: str, lat: float, lon: float, load: dict[str, int]) -> None:
    branch = load_organisation()
    chosen = choose_sub_branch(branch, district=district, latitude=lat, longitude=lon,
                               open_load=load)
    assert chosen is not None and district in chosen.districts
    serving = [s for s in branch.sub_branches if district in s.districts]
    best = min(haversine_km(lat, lon, s.latitude, s.longitude) for s in serving)
    assert haversine_km(lat, lon, chosen.latitude, chosen.longitude) <= best + TIE_KM
