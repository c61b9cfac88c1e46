"""The model workbench through the platform's API over real HTTP: a department manager builds a
draft from an uploaded development sample and submits it as the signed-in user; only the
branch manager approves, never their own; the validation report (JSON and Excel) and the
monthly monitoring come from ``modelkit`` and are read within the caller's scope; bad uploads
are refused beside the field and change nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import token_client
from tests.support.flow import city, likely_admitted, world
from tests.support.modelkit import synthetic_observations
from yibaodai.db.models import CaseRow, DecisionRow, ModelVersionRow
from yibaodai.modelkit.build import BuildReport
from yibaodai.modelkit.export import export_version, latest_report
from yibaodai.modelkit.samples import write_csv
from yibaodai.sim.server import ServerThread

CSV = {"content-type": "text/csv"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A labelled development sample and an unlabelled, drifted recent population."""
    path = tmp_path_factory.mktemp("sample") / "sample.csv"
    recent = [replace(o, bad=None) for o in synthetic_observations(500, seed=4, shift=0.8)]
    write_csv(path, synthetic_observations(2400, seed=3) + recent)
    return path.read_bytes()


@pytest.fixture
def clients(bank_server: ServerThread, installation: Installation
            ) -> Iterator[dict[str, httpx.Client]]:
    names = ("gm", "mgr_dl001", "mgr_dl002", "cm_dl001_1", "auditor")
    out = {n: token_client(bank_server.url, n, installation) for n in names}
    yield out
    for c in out.values():
        c.close()


def _versions(installation: Installation) -> int:
    with installation.bank.db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(ModelVersionRow)) or 0)


def _build(client: httpx.Client, sample: bytes, **params: object) -> httpx.Response:
    return client.post("/api/models/builds", content=sample, headers=CSV,
                       params={"label": "wb-test", **params}, timeout=120)


def test_a_department_manager_builds_and_submits_a_draft_and_only_another_branch_manager_approves(
        clients: dict[str, httpx.Client], sample: bytes) -> None:
    r = _build(clients["mgr_dl001"], sample, submit=True, pdo=40, base_score=500)
    assert r.status_code == 200, r.text
    made = r.json()
    assert (made["stage"], made["created_by"]) == ("submitted", "mgr_dl001")
    card = made["content"]["scorecards"]["pharmacy"]
    assert card["characteristics"], "the build kept no characteristic"
    # the maker's options reached the scaling: base points near 500 at PDO 40, not 600 / 20
    assert abs(card["base_points"] - 500) < 200
    vid = made["id"]

    refused = clients["mgr_dl001"].post(f"/api/models/{vid}/actions", json={"action": "approve"})
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    approved = clients["gm"].post(f"/api/models/{vid}/actions", json={"action": "approve"})
    assert approved.status_code == 200 and approved.json()["stage"] == "approved"

    own = _build(clients["gm"], sample, submit=True, label="wb-gm")
    assert own.status_code == 200, own.text
    four_eyes = clients["gm"].post(f"/api/models/{own.json()['id']}/actions",
                                   json={"action": "approve"})
    assert four_eyes.status_code == 403 and four_eyes.json()["code"] == "four_eyes"

    for who in ("cm_dl001_1", "auditor"):
        assert _build(clients[who], sample).status_code == 403


def test_the_validation_report_reads_the_build_and_the_excel_holds_the_same_figures(
        clients: dict[str, httpx.Client], sample: bytes, tmp_path: Path) -> None:
    vid = _build(clients["mgr_dl001"], sample).json()["id"]
    r = clients["mgr_dl001"].get(f"/api/models/{vid}/validation")
    assert r.status_code == 200, r.text
    page = r.json()
    dev = page["development"]
    assert dev is not None and dev["thresholds"] == {"watch": 0.1, "shift": 0.25,
                                                      "caution_noise_floor": 0.05}
    view = dev["segments"][0]
    assert 0.6 < view["development"]["test"]["auc"] < 1
    assert view["calibration"] and view["cutoffs"]
    assert sum(b["rows"] for b in view["calibration"]) == view["sample"]["rows"]
    # the recent rows of the sample were drifted: the score's PSI says so
    assert view["stability"]["score"]["status"] in ("watch", "shift")
    # no decisions yet in this bank: the recent report is empty, not an error
    assert page["recent"]["recent_rows"] == 0

    x = clients["mgr_dl001"].get(f"/api/models/{vid}/validation.xlsx")
    assert x.status_code == 200, x.text
    book = load_workbook(io.BytesIO(x.content), read_only=True)
    assert {"Dev Summary", "Dev Calibration", "Dev Cut-offs", "Recent Summary"} <= set(
        book.sheetnames)
    rows = list(book["Dev Summary"].iter_rows(values_only=True))
    header = rows[1]
    auc_col, of_col = header.index("AUC"), header.index("样本 rows of")
    test_row = next(r for r in rows[2:] if r[of_col] == "development/test")
    assert isinstance(test_row[auc_col], float)
    assert test_row[auc_col] == pytest.approx(view["development"]["test"]["auc"])

    missing = clients["gm"].get("/api/models/1/validation")
    assert missing.status_code == 404 and missing.json()["code"] == "no_development"
    assert clients["cm_dl001_1"].get(f"/api/models/{vid}/validation").status_code == 403


