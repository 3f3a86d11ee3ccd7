"""A bearer-token HTTP client for a live `custodia serve` (tests/live_server.py), able to fire
many requests at the same instant. Standard library only, a timeout on every call."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from live_server import RunningServer

HTTP_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    started: float = 0.0
    finished: float = 0.0


@dataclass(frozen=True)
class LiveApi:
    server: RunningServer
    token: str

    def connection(self) -> http.client.HTTPConnection:
        address = urlsplit(self.server.base_url)
        assert address.hostname is not None and address.port is not None
        return http.client.HTTPConnection(
            address.hostname, address.port, timeout=HTTP_TIMEOUT_SECONDS
        )

    def send(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
    ) -> Reply:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        finished = time.monotonic()
        json_reply = response.getheader("Content-Type", "").startswith("application/json")
        answer = json.loads(raw) if json_reply else raw.decode(errors="replace")[:300]
        return Reply(response.status, answer, started, finished)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Reply:
        connection = self.connection()
        try:
            return self.send(connection, method, path, body)
        finally:
            connection.close()

    def get(self, path: str) -> Any:
        reply = self.call("GET", path)
        assert reply.status == 200, (path, reply)
        return reply.body

    def race(self, requests: Sequence[tuple[str, dict[str, Any]]]) -> list[Reply]:
        """POST every (path, body) at once: each client connects first, then all of them wait at
        a barrier and send together."""
        barrier = threading.Barrier(len(requests))

        def post(path: str, body: dict[str, Any]) -> Reply:
            connection = self.connection()
            try:
                connection.connect()
                barrier.wait(timeout=HTTP_TIMEOUT_SECONDS)
                return self.send(connection, "POST", path, body)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            futures = [pool.submit(post, path, body) for path, body in requests]
            return [f.result(timeout=3 * HTTP_TIMEOUT_SECONDS) for f in futures]
