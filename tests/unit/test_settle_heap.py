"""``settle_heap`` (what ``yibaodai serve`` does before serving): the objects alive at start-up
leave the collector's generations, so a full collection no longer walks them."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json
from yibaodai.runtime import settle_heap
from yibaodai.web.app import create_app  # the heavy imports a server holds
kept = [object() for _ in range(1000)]
tracked_before = len(gc.get_objects())
frozen_before = gc.get_freeze_count()
settle_heap()
print(json.dumps({"tracked_before": tracked_before, "tracked_after": len(gc.get_objects()),
                  "frozen_before": frozen_before, "frozen_after": gc.get_freeze_count()}))
"""


def test_start_up_objects_leave_the_collectors_generations() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["frozen_before"] == 0
    assert seen["frozen_after"] > 10_000  # the app and its libraries, not a handful
    assert seen["tracked_after"] < seen["tracked_before"] / 10
