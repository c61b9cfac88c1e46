"""Which rows of a list (and which stored prospects and known institutions) are the same
institution: by institution code, then USCC, then a fuzzy comparison of name and address.

The fuzzy step never compares all pairs. Records are blocked by district and, inside a
district, put through a *multi-pass sorted neighbourhood* (Hernández & Stolfo): sorted by the
name key, by the address key and by the reversed name key, each record is compared with the
next few in each order. That is O(n log n) for the sorts plus O(n * window) comparisons, and a
variant of a name sorts next to its original because the keys drop what varies between
spellings (province and city prefixes, legal forms, brackets, full-width characters).

The pairs are made and screened in bulk (numpy for the neighbour pairs, rapidfuzz's
``process.cpdist`` for the name ratio with its cut-off): at 20,000 rows there are some 340,000
pairs, and only the few thousand whose names come near each other reach Python code.

Two records that carry different institution codes, different valid USCCs or are two
different stored prospects are never merged, however alike their names: a chain's branches
share a brand and a street, not a code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.domain.marketing.fields import compact

#: How many following records each record is compared with, per sort order.
WINDOW: Final = 6
NAME_THRESHOLD: Final = 88
ADDRESS_THRESHOLD: Final = 80
NAME_ALONE_THRESHOLD: Final = 95  # when one side has no address
MATCHING_VERSION: Final = "marketing-match-1"


class MatchReason(StrEnum):
    CODE = "fixmedins_code"
    USCC = "uscc"
    NAME_ADDRESS = "name_address"


_REASON_RANK: Final = {MatchReason.CODE: 3, MatchReason.USCC: 2, MatchReason.NAME_ADDRESS: 1}
_PREFIXES: Final = ("中国", "辽宁省", "辽宁", "大连市", "大连")
_LEGAL_FORMS: Final = re.compile(
    r"股份有限公司|有限责任公司|有限公司|个人独资企业|合伙企业|个体工商户")
_NOISE: Final = re.compile(r"[()\[\]{}<>《》【】·.,，、\-_/\\'\"“”‘’:：;；#＃ ]")
_PLACES: Final = tuple(sorted((zh for zh, _ in DALIAN_DISTRICTS.values()), key=len, reverse=True))
_DIGITS: Final = re.compile(r"\d+")
_HOUSE: Final = re.compile(r"(\d+)(?:号|#)")


def _strip_prefixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text, changed = text[len(prefix):], True
    return text


# The keys are cached: an import asks for a row's keys when it matches it and again when it
# writes its prospect.
@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """The part of a name that identifies the institution: no province or city prefix, no
    legal form, no brackets or punctuation, 分店 read as 店."""
    text = _strip_prefixes(compact(name))
    text = _NOISE.sub("", _LEGAL_FORMS.sub("", text)).replace("分店", "店")
    return text.lower()


@lru_cache(maxsize=1 << 16)
def address_key(address: str) -> str:
    """An address without province, city and district (which the blocking already holds) and
    without punctuation."""
    text = _strip_prefixes(compact(address))
    for place in _PLACES:
        text = text.replace(place, "")
    return _NOISE.sub("", text).lower()


@dataclass(frozen=True)
class MatchRecord:
    """One thing to match. ``key`` orders them: the lowest key of a group represents it (the
    service puts stored prospects first, then the list's rows in sheet order)."""

    key: int
    district: str | None
    name: str      # name_key(...)
    address: str   # address_key(...)
    code: str | None = None
    uscc: str | None = None
    prospect_id: int | None = None  # a stored prospect (two of them never merge)
    name_numbers: tuple[str, ...] = field(init=False, repr=False, compare=False)
    house_numbers: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name_numbers", tuple(_DIGITS.findall(self.name)))
        object.__setattr__(self, "house_numbers", tuple(_HOUSE.findall(self.address)))

    def distinct_from(self, other: MatchRecord) -> bool:
        """Known to be different institutions: different codes, different valid USCCs, or two
        stored prospects."""
        return bool((self.code and other.code and self.code != other.code)
                    or (self.uscc and other.uscc and self.uscc != other.uscc)
                    or (self.prospect_id is not None and other.prospect_id is not None))


@dataclass(frozen=True)
class Similarity:
    name: int
    address: int | None
    score: int
    same: bool


def similarity(a: MatchRecord, b: MatchRecord) -> Similarity:
    """Name and address similarity (rapidfuzz Indel ratio, 0-100) and whether that makes them
    one institution. Different numbers in the names (（2）, 第三) or different house numbers
    cap the score: they are what tells neighbours apart."""
    name = fuzz.ratio(a.name, b.name)
    if a.name_numbers != b.name_numbers:
        name = min(name, 60.0)
    if not a.address or not b.address:
        return Similarity(round(name), None, round(name), name >= NAME_ALONE_THRESHOLD)
    address = fuzz.ratio(a.address, b.address)
    if a.house_numbers and b.house_numbers and a.house_numbers != b.house_numbers:
        address = min(address, 50.0)
    score = round(0.6 * name + 0.4 * address)
    return Similarity(round(name), round(address), score,
                      name >= NAME_THRESHOLD and address >= ADDRESS_THRESHOLD)


@dataclass(frozen=True)
class Link:
    """The strongest evidence that put a record in its group: the other record, why, and
    the score (100 for exact codes)."""

    other: int
    reason: MatchReason
    score: int
    name_score: int | None = None
    address_score: int | None = None


@dataclass(frozen=True)
class Clustering:
    groups: tuple[tuple[int, ...], ...]   # keys, each group sorted, groups by first key
    links: dict[int, Link]                 # every key in a group of two or more
    compared: int                          # fuzzy comparisons made (for the benchmark)


class _Groups:
    """Union-find that keeps, per group, the codes, USCCs and stored prospects it holds, so a
    merge that would join two different institutions is refused. A record's own sets are made
    when it first takes part in a merge: most records never do."""

    def __init__(self, records: Sequence[MatchRecord]) -> None:
        self.parent = {r.key: r.key for r in records}
        self.records = {r.key: r for r in records}
        self.sets: dict[int, tuple[set[str], set[str], set[str]]] = {}

    def _sets(self, root: int) -> tuple[set[str], set[str], set[str]]:
        found = self.sets.get(root)
        if found is None:
            r = self.records[root]
            found = self.sets[root] = (
                {r.code} if r.code else set(), {r.uscc} if r.uscc else set(),
                {str(r.prospect_id)} if r.prospect_id is not None else set())
        return found

    def find(self, key: int) -> int:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: int, b: int, *, check: tuple[int, ...]) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        sa, sb = self._sets(ra), self._sets(rb)
        for i in check:
            if sa[i] and sb[i] and not sa[i] & sb[i]:
                return False
        keep, drop = (ra, rb) if ra < rb else (rb, ra)
        self.parent[drop] = keep
        kept, dropped = self.sets[keep], self.sets.pop(drop)
        for i in range(3):
            kept[i].update(dropped[i])
        return True


