"""The branch and its sub-branches, and the rule that assigns a case to a sub-branch.

The organisation lives in an editable JSON file (``yibaodai/data/organisation.json``) because
the branch changes it (new sub-branch, new district split) without a code release; it is
validated strictly on load so a bad edit fails loudly instead of silently leaving a district
without a sub-branch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.errors import ConfigurationError, FieldError, ValidationFailed

EARTH_RADIUS_KM = 6371.0088

# A generous box around Dalian (Lüshun to Zhuanghe, Changhai islands): catches swapped
# latitude/longitude and typos in the data file.
LATITUDE_RANGE = (38.5, 40.2)
LONGITUDE_RANGE = (120.8, 123.6)


@dataclass(frozen=True)
class SubBranch:
    """A sub-branch (支行): claims and verifies the cases of the districts it serves."""

    code: str
    name_zh: str
    name_en: str
    address: str
    phone: str
    latitude: float
    longitude: float
    districts: tuple[str, ...]


@dataclass(frozen=True)
class Branch:
    """The city branch (分行); sub-branches in file order (the order breaks no ties: codes do)."""

    code: str
    name_zh: str
    name_en: str
    sub_branches: tuple[SubBranch, ...]

    def sub_branch(self, code: str) -> SubBranch | None:
        """The sub-branch with ``code``, or None."""
        return next((s for s in self.sub_branches if s.code == code), None)


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------


class _SubBranchModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    address: str = Field(min_length=1)
    phone: str = Field(min_length=1)
    latitude: float = Field(ge=LATITUDE_RANGE[0], le=LATITUDE_RANGE[1])
    longitude: float = Field(ge=LONGITUDE_RANGE[0], le=LONGITUDE_RANGE[1])
    districts: list[str] = Field(min_length=1)


class _BranchHeadModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class _OrganisationModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    branch: _BranchHeadModel
    sub_branches: list[_SubBranchModel] = Field(min_length=1)


def _invalid(fields: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(
        message_zh="机构配置文件无效",
        message_en="the organisation file is invalid",
        code="invalid_organisation",
        fields=fields,
    )


def _pydantic_fields(error: PydanticValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(root)"
        out.append(
            FieldError(
                field=loc,
                message_zh=f"字段“{loc}”缺失、多余或取值不正确（{item['type']}）",
                message_en=f"{loc}: {item['msg']}",
            )
        )
    return out


def _semantic_fields(model: _OrganisationModel) -> list[FieldError]:
    """Rules pydantic cannot express: unique codes, known districts, full district coverage."""
    errors: list[FieldError] = []
    seen: set[str] = {model.branch.code}
    covered: set[str] = set()
    for i, sub in enumerate(model.sub_branches):
        where = f"sub_branches.{i}"
        if sub.code in seen:
            errors.append(
                FieldError(
                    f"{where}.code",
                    f"机构编码“{sub.code}”重复",
                    f"organisation code {sub.code!r} is duplicated",
                )
            )
        seen.add(sub.code)
        if len(set(sub.districts)) != len(sub.districts):
            errors.append(
                FieldError(
                    f"{where}.districts",
                    f"支行“{sub.code}”的服务区域有重复",
                    f"sub-branch {sub.code!r} lists a district twice",
                )
            )
        for j, district in enumerate(sub.districts):
            if district not in DALIAN_DISTRICTS:
                errors.append(
                    FieldError(
                        f"{where}.districts.{j}",
                        f"支行“{sub.code}”的服务区域“{district}”不是大连市所辖区县代码",
                        f"sub-branch {sub.code!r} serves unknown area code {district!r} "
                        "(must be one of the ten Dalian district codes)",
                    )
                )
            covered.add(district)
    for district, (zh, en) in DALIAN_DISTRICTS.items():
        if district not in covered:
            errors.append(
                FieldError(
                    "sub_branches",
                    f"{zh}（{district}）没有任何支行服务",
                    f"no sub-branch serves {en} ({district})",
                )
            )
    return errors


def parse_organisation(data: Any) -> Branch:
    """Validate already-decoded JSON and build the ``Branch``; raises ``ValidationFailed``."""
    try:
        model = _OrganisationModel.model_validate(data)
    except PydanticValidationError as exc:
        raise _invalid(_pydantic_fields(exc)) from exc
    problems = _semantic_fields(model)
    if problems:
        raise _invalid(problems)
    return Branch(
        code=model.branch.code,
        name_zh=model.branch.name_zh,
        name_en=model.branch.name_en,
        sub_branches=tuple(
            SubBranch(
                code=s.code,
                name_zh=s.name_zh,
                name_en=s.name_en,
                address=s.address,
                phone=s.phone,
                latitude=s.latitude,
                longitude=s.longitude,
                districts=tuple(s.districts),
            )
            for s in model.sub_branches
        ),
    )


def load_organisation(path: Path | None = None) -> Branch:
    """Load and validate the organisation file (default: the packaged ``organisation.json``).

    A file that cannot be read raises ``ConfigurationError``; a file with bad content raises
    ``ValidationFailed(code="invalid_organisation")`` with one field error per problem.
    """
    try:
        if path is None:
            text = (
                resources.files("yibaodai.data")
                .joinpath("organisation.json")
                .read_text(encoding="utf-8")
            )
        else:
            text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            message_zh=f"无法读取机构配置文件：{exc}",
            message_en=f"cannot read the organisation file: {exc}",
            code="organisation_unreadable",
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid(
            [
                FieldError(
                    "(file)",
                    f"机构配置文件不是有效的JSON（第{exc.lineno}行第{exc.colno}列）",
                    f"the organisation file is not valid JSON (line {exc.lineno}, "
                    f"column {exc.colno}): {exc.msg}",
                )
            ]
        ) from exc
    return parse_organisation(data)


# ---------------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (good to well under 1% at city scale)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _nearest(candidates: Iterable[SubBranch], lat: float, lon: float) -> SubBranch | None:
    return min(
        candidates,
        key=lambda s: (haversine_km(lat, lon, s.latitude, s.longitude), s.code),
        default=None,
    )


#: Distances within this many kilometres count as a tie, broken by the open load.
TIE_KM = 0.5


def _nearest_by_load(candidates: list[SubBranch], lat: float, lon: float,
                     open_load: Mapping[str, int]) -> SubBranch:
    """The nearest candidate; those within ``TIE_KM`` of the nearest are a tie, and the one
    with the fewest open cases (then the nearer, then the code) takes it."""
    dist = {s.code: haversine_km(lat, lon, s.latitude, s.longitude) for s in candidates}
    best = min(dist.values())
    tied = [s for s in candidates if dist[s.code] <= best + TIE_KM]
    return min(tied, key=lambda s: (open_load.get(s.code, 0), dist[s.code], s.code))


def choose_sub_branch(
    branch: Branch,
    *,
    district: str,
    latitude: float | None,
    longitude: float | None,
    excluded: frozenset[str] = frozenset(),
    open_load: Mapping[str, int] | None = None,
) -> SubBranch | None:
    """The assignment rule (step 4 of the brief).

    1. Among sub-branches that serve ``district`` and are not ``excluded`` (e.g. penalised for a
       missed deadline), the nearest to the institution's coordinates; without coordinates,
       the first in file order (the file lists the district's main sub-branch first). Given
       ``open_load`` (open cases per sub-branch), sub-branches about as near as the nearest
       (``TIE_KM``) are a tie that the least loaded takes.
    2. If every serving sub-branch is excluded, the nearest non-excluded sub-branch overall,
       measured from the institution, or — without coordinates — from the centroid of the
       district's serving sub-branches, so the case stays as close to home as possible.
    3. None only when every sub-branch is excluded.

    Distance ties are broken by sub-branch code, so the answer is deterministic.
    """
    available = [s for s in branch.sub_branches if s.code not in excluded]
    if not available:
        return None
    serving = [s for s in available if district in s.districts]
    if serving:
        if latitude is not None and longitude is not None:
            if open_load is not None:
                return _nearest_by_load(serving, latitude, longitude, open_load)
            return _nearest(serving, latitude, longitude)
        return serving[0]
    if latitude is not None and longitude is not None:
        return _nearest(available, latitude, longitude)
    home = [s for s in branch.sub_branches if district in s.districts]
    if home:
        lat = sum(s.latitude for s in home) / len(home)
        lon = sum(s.longitude for s in home) / len(home)
        return _nearest(available, lat, lon)
    return available[0]
