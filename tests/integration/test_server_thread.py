"""``ServerThread``, which serves the demo's bank and simulators on loopback: its connections
have Nagle's algorithm off, as uvicorn's own sockets do under ``yibaodai serve`` — else every
response (headers and body are two writes) waits ~40 ms for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
from fastapi import FastAPI

from yibaodai.sim.server import ServerThread


def test_accepted_connections_get_tcp_nodelay() -> None:
    server = ServerThread(FastAPI())
    try:
        server._sock.listen()
        with socket.create_connection((server.host, server.port)):
            conn, _ = server._sock.accept()
            with conn:
                # what asyncio does to each accepted connection (``base_events._set_nodelay``)
                asyncio.base_events._set_nodelay(conn)  # type: ignore[attr-defined]
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server._sock.close()


def test_a_round_trip_does_not_wait_for_a_delayed_ack() -> None:
    app = FastAPI()

    @app.post("/echo")
    async def echo(body: dict[str, int]) -> dict[str, int]:
        return body

    with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
        client.post("/echo", json={"n": 0}).raise_for_status()
        started = time.perf_counter()
        for n in range(10):
            assert client.post("/echo", json={"n": n}).json() == {"n": n}
        per_request = (time.perf_counter() - started) / 10
    assert per_request < 0.030  # with Nagle on: >= 40 ms each (the delayed-ACK timer)