_CODE, _USCC, _PROSPECT = 0, 1, 2


def _exact(records: Sequence[MatchRecord], attr: Callable[[MatchRecord], str | None]
           ) -> Iterable[tuple[int, int]]:
    first: dict[str, int] = {}
    for r in records:
        value = attr(r)
        if value is None:
            continue
        if value in first:
            yield first[value], r.key
        else:
            first[value] = r.key


_ORDERS: Final[tuple[Callable[[MatchRecord], str], ...]] = (
    lambda r: r.name, lambda r: r.address or r.name, lambda r: r.name[::-1])


def _neighbours(records: Sequence[MatchRecord], window: int) -> npt.NDArray[np.int64]:
    """The candidate pairs as positions into ``records``: sorted, unique codes
    ``low * len(records) + high`` (low < high)."""
    by_district: dict[str | None, list[int]] = {}
    for i, r in enumerate(records):
        by_district.setdefault(r.district, []).append(i)
    span = len(records)
    chunks = [np.empty(0, dtype=np.int64)]
    for block in by_district.values():
        for order in _ORDERS:
            ranked = np.array(sorted(block, key=lambda i: (order(records[i]), records[i].key)),
                              dtype=np.int64)
            for step in range(1, min(window, len(ranked) - 1) + 1):
                left, right = ranked[:-step], ranked[step:]
                chunks.append(np.minimum(left, right) * span + np.maximum(left, right))
    codes: npt.NDArray[np.int64] = np.sort(np.concatenate(chunks))
    # sorted, then each code once (np.unique hashes int64 here, 40x slower on 1M codes)
    first: npt.NDArray[np.bool_] = np.concatenate((codes[:1] == codes[:1],
                                                   codes[1:] != codes[:-1]))
    return codes[first]