@pytest.mark.parametrize(("body", "headers", "field_text"), [
    (b"", CSV, "文件为空"),
    (b"a,b\n1,2\n", {"content-type": "application/json"}, "只接受 CSV"),
    (b"a,b\n1,2\n", CSV, "缺少此列"),
    ("\ufeffobserved_on,bad\n".encode("utf-16"), CSV, "UTF-8"),
])
def test_a_bad_upload_is_refused_beside_the_field_and_changes_nothing(
        clients: dict[str, httpx.Client], installation: Installation, body: bytes,
        headers: dict[str, str], field_text: str) -> None:
    before = _versions(installation)
    r = clients["mgr_dl001"].post("/api/models/builds", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert any(field_text in f["message_zh"] for f in r.json()["fields"]), r.text
    assert _versions(installation) == before


def test_a_sample_too_small_to_fit_is_refused_and_changes_nothing(
        clients: dict[str, httpx.Client], installation: Installation, tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    write_csv(path, synthetic_observations(120, seed=8))
    before = _versions(installation)
    r = clients["mgr_dl001"].post("/api/models/builds", content=path.read_bytes(), headers=CSV)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "sample", r.text
    assert _versions(installation) == before


def test_monitoring_counts_the_live_decisions_of_the_callers_scope_only(
        bank_server: ServerThread, installation: Installation,
        clients: dict[str, httpx.Client], sample: bytes) -> None:
    vid = _build(clients["gm"], sample).json()["id"]
    with world(installation, bank_server.url) as w:
        for inst in likely_admitted(city(80))[:5]:
            w.onboard(inst)
    installation.clock.advance(timedelta(hours=1))  # the decisions are now in the past
    with installation.bank.db.unit_of_work() as s:
        decided = list(s.scalars(select(DecisionRow.fixmedins_code)))
        case_sub = dict(s.execute(select(CaseRow.fixmedins_code, CaseRow.sub_branch_code))
                        .tuples().all())
    assert len(decided) >= 5 and case_sub
    own = max(set(case_sub.values()), key=list(case_sub.values()).count)

    def seen(client: httpx.Client) -> int:
        r = client.get(f"/api/models/{vid}/monitoring", params={"months": 3})
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["thresholds"]["watch"] == 0.1
        return sum(m["decisions"] for m in report["months"])

    assert seen(clients["gm"]) == len(decided)
    with token_client(bank_server.url, f"mgr_{own.lower()}", installation) as manager:
        mine = seen(manager)
    assert mine >= sum(1 for c in decided if case_sub.get(c) == own)
    elsewhere = sum(1 for c in decided if c in case_sub and case_sub[c] != own)
    assert mine <= len(decided) - elsewhere
    r = clients["gm"].get(f"/api/models/{vid}/monitoring", params={"months": 3}).json()
    scored = [g for m in r["months"] for g in m["segments"] if g["stability"]]
    assert scored, "no month had a segment scored"
    light = scored[0]["stability"]["score"]
    assert light["status"] in ("stable", "watch", "shift") and light["noise_floor"] > 0
    assert light["caution"] is True  # a handful of decisions: the floor is far above 0.05
    assert clients["cm_dl001_1"].get(f"/api/models/{vid}/monitoring").status_code == 403


def test_a_validation_attached_in_another_shape_leaves_the_development_tab_empty(
        clients: dict[str, httpx.Client], installation: Installation, sample: bytes) -> None:
    vid = _build(clients["gm"], sample).json()["id"]
    now = installation.clock.now()
    with installation.bank.db.unit_of_work() as s:
        built = BuildReport.model_validate(latest_report(s, version_id=vid, kind="build"))
        other = export_version(s, build=built, username="mgr_dl001", now=now,
                               validation={"kind": "validation", "segments": []})
        s.commit()
    r = clients["gm"].get(f"/api/models/{other}/validation")
    assert r.status_code == 200, r.text
    assert r.json()["development"] is None and r.json()["recent"]["segments"]
