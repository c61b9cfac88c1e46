"""The bank as real processes (``yibaodai serve``, ``yibaodai worker``), started from the
installed command with settings in the environment, as an operator would run them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

YIBAODAI = Path(sys.executable).with_name("yibaodai")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str,
             every: float = 0.05) -> float:
    """Poll ``condition`` until true; the seconds it took. Fails the test on timeout."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
    return time.monotonic() - start


class BankProcess:
    """One ``yibaodai`` command in its own process; its JSON log lines (stderr) in a file."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path) -> None:
        self.args, self.log = args, log
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BankProcess:
        with self.log.open("wb") as err:
            self.process = subprocess.Popen([str(YIBAODAI), *self.args], env=self.env,
                                            stdout=subprocess.DEVNULL, stderr=err)
        return self

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue
        return events

    def logged(self, event: str) -> bool:
        return any(e.get("event") == event for e in self.log_events())

    def wait_healthy(self, url: str, *, timeout: float = 90) -> None:
        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.args} exited: {self.log.read_text()[-3000:]}")
            try:
                return httpx.get(url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=timeout, what=f"{url} to answer", every=0.2)

    def terminate(self, *, timeout: float = 60) -> int:
        """SIGTERM, then wait for a clean exit; its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.args} did not stop on SIGTERM") from None

    def __enter__(self) -> BankProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
