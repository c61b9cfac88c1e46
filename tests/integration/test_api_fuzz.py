"""Schemathesis against the running service's own OpenAPI schema (issue 14, "Fuzzing"): every
operation, signed in as a sub-branch department manager and as a client manager (bearer
tokens), with a fixed seed (``SEED``) and a fixed number of examples per operation, drawn
from data the schema allows and from data it does not (schemathesis' negative mode). Every
answer must be a non-5xx, with a status code, content type, headers and body the schema
declares for that operation (error bodies included: ``schemas.ErrorResponse``).

Every finding of every operation is collected before the test fails, so one run lists them
all. The schema comes from the server over HTTP, as a client would see it."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.core.failures import Failure, FailureGroup

from tests.conftest import Installation
from tests.integration.test_routes_by_role import make_world
from yibaodai.clock import SimulatedClock
from yibaodai.sim.server import ServerThread

#: Examples per operation and role (``YIBAODAI_FUZZ_EXAMPLES`` raises it for a longer run).
EXAMPLES = int(os.environ.get("YIBAODAI_FUZZ_EXAMPLES", "10"))
#: Generation modes: data the schema allows, and data it does not (``YIBAODAI_FUZZ_MODES``).
MODES = [GenerationMode(m) for m in
         os.environ.get("YIBAODAI_FUZZ_MODES", "positive,negative").split(",")]
#: The fixed seed of every operation's examples (the same requests on every run).
SEED = 20261201
ROLES = ("sub_branch_manager", "client_manager")
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance,
          st_checks.content_type_conformance, st_checks.response_headers_conformance,
          st_checks.response_schema_conformance]


def _token(base: str, username: str, installation: Installation) -> str:
    r = httpx.post(f"{base}/api/auth/token", json={
        "username": username, "password": installation.accounts[username].password})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _run(operation: Any, base: str, auth: dict[str, str], seen: list[int]) -> list[str]:
    found: list[str] = []

    @seed(SEED)
    @settings(max_examples=EXAMPLES, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of([operation.as_strategy(generation_mode=m) for m in MODES]))
    def probe(case: Any) -> None:
        response = case.call(base_url=base, headers=auth, timeout=60)
        seen.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, Failure, FailureGroup) as exc:  # one line per kind of finding
            kinds = [getattr(e, "title", type(e).__name__)
                     for e in getattr(exc, "exceptions", [exc])]
            line = f"{operation.method.upper()} {operation.path}: {', '.join(kinds)}"
            if not any(f.startswith(line) for f in found):
                found.append(f"{line} [{response.status_code}] {case.as_curl_command()}"[:700])

    probe()
    return found


def test_every_operation_answers_as_its_schema_declares_for_a_manager_and_a_client_manager(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    w = make_world(bank_server, installation, clock)
    schema = schemathesis.openapi.from_url(f"{bank_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 60  # every operation of the API, not a sample
    started = time.monotonic()
    findings: list[str] = []
    seen: list[int] = []
    # a fresh token for each operation, issued before the run (the fuzzer logs out, revokes
    # tokens, and fails log-ins until the address is throttled)
    tokens = {(label, i): _token(bank_server.url, str(w.users[label]), installation)
              for label in ROLES for i in range(len(operations))}
    for label in ROLES:
        for i, operation in enumerate(operations):
            auth = {"Authorization": f"Bearer {tokens[label, i]}"}
            findings += [f"{label}: {f}"
                         for f in _run(operation, bank_server.url, auth, seen)]
    w.close()
    assert not findings, "\n".join(findings)
    # the run reached the routes, not only their doors
    assert len(seen) >= 2 * len(operations) * 2, len(seen)
    assert {200, 404, 422} <= set(seen), sorted(set(seen))
    print(f"{len(seen)} calls, statuses {sorted(set(seen))}")
    assert time.monotonic() - started < 600
