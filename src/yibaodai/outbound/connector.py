"""Connectors to the bank's receivers: one outbox message sealed as the national envelope
(``protocol.envelope``), posted over HTTP with its idempotency key, the receiver's signed
answer opened. Delivery scheduling, retries and what follows a delivery are the worker's
(``worker.dispatcher``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from yibaodai.outbound.outbox import (
    KIND_ADMISSION_RESULT,
    KIND_LIMIT_ACTION,
    KIND_WHITELIST_ENTRY,
)
from yibaodai.protocol.envelope import open_response, seal_request
from yibaodai.protocol.keys import KeyRing

BANK_SENDER_CODE = "B21020000001"
INFNO_FOR_KIND = {KIND_ADMISSION_RESULT: "8901", KIND_WHITELIST_ENTRY: "8501",
                  KIND_LIMIT_ACTION: "8502"}


@dataclass(frozen=True)
class Endpoint:
    """A receiver: its ``callService`` URL and its party name in the key ring."""

    url: str
    party: str


class ReceiverRefused(RuntimeError):
    """The receiver answered with ``infcode != 0``."""


class Connector:
    """Sends sealed messages; thread-safe (one HTTP client)."""

    def __init__(self, *, keyring: KeyRing, timeout: float = 10.0) -> None:
        self.keyring = keyring
        self._client = httpx.Client(timeout=timeout)

    def send(self, endpoint: Endpoint, *, kind: str, idempotency_key: str, message_no: int,
             payload: dict[str, Any], now: datetime) -> dict[str, Any]:
        """Deliver one message; the receiver's ``output``. Raises on any failure (transport,
        HTTP status, a bad or refusing answer): the caller retries under the same key, which
        the receiver answers with its first answer.

        ``message_no`` (the outbox row's id) makes the ``msgid``'s sequence, so several
        dispatchers sending in the same second never reuse a ``msgid``."""
        seq = message_no % 10_000
        envelope = seal_request(
            infno=INFNO_FOR_KIND[kind], input={"data": [payload]},
            sender_code=BANK_SENDER_CODE, fixmedins_code=payload["fixmedins_code"],
            fixmedins_name=payload.get("fixmedins_name") or "-", area="210200",
            keyring=self.keyring, peer_key_id=self.keyring.peer_key_ids[endpoint.party],
            now=now, seq=seq, sign_no=idempotency_key[:30])
        http = self._client.post(endpoint.url, json=envelope,
                                 headers={"Idempotency-Key": idempotency_key})
        http.raise_for_status()
        answer = open_response(http.content, keyring=self.keyring)
        if answer.infcode != 0:
            raise ReceiverRefused(f"infcode {answer.infcode}: {answer.err_msg}")
        return dict(answer.output)

    def close(self) -> None:
        self._client.close()
