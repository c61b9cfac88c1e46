"""Hostile input at the API edge (issue 14): ids beyond any integer column, text that no
database can store, and booleans that are not booleans. Each must answer a clear 4xx and
change nothing — never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import CHECKLIST_ALL, ROLE_OF, make_world
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import CaseEventRow
from yibaodai.sim.server import ServerThread
from yibaodai.web.permissions import ROUTES, may

ID_PARAM = re.compile(r"\{(\w+_id)\}")
#: Past the 64-bit integer columns (SQLite's driver raised OverflowError: a 500), at zero
#: and below it.
HOSTILE_IDS = ("9223372036854775808", "0", "-1", "99999999999999999999999999",
               "2147483648")  # the last: past PostgreSQL's integer column (schemathesis)


def _event_count(installation: Installation) -> int:
    with installation.bank.db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(CaseEventRow)) or 0)


def test_every_route_with_an_integer_id_refuses_ids_out_of_range_with_a_4xx(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    before = _event_count(installation)
    tried = 0
    for (method, path), permission in sorted(ROUTES.items()):
        if not ID_PARAM.search(path) or path.endswith("/logout"):
            continue
        label = next((label for label, role in ROLE_OF.items()
                      if role is not None and may(role, permission)), None)
        if label is None:
            continue
        for hostile in HOSTILE_IDS:
            url = ID_PARAM.sub(hostile, path)
            r = w.clients[label].request(method, url, json={})
            tried += 1
            assert r.status_code in (404, 422), (method, url, r.status_code, r.text[:300])
            body = r.json()
            assert body.get("message_zh") and body.get("message_en"), (url, body)
    assert tried >= 4 * 10  # every id route, not a sample
    assert _event_count(installation) == before
    w.close()


@pytest.mark.parametrize("hostile", ["\ud800", "a\udfffb", "\x00", "\u200b\u200b\u200b"])
def test_text_no_database_can_store_or_no_one_can_read_is_refused_beside_its_field(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock,
        hostile: str) -> None:
    w = make_world(bank_server, installation, clock)
    cm = w.clients["client_manager"]
    assert cm.post(f"/api/cases/{w.case_a.id}/claim").status_code == 200
    before = _event_count(installation)
    checklist = {**CHECKLIST_ALL, hostile: True}

    def post(path: str, payload: dict[str, object]) -> httpx.Response:
        # escaped as \\uXXXX on the wire, as a hostile client sends it (httpx would refuse
        # to encode a lone surrogate itself)
        return cm.post(path, content=json.dumps(payload).encode("ascii"),
                       headers={"Content-Type": "application/json"})

    as_key = post(f"/api/cases/{w.case_a.id}/verification",
                  {"checklist": checklist, "note": "现场核实"})
    as_note = post(f"/api/cases/{w.case_a.id}/verification",
                   {"checklist": CHECKLIST_ALL, "note": hostile})
    outcome = post(f"/api/warnings/{w.warn_a}/outcome", {"outcome": hostile})
    for r in (as_key, as_note, outcome):
        assert r.status_code == 422, r.text[:300]
        assert r.json()["fields"], r.text[:300]
    assert _event_count(installation) == before
    w.close()


def test_a_boolean_is_a_boolean(bank_server: ServerThread, installation: Installation,
                                clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    cm = w.clients["client_manager"]
    assert cm.post(f"/api/cases/{w.case_a.id}/claim").status_code == 200
    for loose in ("yes", "true", 1, "1"):
        r = cm.post(f"/api/cases/{w.case_a.id}/verification",
                    json={"checklist": {**CHECKLIST_ALL, "address": loose}, "note": "现场"})
        assert r.status_code == 422, (loose, r.text[:300])
        assert any("address" in f["field"] for f in r.json()["fields"]), r.text[:300]
    w.close()


def test_a_body_past_the_limit_is_refused_while_it_is_read(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    cm = w.clients["client_manager"]
    limit = installation.settings.api_json_max_bytes
    url = f"/api/cases/{w.case_a.id}/verification"
    big = b'{"note": "' + b"x" * (limit + 10) + b'"}'
    declared = cm.post(url, content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and declared.json()["code"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"note": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    streamed = cm.post(url, content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["message_zh"].startswith("请求体过大")
    deep = b"[" * 200_000 + b"]" * 200_000  # under the limit, deeper than any parser's stack
    nested = cm.post(url, content=deep, headers={"Content-Type": "application/json"})
    assert 400 <= nested.status_code < 500, nested.text[:300]
    assert cm.get(f"/api/cases/{w.case_a.id}").json()["case"]["state"] == "assigned"
    w.close()


def test_an_integer_no_column_can_hold_is_refused_in_a_query_or_a_body(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    """Found by schemathesis (``test_api_fuzz``): ``?case_id=`` and ``{"from_id": ...}`` past
    2⁶³ reached the database and answered 500 (past 2³¹ on PostgreSQL); so did
    ``/api/models/diff?a=``."""
    w = make_world(bank_server, installation, clock)
    huge, past_int4 = 22955852729058649440256, 2**31
    mgr = w.clients["sub_branch_manager"]
    answers = [mgr.get("/api/warnings", params={"case_id": huge}),
               mgr.get("/api/warnings", params={"case_id": past_int4}),
               mgr.get("/api/models/diff", params={"a": huge, "b": 1}),
               mgr.get("/api/models/diff", params={"a": past_int4, "b": 1}),
               mgr.post("/api/models", json={"from_id": huge}),
               mgr.post("/api/models", json={"from_id": -past_int4}),
               mgr.post("/api/models", json={"from_id": 1, "changes": {"x": [-huge]}})]
    for r in answers:
        assert r.status_code == 422, (r.request.url, r.status_code, r.text[:200])
        assert r.json()["fields"] and r.json()["fields"][0]["message_zh"], r.text[:200]
    w.close()


def test_a_body_that_is_not_utf8_is_a_field_level_422_not_a_bare_400(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    """Found by schemathesis in negative mode: ``-d '\\xff'`` answered FastAPI's bare 400 (an
    undeclared status, and the error shape said "no such API route")."""
    w = make_world(bank_server, installation, clock)
    for path in ("/api/models", "/api/me/password", "/api/marketing/campaigns"):
        r = w.clients["sub_branch_manager"].post(
            path, content=b"\xff\xfe{", headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (path, r.status_code, r.text[:200])
        assert r.json()["fields"][0]["field"] == "body", r.text[:200]
    w.close()
