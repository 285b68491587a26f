"""The runner's small HTTP endpoint: trigger a tick, health, metrics.

* ``POST /sync`` — run a tick now (a «Обновить» button, a Bitrix24 business
  process webhook, 1C's event push). Answers 202 at once; with ``?wait=1`` it
  waits for the tick (up to 60 s) and answers 200 with its summary.
* ``GET /healthz`` — 200 with the last tick's time and result (503 while stopping).
* ``GET /metrics`` — Prometheus text format.

When the config sets a token, ``/sync`` and ``/metrics`` need
``Authorization: Bearer <token>``; ``/healthz`` never does (it reveals nothing).
Without a token the endpoint refuses to listen anywhere but loopback.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from edo_rules.errors import EdoRulesError
from edo_rules.runner.metrics import Metrics
from edo_rules.runner.refresh import RefreshRequest, parse_refresh

_log = logging.getLogger("edo_rules.http")

_WAIT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to listen: ``host:port`` (``[::1]:8080`` for IPv6)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """Parse ``127.0.0.1:8080``; raises :class:`EdoRulesError` with an example."""
        host, sep, port = text.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise EdoRulesError(
                f"cannot listen on {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080"
            )
        return cls(host, int(port))

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


#: Runs a tick now (or queues one); with ``wait`` returns its summary when done.
TickTrigger = Callable[[bool, float], Mapping[str, Any] | None]
#: Runs a tick that re-reads given documents (see edo_rules.runner.refresh).
RefreshTrigger = Callable[[RefreshRequest, bool, float], Mapping[str, Any] | None]


class ControlServer:
    """A threaded HTTP server bound to ``endpoint``; ``start()`` serves in a daemon thread."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        token: str | None,
        metrics: Metrics,
        trigger: TickTrigger,
        health: Callable[[], tuple[bool, Mapping[str, Any]]],
        refresh: RefreshTrigger | None = None,
    ) -> None:
        if not token and not endpoint.is_loopback:
            raise EdoRulesError(
                f"refusing to listen on {endpoint.host}:{endpoint.port} without a token: "
                "set http.token in the config (e.g. token: ${EDO_RULES_HTTP_TOKEN}) "
                "or listen on 127.0.0.1"
            )
        self._token = token
        self._metrics = metrics
        self._trigger = trigger
        self._health = health
        self._refresh = refresh
        try:
            self._server = ThreadingHTTPServer((endpoint.host, endpoint.port), _handler(self))
        except OSError as exc:
            raise EdoRulesError(
                f"cannot listen on {endpoint.host}:{endpoint.port}: {exc.strerror}; "
                "choose another port with --listen"
            ) from exc
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port) — the real port when 0 was asked for."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="edo-rules-http", daemon=True
        )
        self._thread.start()
        _log.info("listening on http://%s:%d", *self.address)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    # -- request handling (called from the handler threads) ---------------------
    def authorized(self, header: str | None) -> bool:
        if not self._token:
            return True
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), self._token.encode()
        )

    def handle(self, method: str, target: str, auth: str | None) -> tuple[int, str, str]:
        """(status, content type, body) for one request."""
        parts = urlsplit(target)
        route = (method, parts.path.rstrip("/") or "/")
        if route == ("GET", "/healthz"):
            ok, info = self._health()
            return (200 if ok else 503), "application/json", _json(info)
        if route not in {("POST", "/sync"), ("GET", "/metrics")}:
            return _not_found(method, parts.path)
        if not self.authorized(auth):
            return 401, "application/json", _json({"error": "a valid bearer token is required"})
        if route == ("GET", "/metrics"):
            return 200, "text/plain; version=0.0.4; charset=utf-8", self._metrics.render()
        return self._sync(parse_qs(parts.query))

    def _sync(self, query: Mapping[str, list[str]]) -> tuple[int, str, str]:
        wait = query.get("wait", ["0"])[-1].lower() in {"1", "true", "yes"}
        try:
            refresh = parse_refresh(query)
        except ValueError as exc:
            return 400, "application/json", _json({"error": str(exc)})
        if refresh is not None and self._refresh is None:
            error = "refreshing documents needs the onec section in the config"
            return 400, "application/json", _json({"error": error})
        if refresh is not None and self._refresh is not None:
            result = self._refresh(refresh, wait, _WAIT_SECONDS)
        else:
            result = self._trigger(wait, _WAIT_SECONDS)
        if not wait:
            return 202, "application/json", _json({"queued": True})
        if result is None:
            return 504, "application/json", _json({"error": "the tick did not finish in time"})
        return 200, "application/json", _json(result)


def _not_found(method: str, path: str) -> tuple[int, str, str]:
    known = "POST /sync, GET /healthz, GET /metrics"
    body = {"error": f"no route {method} {path}; the endpoint serves {known}"}
    status = 405 if path.rstrip("/") in {"/sync", "/healthz", "/metrics"} else 404
    return status, "application/json", _json(body)


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=str) + "\n"


def _handler(server: ControlServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "edo-rules"

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 1 << 20))  # the body is not used; drain it
            status, ctype, body = server.handle(
                method, self.path, self.headers.get("Authorization")
            )
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            # The Authorization header is never in the request line, so this is safe.
            _log.debug("http %s", format % args)

    return Handler
