"""The bureau's list of all designated institutions of the synthetic city, as a messy Excel
file of the kind bureaus really hand over: a merged title, a line of notes, a group header
above the column names and a hint line under them, the district merged down each block of
rows, blank lines between blocks, a header repeated at a page break, a total line and a
remark at the end; full-width characters and stray spaces, phone numbers and dates in
mixed formats, some missing or invalid USCCs, a few rows that cannot be used, and about 5 %
near-duplicates (the same institution again under a variant of its name).

``write_bureau_list`` returns a manifest of what it injected, so a test can compare an
import's report with it.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import xlsxwriter

from yibaodai.domain.codes import DALIAN_DISTRICTS, USCC_ALPHABET
from yibaodai.sim.city import SyntheticInstitution

_HEADERS: Final[tuple[tuple[str, ...], ...]] = (
    ("序号",),
    ("机构名称", "定点医药机构名称", "单位名称"),
    ("医保编码", "定点医药机构编号"),
    ("统一社会信用代码", "信用代码"),
    ("类型", "机构类型"),
    ("区县", "所属区域"),
    ("地址", "经营地址"),
    ("联系人",),
    ("联系电话", "电话"),
    ("定点日期",),
    ("经度",),
    ("纬度",),
)
_GROUPS: Final = (("基本信息", 0, 5), ("地址及联系方式", 6, 8), ("定点信息", 9, 11))
_FULLWIDTH: Final = {c: chr(ord(c) + 0xFEE0) for c in "0123456789"}


@dataclass
class BureauListManifest:
    """What the file holds, as the generator made it."""

    institutions: int
    data_rows: int
    near_duplicates: int
    refusable: int
    invalid_usccs: int
    missing_usccs: int
    blank_lines: int
    duplicate_rows: dict[int, int] = field(default_factory=dict)  # sheet row -> original row
    refused_rows: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"institutions": self.institutions, "data_rows": self.data_rows,
                "near_duplicates": self.near_duplicates, "refusable": self.refusable,
                "invalid_usccs": self.invalid_usccs, "missing_usccs": self.missing_usccs,
                "blank_lines": self.blank_lines}


def _spaced(rng: random.Random, text: str) -> str:
    """Full-width digits, an ideographic space or a stray space, now and then."""
    roll = rng.random()
    if roll < 0.05:
        return "".join(_FULLWIDTH.get(c, c) for c in text)
    if roll < 0.10 and len(text) > 4:
        cut = rng.randint(2, len(text) - 2)
        return text[:cut] + rng.choice((" ", "\u3000")) + text[cut:]
    if roll < 0.13:
        return f" {text} "
    return text


def _name_variant(rng: random.Random, name: str) -> str:
    """The same institution as another office types it."""
    variants = [name.replace("有限公司", ""), "大连市" + name.removeprefix("大连"),
                name.replace("（", "(").replace("）", ")") + " ",
                name[:-1] + "分店" if name.endswith("店") else name + " "]
    return rng.choice([v for v in variants if v != name] or [name + " "])


def _address_variant(rng: random.Random, address: str) -> str:
    short = address.removeprefix("辽宁省").removeprefix("大连市")
    return rng.choice((short, "".join(_FULLWIDTH.get(c, c) for c in address), "大连市" + short))


def _phone(rng: random.Random, inst: SyntheticInstitution) -> Any:
    local = inst.contact_phone.removeprefix("0411-")
    mobile = f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"
    return rng.choice((
        inst.contact_phone, f"(0411){local}", local, f"0411 {local[:4]} {local[4:]}",
        f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"+86 {mobile}", int(mobile),
        f"{inst.contact_phone}/{mobile}", "".join(_FULLWIDTH.get(c, c) for c in mobile)))


def _date(rng: random.Random, day: date) -> Any:
    return rng.choice((day, day, f"{day.year}年{day.month}月{day.day}日",
                       f"{day.year}/{day.month}/{day.day}", int(day.strftime("%Y%m%d")),
                       day.isoformat()))


def _kind(rng: random.Random, inst: SyntheticInstitution) -> str:
    if inst.fixmedins_type == "2":
        return rng.choice(("定点零售药店", "零售药店", "2"))
    return rng.choice(("定点医疗机构", "医疗机构", "1"))


def _broken_uscc(rng: random.Random, uscc: str) -> str:
    wrong = rng.choice([c for c in USCC_ALPHABET if c != uscc[17]])
    return uscc[:17] + wrong


def _row(rng: random.Random, inst: SyntheticInstitution, manifest: BureauListManifest,
         *, duplicate: bool, keys: str) -> list[Any]:
    """One row: ``keys`` says which identifiers it carries ("code", "uscc", "none")."""
    uscc: Any = inst.uscc
    roll = rng.random()
    if keys == "none" or (not duplicate and roll < 0.04):
        uscc = ""
        manifest.missing_usccs += 1
    elif not duplicate and roll < 0.07:
        uscc = _broken_uscc(rng, inst.uscc)
        manifest.invalid_usccs += 1
    elif roll < 0.12:
        uscc = f"{inst.uscc[:6]} {inst.uscc[6:]}".lower()
    name = _name_variant(rng, inst.fixmedins_name) if duplicate else _spaced(
        rng, inst.fixmedins_name)
    address = _address_variant(rng, inst.addr) if duplicate else inst.addr
    has_coordinates = rng.random() < 0.9
    return [None, name, inst.fixmedins_code if keys == "code" else "", uscc, _kind(rng, inst),
            None, address, inst.legrep_name, _phone(rng, inst), _date(rng, inst.begntime),
            f"{inst.longitude:.6f}" if has_coordinates else "",
            f"{inst.latitude:.6f}" if has_coordinates else ""]


def _refusable(rng: random.Random, inst: SyntheticInstitution) -> list[list[Any]]:
    """Rows no import can use: no name (twice), and an institution outside the city."""
    rows = []
    for _ in range(2):
        rows.append([None, "", "", "", "", None, inst.addr, "", inst.contact_phone, "", "", ""])
    rows.append([None, "沈阳市和平区惠民大药房", "", "", "零售药店", None,
                 "辽宁省沈阳市和平区南京北街8号", "", "024-23456789", "2020/5/1", "", ""])
    return rows


def write_bureau_list(city: Sequence[SyntheticInstitution], target: Path | io.BytesIO, *,
                      seed: int, as_of: date, duplicate_share: float = 0.05
                      ) -> BureauListManifest:
    """Write the city's list to ``target`` (.xlsx) and say what is in it."""
    rng = random.Random(f"yibaodai-bureau-list|{seed}")
    manifest = BureauListManifest(institutions=len(city), data_rows=0, near_duplicates=0,
                                  refusable=0, invalid_usccs=0, missing_usccs=0,
                                  blank_lines=0)
    by_district: dict[str, list[SyntheticInstitution]] = {}
    for inst in city:
        by_district.setdefault(inst.area_code, []).append(inst)
    duplicated = set(rng.sample(range(len(city)), round(len(city) * duplicate_share)))
    index_of = {inst.fixmedins_code: i for i, inst in enumerate(city)}

    book = xlsxwriter.Workbook(target, {"in_memory": True})
    sheet = book.add_worksheet("定点医药机构")
    bold = book.add_format({"bold": True, "align": "center", "valign": "vcenter"})
    title = book.add_format({"bold": True, "font_size": 16, "align": "center"})
    dated = book.add_format({"num_format": "yyyy-mm-dd"})
    merged_cell = book.add_format({"valign": "vcenter"})
    last_col = len(_HEADERS) - 1
    sheet.merge_range(0, 0, 0, last_col,
                      f"大连市定点医药机构名单（截至{as_of:%Y年%m月%d日}）", title)
    sheet.write(1, 0, "制表单位：大连市医疗保障局")
    sheet.write(1, 9, f"数据日期：{as_of.isoformat()}")
    for text, first, last in _GROUPS:
        sheet.merge_range(2, first, 2, last, text, bold)
    header = [rng.choice(options) for options in _HEADERS]
    sheet.write_row(3, 0, header, bold)
    sheet.write(4, 1, "（必填）")
    sheet.write(4, 3, "（18位）")
    r = 5
    seq = 0

    def put(row: list[Any]) -> None:
        nonlocal r, seq
        seq += 1
        row[0] = seq
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, dated)
            elif value is not None and value != "":
                sheet.write(r, c, value)
        manifest.data_rows += 1
        r += 1

    for block, district in enumerate(sorted(by_district)):
        start = r
        for inst in by_district[district]:
            original = r + 1
            put(_row(rng, inst, manifest, duplicate=False, keys="code"))
            if index_of[inst.fixmedins_code] in duplicated:
                keys = rng.choice(("code", "uscc", "none"))
                put(_row(rng, inst, manifest, duplicate=True, keys=keys))
                manifest.duplicate_rows[r] = original
                manifest.near_duplicates += 1
        name = DALIAN_DISTRICTS[district][0]
        label = rng.choice((name, name, name[:-1], district))
        if r - start > 1:
            sheet.merge_range(start, 5, r - 1, 5, label, merged_cell)
        else:
            sheet.write(start, 5, label)
        r += 1  # a blank line between blocks
        manifest.blank_lines += 1
        if block == 2:
            sheet.write_row(r, 0, header, bold)  # the header again, at a page break
            r += 1
    if city:
        for row in _refusable(rng, city[0]):
            manifest.refused_rows.append(r + 1)
            put(row)
            manifest.refusable += 1
    sheet.write(r, 0, "合计")
    sheet.write(r, 1, f"共{manifest.data_rows}条")
    sheet.merge_range(r + 1, 0, r + 1, last_col,
                      "注：本名单仅供合作银行开展医保贷业务营销使用，请勿外传。")
    book.close()
    return manifest