def candidate_pairs(records: Sequence[MatchRecord], *, window: int = WINDOW
                    ) -> set[tuple[int, int]]:
    """Pairs of keys worth a fuzzy comparison (lower key first): neighbours within ``window``
    in three sort orders, inside each district."""
    codes = _neighbours(records, window)
    return {(min(a, b), max(a, b)) for a, b in (
        (records[low].key, records[high].key)
        for low, high in zip(*np.divmod(codes, len(records) or 1), strict=True))}


def _close_names(records: Sequence[MatchRecord], *, window: int
                 ) -> tuple[list[tuple[int, int]], int]:
    """The candidate pairs (keys, lower first) whose names reach ``NAME_THRESHOLD``, and how
    many pairs were compared. The same pairs and the same test as one ``fuzz.ratio(...,
    score_cutoff=NAME_THRESHOLD)`` per pair, but in bulk."""
    codes = _neighbours(records, window)
    if not len(codes):
        return [], 0
    low, high = np.divmod(codes, len(records))
    names = np.array([r.name for r in records], dtype=object)
    scores = process.cpdist(names[low], names[high], scorer=fuzz.ratio,
                            score_cutoff=NAME_THRESHOLD, dtype=np.float64)
    close = np.flatnonzero(scores)
    keys = [(records[a].key, records[b].key)
            for a, b in zip(low[close].tolist(), high[close].tolist(), strict=True)]
    return [(min(a, b), max(a, b)) for a, b in keys], len(codes)


def _better(new: Link, old: Link | None) -> bool:
    return old is None or (_REASON_RANK[new.reason], new.score, -new.other) > (
        _REASON_RANK[old.reason], old.score, -old.other)


def cluster(records: Sequence[MatchRecord], *, window: int = WINDOW) -> Clustering:
    """Group records that are one institution: same code; else same valid USCC (unless their
    codes differ); else alike in name and address in the same district (unless codes, USCCs or
    stored prospects differ). Strongest evidence first, so a fuzzy pair cannot pre-empt an
    exact one; deterministic for the same input."""
    groups = _Groups(records)
    links: dict[int, Link] = {}

    def note(a: int, b: int, link_a: Link, link_b: Link) -> None:
        if _better(link_a, links.get(a)):
            links[a] = link_a
        if _better(link_b, links.get(b)):
            links[b] = link_b

    for a, b in _exact(records, lambda r: r.code):
        if groups.union(a, b, check=(_PROSPECT,)):
            note(a, b, Link(b, MatchReason.CODE, 100), Link(a, MatchReason.CODE, 100))
    for a, b in _exact(records, lambda r: r.uscc):
        if groups.union(a, b, check=(_CODE, _PROSPECT)):
            note(a, b, Link(b, MatchReason.USCC, 100), Link(a, MatchReason.USCC, 100))
    by_key = {r.key: r for r in records}
    # Records already one by code or USCC with the same name and address (a list imported
    # again, row by row) add no comparison their twin does not make: keep one of each.
    distinct: dict[tuple[int, str, str], MatchRecord] = {}
    for r in records:
        distinct.setdefault((groups.find(r.key), r.name, r.address), r)
    scored: list[tuple[int, int, int, Similarity]] = []
    close, compared = _close_names(list(distinct.values()), window=window)
    for a, b in close:  # most pairs were refused on their names already
        left, right = by_key[a], by_key[b]
        if groups.find(a) == groups.find(b) or left.distinct_from(right):
            continue  # already one by code or USCC, or known to be two institutions
        sim = similarity(left, right)
        if sim.same:
            scored.append((-sim.score, a, b, sim))
    for _, a, b, sim in sorted(scored, key=lambda t: t[:3]):
        if groups.union(a, b, check=(_CODE, _USCC, _PROSPECT)):
            note(a, b, Link(b, MatchReason.NAME_ADDRESS, sim.score, sim.name, sim.address),
                 Link(a, MatchReason.NAME_ADDRESS, sim.score, sim.name, sim.address))
    members: dict[int, list[int]] = {}
    for r in records:
        members.setdefault(groups.find(r.key), []).append(r.key)
    ordered = tuple(sorted(tuple(sorted(m)) for m in members.values()))
    kept = {k: v for k, v in links.items() if len(members[groups.find(k)]) > 1}
    return Clustering(ordered, kept, compared)


def all_pairs_count(records: Sequence[MatchRecord]) -> int:
    """How many comparisons blocking by district alone would need (the benchmark's
    baseline)."""
    sizes: dict[str | None, int] = {}
    for r in records:
        sizes[r.district] = sizes.get(r.district, 0) + 1
    return sum(n * (n - 1) // 2 for n in sizes.values())
