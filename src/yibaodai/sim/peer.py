"""What both simulators share: a signed receiving endpoint that remembers every message (and
answers a repeated idempotency key with its first answer, without applying it again), and a
sending client.

What a receiver recorded is on its HTTP API, ``GET /sim/received``: for each idempotency key
how many times it was delivered (repeats included) and how many times it was applied (once,
unless the receiver broke its promise), which ``yibaodai reconcile`` compares with the bank's
outbox. ``Inbox.delay`` makes a slow receiver (seconds spent before it records and answers)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from yibaodai.clock import Clock
from yibaodai.errors import YibaodaiError
from yibaodai.protocol.envelope import (
    OpenedRequest,
    ResponseEnvelope,
    open_request,
    open_response,
    seal_request,
    seal_response,
)
from yibaodai.protocol.keys import KeyRing


@dataclass
class Inbox:
    """Messages a simulator received, by idempotency key; ``deliveries`` counts every POST of
    each key, repeats included (what "delivered exactly once" is checked against)."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: Counter[str] = field(default_factory=Counter)
    #: How many times each key's message was applied (handed to the simulator's logic).
    applied: Counter[str] = field(default_factory=Counter)
    #: Seconds a delivery waits before it is recorded and answered (a slow receiver).
    delay: float = 0.0
    #: Deliveries being handled right now (a test kills a sender in the middle of one).
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> dict[str, dict[str, Any]]:
        """Per idempotency key: infno, deliveries and applications (``GET /sim/received``)."""
        with self.lock:
            return {key: {"infno": self.messages[key]["infno"] if key in self.messages else None,
                          "deliveries": self.deliveries[key], "applied": self.applied[key]}
                    for key in sorted(self.deliveries)}


def receiving_app(*, title: str, path: str, keyring: KeyRing, clock: Clock, area: str,
                  on_message: Callable[[str, dict[str, Any]], dict[str, Any]]) -> tuple[
                      FastAPI, Inbox]:
    app = FastAPI(title=title)
    inbox = Inbox()
    serial = itertools.count(1)

    def handle(body: bytes, key: str) -> dict[str, Any]:
        now = clock.now()
        try:
            opened = open_request(body, keyring=keyring)
        except YibaodaiError as exc:
            return seal_response(infcode=1102, err_msg=str(exc)[:200], output={},
                                 refmsgid_area=area, serial=next(serial), now=now,
                                 keyring=keyring)
        idem = key or opened.envelope.msgid
        with inbox.lock:
            inbox.in_flight += 1
        try:
            if inbox.delay:
                time.sleep(inbox.delay)
            return record(opened, idem, now)
        finally:
            with inbox.lock:
                inbox.in_flight -= 1

    def record(opened: OpenedRequest, idem: str, now: datetime) -> dict[str, Any]:
        with inbox.lock:
            inbox.deliveries[idem] += 1
            if idem in inbox.answers:
                return inbox.answers[idem]
            output = on_message(opened.envelope.infno, opened.input)
            inbox.applied[idem] += 1
            answer = seal_response(infcode=0, err_msg="", output=output, refmsgid_area=area,
                                   serial=next(serial), now=now, keyring=keyring)
            inbox.messages[idem] = {"infno": opened.envelope.infno, "input": opened.input}
            inbox.answers[idem] = answer
            return answer

    @app.post(path)
    async def call_service(request: Request) -> JSONResponse:
        body = await request.body()
        answer = await run_in_threadpool(handle, body, request.headers.get("idempotency-key", ""))
        return JSONResponse(answer)

    @app.get("/sim/messages")
    def messages() -> dict[str, Any]:
        with inbox.lock:
            return {"count": len(inbox.messages), "messages": list(inbox.messages.values())}

    @app.get("/sim/received")
    def received() -> dict[str, Any]:
        return {"received": inbox.received()}

    return app, inbox


class SendingClient:
    """Seals and posts envelopes exactly as the real peer would."""

    def __init__(self, *, url: str, keyring: KeyRing, peer_party: str, sender_code: str,
                 clock: Clock, area: str = "210200", timeout: float = 60.0) -> None:
        self.url, self.keyring, self.clock = url, keyring, clock
        self.peer_key_id = keyring.peer_key_ids[peer_party]
        self.sender_code, self.area = sender_code, area
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=timeout)

    def send(self, *, infno: str, fixmedins_code: str, fixmedins_name: str,
             rows: list[dict[str, Any]]) -> ResponseEnvelope:
        return self.post(self.seal(infno=infno, fixmedins_code=fixmedins_code,
                                   fixmedins_name=fixmedins_name, rows=rows))

    def seal(self, *, infno: str, fixmedins_code: str, fixmedins_name: str,
             rows: list[dict[str, Any]]) -> dict[str, Any]:
        """The sealed wire envelope of ``rows`` (a fresh msgid), ready for :meth:`post`."""
        with self._lock:
            seq = next(self._seq) % 10_000
        return seal_request(
            infno=infno, input={"data": rows}, sender_code=self.sender_code,
            fixmedins_code=fixmedins_code, fixmedins_name=fixmedins_name, area=self.area,
            keyring=self.keyring, peer_key_id=self.peer_key_id, now=self.clock.now(), seq=seq)

    def post(self, envelope: dict[str, Any]) -> ResponseEnvelope:
        response = self._client.post(self.url, json=envelope)
        response.raise_for_status()
        return open_response(response.content, keyring=self.keyring)

    def close(self) -> None:
        self._client.close()
