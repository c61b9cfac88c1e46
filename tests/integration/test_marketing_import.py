"""Importing the bureau's list on real SQLite and PostgreSQL: the simulator's messy Excel file,
re-imports, updated lists as CSV, unreadable files, links to what the bank already knows, and
the assignment of every prospect."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import START
from yibaodai.audit.log import verify_chain
from yibaodai.bootstrap import seed_demo_users
from yibaodai.db.models import (
    AuditRow,
    CaseRow,
    DecisionRow,
    InstitutionRow,
    ListImportRow,
    ProspectMatchRow,
    ProspectRow,
    SlaPenaltyRow,
    SubBranchRow,
    UserRow,
)
from yibaodai.db.session import Database
from yibaodai.domain.organisation import haversine_km
from yibaodai.errors import ValidationFailed
from yibaodai.marketing import import_list, import_report_xlsx
from yibaodai.sim.bureau_list import BureauListManifest, write_bureau_list
from yibaodai.sim.city import SyntheticInstitution, generate_city

AS_OF = date(2026, 8, 31)


@pytest.fixture
def staffed(db: Database) -> Database:
    with db.unit_of_work() as s:
        seed_demo_users(s, seed=1)
        s.commit()
    return db


def city(n: int) -> list[SyntheticInstitution]:
    return generate_city(seed=5, institutions=n, as_of=AS_OF)


def bureau_list(institutions: list[SyntheticInstitution]) -> tuple[bytes, BureauListManifest]:
    out = io.BytesIO()
    manifest = write_bureau_list(institutions, out, seed=5, as_of=AS_OF)
    return out.getvalue(), manifest


def run_import(db: Database, data: bytes, name: str = "名单.xlsx",
               at: datetime = START) -> dict[str, object]:
    with db.unit_of_work() as s:
        report = import_list(s, data=data, filename=name, actor="admin", now=at).as_dict()
        s.commit()
    return report


def count(s: Session, model: type) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_the_simulated_list_imports_with_the_counts_the_generator_injected(
        staffed: Database) -> None:
    institutions = city(150)
    data, manifest = bureau_list(institutions)
    report = run_import(staffed, data)
    assert report["read"] == manifest.data_rows
    assert report["new"] == manifest.institutions
    assert report["merged"] == manifest.near_duplicates
    assert report["updated"] == 0
    assert [r["row"] for r in report["refused"]] == manifest.refused_rows  # type: ignore[index]
    warnings = Counter(w["code"] for w in report["warnings"])  # type: ignore[attr-defined]
    assert warnings["invalid_uscc"] == manifest.invalid_usccs
    assert warnings["uscc_missing"] == manifest.missing_usccs
    merged_into = {m["row"]: m["into_row"] for m in report["merges"]}  # type: ignore[attr-defined]
    assert merged_into == manifest.duplicate_rows
    with staffed.unit_of_work() as s:
        prospects = s.scalars(select(ProspectRow)).all()
        codes = {p.fixmedins_code for p in prospects}
        assert codes == {i.fixmedins_code for i in institutions}
        assert count(s, ProspectMatchRow) == manifest.data_rows
        assert verify_chain(s) is None


def test_every_prospect_goes_to_the_nearest_sub_branch_serving_its_district_balanced(
        staffed: Database) -> None:
    data, _ = bureau_list(city(200))
    run_import(staffed, data)
    with staffed.unit_of_work() as s:
        subs = {r.code: r for r in s.scalars(select(SubBranchRow))}
        managers = {u.id: u.sub_branch_code for u in s.scalars(select(UserRow).where(
            UserRow.role == "client_manager"))}
        loads: Counter[int] = Counter()
        for p in s.scalars(select(ProspectRow)):
            assert p.sub_branch_code is not None
            chosen = subs[p.sub_branch_code]
            assert p.district in chosen.districts
            if p.latitude is not None and p.longitude is not None:
                serving = [x for x in subs.values() if p.district in x.districts]
                best = min(haversine_km(p.latitude, p.longitude, x.latitude, x.longitude)
                           for x in serving)
                assert haversine_km(p.latitude, p.longitude, chosen.latitude,
                                    chosen.longitude) == best
            assert p.client_manager_id is not None
            assert managers[p.client_manager_id] == p.sub_branch_code
            loads[p.client_manager_id] += 1
        for sub in subs:
            mine = [loads[m] for m, code in managers.items() if code == sub]
            assert max(mine) - min(mine) <= 1


def test_importing_the_same_list_again_updates_instead_of_duplicating(
        staffed: Database) -> None:
    data, manifest = bureau_list(city(80))
    first = run_import(staffed, data)
    with staffed.unit_of_work() as s:
        assigned = {p.id: (p.sub_branch_code, p.client_manager_id)
                    for p in s.scalars(select(ProspectRow))}
    again = run_import(staffed, data, at=START + timedelta(days=1))
    assert (again["new"], again["updated"], again["merged"]) == (
        0, first["new"], manifest.near_duplicates)
    assert again["changed"] == 0
    with staffed.unit_of_work() as s:
        assert count(s, ProspectRow) == first["new"]
        assert {p.id: (p.sub_branch_code, p.client_manager_id)
                for p in s.scalars(select(ProspectRow))} == assigned


def test_an_updated_list_as_gb18030_csv_refreshes_what_changed_and_adds_the_new(
        staffed: Database) -> None:
    institutions = city(30)
    run_import(staffed, bureau_list(institutions)[0])
    a, b = institutions[0], institutions[1]
    lines = ["定点机构名称,定点医药机构编号,信用代码,手机,经营地址,所属区县",
             f"{a.fixmedins_name},{a.fixmedins_code},,13912345678,{a.addr},",
             f"大连市{b.fixmedins_name.removeprefix('大连')},,,,{b.addr},",
             "大连新开张大药房有限公司,,,0411-88888888,辽宁省大连市中山区人民路1号,中山区",
             "合计,3,,,,"]
    report = run_import(staffed, "\r\n".join(lines).encode("gb18030"), name="更新.csv")
    assert (report["read"], report["new"], report["updated"], report["merged"]) == (3, 1, 2, 0)
    with staffed.unit_of_work() as s:
        first = s.scalars(select(ProspectRow).where(
            ProspectRow.fixmedins_code == a.fixmedins_code)).one()
        assert "13912345678" in first.phones
        assert first.uscc is not None  # an empty cell does not blank the stored USCC
        added = s.scalars(select(ProspectRow).where(ProspectRow.name == "大连新开张大药房有限公司")
                          ).one()
        assert added.district == "210202" and added.phones == ["0411-88888888"]


@pytest.mark.parametrize(("content", "name", "says"), [
    (b"PK\x03\x04 not really a zip", "名单.xlsx", "Excel"),
    (b"", "empty.csv", "empty"),
    ("序号,电话\n1,82345678\n".encode(), "no-header.csv", "header"),
    (b"\xd0\xcf\x11\xe0 damaged", "old.xls", "Excel"),
])
def test_a_file_that_cannot_be_read_changes_nothing_and_says_why(
        staffed: Database, content: bytes, name: str, says: str) -> None:
    run_import(staffed, bureau_list(city(20))[0])
    with staffed.unit_of_work() as s:
        before = (count(s, ProspectRow), count(s, ListImportRow), count(s, AuditRow))
    with pytest.raises(ValidationFailed) as caught, staffed.unit_of_work() as s:
        import_list(s, data=content, filename=name, actor="admin", now=START)
    assert caught.value.code == "list_unreadable"
    assert says in caught.value.message_en
    assert caught.value.message_zh.startswith("无法读取名单文件")
    with staffed.unit_of_work() as s:
        assert (count(s, ProspectRow), count(s, ListImportRow), count(s, AuditRow)) == before


def _known_borrower(s: Session, inst: SyntheticInstitution, *, drawn: bool) -> CaseRow:
    s.add(InstitutionRow(fixmedins_code=inst.fixmedins_code, fixmedins_name=inst.fixmedins_name,
                         uscc=inst.uscc, area_code=inst.area_code, addr=inst.addr,
                         latitude=inst.latitude, longitude=inst.longitude, updated_at=START))
    decision = DecisionRow(fixmedins_code=inst.fixmedins_code, decided_at=START,
                           trigger="test", result="admitted", credit_limit=Decimal("300000.00"),
                           reasons=[], inputs={}, rule_version="t", content_hash="0" * 64)
    s.add(decision)
    s.flush()
    case = CaseRow(fixmedins_code=inst.fixmedins_code, decision_id=decision.id,
                   sub_branch_code="DL001", state="drawn" if drawn else "assigned",
                   credit_limit=Decimal("300000.00"), assigned_at=START,
                   claim_deadline=START + timedelta(days=2),
                   loan_drawn=Decimal("250000.00") if drawn else None)
    s.add(case)
    s.flush()
    return case


def test_prospects_are_linked_to_the_institutions_cases_and_loans_the_bank_knows(
        staffed: Database) -> None:
    institutions = city(40)
    with staffed.unit_of_work() as s:
        _known_borrower(s, institutions[3], drawn=True)
        _known_borrower(s, institutions[4], drawn=False)
        s.commit()
    report = run_import(staffed, bureau_list(institutions)[0])
    assert report["linked"] == {"institutions": 2, "cases": 2, "loans": 1}
    with staffed.unit_of_work() as s:
        linked = s.scalars(select(ProspectRow).where(ProspectRow.institution_code.is_not(None))
                           ).all()
        assert {(p.institution_code, p.link_reason) for p in linked} == {
            (institutions[3].fixmedins_code, "fixmedins_code"),
            (institutions[4].fixmedins_code, "fixmedins_code")}


def test_a_sub_branch_under_penalty_gets_no_new_prospects(staffed: Database) -> None:
    institutions = [i for i in city(120) if i.area_code == "210202"]
    with staffed.unit_of_work() as s:
        case = _known_borrower(s, city(121)[-1], drawn=False)
        for code in ("DL001", "DL002"):
            s.add(SlaPenaltyRow(sub_branch_code=code, case_id=case.id, kind=f"claim-{code}",
                                deadline=START, detected_at=START,
                                until=START + timedelta(days=30)))
        s.commit()
    run_import(staffed, bureau_list(institutions)[0])
    with staffed.unit_of_work() as s:
        used = set(s.scalars(select(ProspectRow.sub_branch_code)))
    assert used == {"DL003"}  # 中山区 is served by DL001, DL002 and DL003


def test_the_report_is_also_an_excel_workbook(staffed: Database, tmp_path: Path) -> None:
    report = run_import(staffed, bureau_list(city(40))[0])
    data = import_report_xlsx(report, produced_by="admin", produced_at=START)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["汇总", "拒绝", "警告", "合并"]
    refused = [r for r in book["拒绝"].iter_rows(min_row=4, values_only=True)]
    assert [r[0] for r in refused] == [i["row"] for i in report["refused"]]  # type: ignore[index]
    assert all(isinstance(r[0], int) for r in refused)
    assert book["合并"].freeze_panes == "A4"


def test_the_import_benchmark_runs_at_toy_size_and_checks_its_counts(tmp_path: Path) -> None:
    """The benchmark itself asserts read/new/merged/refused against the generator; here it
    only has to finish (its numbers are not checked in a test)."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    backends = "sqlite,postgresql" if os.environ.get("YIBAODAI_TEST_POSTGRES_URL") else "sqlite"
    out = tmp_path / "bench-marketing.md"
    done = subprocess.run([sys.executable, "-m", "bench.marketing_import", "--rows", "300",
                           "--sizes", "150,300", "--repeat", "1", "--backends", backends,
                           "--out", str(out)], cwd=root, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert set(result["imports"]) == set(backends.split(","))
    assert [d["rows"] for d in result["dedup"]] == [147, 297]
    assert "## Measured numbers" in out.read_text(encoding="utf-8")
