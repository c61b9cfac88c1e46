"""The bank's two receivers (the bureau and head-office simulators) as real HTTP servers for
tests that run the bank as processes, with what an operator would set to reach them, and a
way to take them down and bring them back on the same address (an outage)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.support.processes import YIBAODAI
from yibaodai.bootstrap import keyring
from yibaodai.clock import Clock, SystemClock
from yibaodai.settings import Settings
from yibaodai.sim.bureau import ANSWER_PATH, bureau_app
from yibaodai.sim.headoffice import WHITELIST_PATH, head_office_app
from yibaodai.sim.peer import Inbox
from yibaodai.sim.server import ServerThread

#: The worker's poll: a message queued now is sent within this (plus the send itself).
DISPATCH_INTERVAL = 1.0


@dataclass
class Receivers:
    bureau: ServerThread
    bureau_inbox: Inbox
    head_office: ServerThread
    head_office_inbox: Inbox
    bureau_app: FastAPI
    head_office_app: FastAPI

    @classmethod
    def start(cls, keys_dir: Path, clock: Clock) -> Receivers:
        b_app, b_inbox = bureau_app(keyring=keyring(keys_dir, "bureau"), clock=clock)
        h_app, h_inbox = head_office_app(keyring=keyring(keys_dir, "headoffice"), clock=clock)
        return cls(ServerThread(b_app).start(), b_inbox, ServerThread(h_app).start(), h_inbox,
                   b_app, h_app)

    def down(self) -> None:
        """Both receivers stop answering (connections are refused); what they recorded
        stays."""
        self.bureau.stop()
        self.head_office.stop()

    def up(self) -> None:
        """Both back, on the same addresses, with their records."""
        self.bureau = ServerThread(self.bureau_app, port=self.bureau.port).start()
        self.head_office = ServerThread(self.head_office_app,
                                        port=self.head_office.port).start()

    def stop(self) -> None:
        self.down()

    @property
    def bureau_url(self) -> str:
        return self.bureau.url + ANSWER_PATH

    @property
    def head_office_url(self) -> str:
        return self.head_office.url + WHITELIST_PATH

    def environment(self, settings: Settings, **extra: str) -> dict[str, str]:
        """The settings of a bank process, as an operator would set them."""
        return {"YIBAODAI_DATABASE_URL": settings.database_url,
                "YIBAODAI_VAR_DIR": str(settings.var_dir),
                "YIBAODAI_BUREAU_URL": self.bureau_url,
                "YIBAODAI_HEAD_OFFICE_URL": self.head_office_url,
                "YIBAODAI_DISPATCH_INTERVAL_SECONDS": str(DISPATCH_INTERVAL),
                # The fixture's installation is a demo one (its chain key file is a demo key);
                # serve refuses the demo secret and demo keys otherwise.
                "YIBAODAI_DEMO_MODE": "1" if settings.demo_mode else "0", **extra}


@pytest.fixture
def receivers(settings: Settings) -> Iterator[Receivers]:
    running = Receivers.start(settings.keys_dir, SystemClock())
    try:
        yield running
    finally:
        running.stop()


def reconcile(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """``yibaodai reconcile --json`` run as an operator would: its exit code and report."""
    import os

    done = subprocess.run([str(YIBAODAI), "reconcile", "--json"], env={**os.environ, **env},
                          capture_output=True, timeout=120, check=False)
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"reconcile printed no JSON: {done.stderr[-2000:]!r}") from None
