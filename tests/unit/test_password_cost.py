"""The floors of the password hashes' cost, checked in a fresh interpreter because the test
session lowers the cost (``use_cheapest_parameters_for_tests``)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json
from argon2 import extract_parameters
from yibaodai.auth.passwords import hash_demo_password, hash_password, verify_password
people, demo = hash_password("Yb-a-person-1"), hash_demo_password("Yb-demo-0001")
out = {}
for name, h in (("people", people), ("demo", demo)):
    p = extract_parameters(h)
    out[name] = {"type": p.type.name, "m": p.memory_cost, "t": p.time_cost}
out["demo_verifies"] = verify_password(demo, "Yb-demo-0001")
out["demo_wrong"] = verify_password(demo, "Yb-demo-0002")
print(json.dumps(out))
"""


def test_people_get_rfc9106_and_demo_accounts_owasp_minimum() -> None:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True)
    got = json.loads(run.stdout)
    assert got["people"]["type"] == got["demo"]["type"] == "ID"
    # RFC 9106 low-memory profile: 64 MiB, 3 passes.
    assert got["people"]["m"] >= 64 * 1024 and got["people"]["t"] >= 3
    # OWASP's minimum argon2id configuration: 19 MiB, 2 passes.
    assert got["demo"]["m"] >= 19 * 1024 and got["demo"]["t"] >= 2
    assert got["demo"]["m"] < got["people"]["m"]
    assert got["demo_verifies"] is True and got["demo_wrong"] is False
