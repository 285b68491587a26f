"""The Bitrix24 REST emulator: a real HTTP server on 127.0.0.1.

Reproduces the documented portal behaviour the client must cope with (see the
project's Bitrix24 reference): webhook and OAuth auth, JSON and bracket-encoded
parameters, the result/time/total/next envelope, error codes and statuses
(legacy CRM ``"error": ""`` included), the request leaky bucket (503
QUERY_LIMIT_EXCEEDED), the per-method operating-time limit (429
OPERATION_TIME_LIMIT), ``batch`` and its quirks, plus injected faults. Given
an ``ssl.SSLContext`` it serves ``https://`` as real portals do. The facts and
their sources: docs/development.md, "Emulator facts and sources".
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from edo_rules.emulators.bitrix24._auth import ALL_SCOPES, AuthRegistry
from edo_rules.emulators.bitrix24._common import CallContext
from edo_rules.emulators.bitrix24._dispatch import Answer, Caller, Dispatcher, error_body
from edo_rules.emulators.bitrix24._faults import Fault, FaultQueue
from edo_rules.emulators.bitrix24._limits import PLANS, OperatingTime, PlanLimits, RequestBucket
from edo_rules.emulators.bitrix24._php import decode
from edo_rules.emulators.bitrix24._portal import Portal

_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
)


class Bitrix24Emulator:
    """One emulated portal. Use as a context manager or call :meth:`start` / :meth:`stop`.

    Seeding and inspection go through :attr:`portal` (also mirrored by the
    shortcut methods below); every accessor is thread-safe.
    """

    def __init__(
        self,
        *,
        plan: str | PlanLimits = "ordinary",
        seed: int | None = 1,
        operating_limit: float = 480.0,
        operating_window: float = 600.0,
        operating_cost: Mapping[str, float] | None = None,
        token_lifetime: float = 3600.0,
        https_only: bool = False,
        clock: Callable[[], float] = time.time,
        tls: ssl.SSLContext | None = None,
        scope_error_status: int = 403,
        latency: float = 0.0,
    ) -> None:
        self.portal = Portal()
        #: Seconds each ``/rest/`` request takes end to end, like a portal across the
        #: internet: half on the way in (the portal meters the request on arrival),
        #: half on the way back. Each request is served in its own thread, so
        #: requests in flight together overlap their waits.
        self.latency = latency
        self.portal.clock = clock
        #: A server-side TLS context: the emulator then serves ``https://`` (real portals
        #: answer only over HTTPS; the official SDK refuses anything else).
        self.tls = tls
        if seed is not None:
            self.portal.seed(seed)
        self.limits = PLANS[plan] if isinstance(plan, str) else plan
        self.https_only = https_only
        self.faults = FaultQueue()
        self._clock = clock
        self._bucket = RequestBucket(self.limits, clock)
        self._auth = AuthRegistry(clock, token_lifetime)
        operating = OperatingTime(operating_limit, operating_window, clock)
        self._dispatcher = Dispatcher(
            self.portal,
            operating,
            clock=clock,
            cost=operating_cost or {},
            scope_status=scope_error_status,
        )
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._serving = 0  # /rest/ requests being served now (stats: peak_in_flight)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> Bitrix24Emulator:
        """Serve in a background thread (port 0 picks a free port)."""
        self._server = self._bind(host, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bitrix24-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve in the calling thread until interrupted (the CLI uses this)."""
        self._server = self._bind(host, port)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def _bind(self, host: str, port: int) -> ThreadingHTTPServer:
        server = _Server((host, port), _handler_for(self))
        server.daemon_threads = True
        if self.tls is not None:
            # The handshake runs on the first read, in the request's own thread, so
            # one slow or failed handshake never blocks the accept loop.
            server.socket = self.tls.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        return server

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Bitrix24Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with ``tls``); also the OAuth server URL."""
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    # -- credentials --------------------------------------------------------------------------
    def add_webhook(self, user_id: int = 1, scopes: Iterable[str] = ALL_SCOPES) -> str:
        """A new incoming webhook; returns its URL ``…/rest/<user>/<secret>/``."""
        hook = self._auth.add_webhook(user_id, scopes)
        return f"{self.url}/rest/{user_id}/{hook.secret}/"

    def add_oauth_app(
        self,
        client_id: str,
        client_secret: str,
        *,
        user_id: int = 1,
        scopes: Iterable[str] = ALL_SCOPES,
    ) -> tuple[str, str]:
        """Install an OAuth application; returns its first (access, refresh) token pair."""
        self._auth.add_app(client_id, client_secret, scopes)
        return self._auth.issue(client_id, user_id)

    def expire_tokens(self) -> None:
        """Expire every OAuth access token now."""
        self._auth.expire_all()

    def inject(self, fault: Fault, times: int = 1) -> None:
        """Queue a fault for the next request(s) (of ``fault.method`` when given)."""
        self.faults.add(fault, times)

    # -- inspection ----------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """HTTP requests, refusals by the bucket and the operating-time limit, calls per method."""
        with self._stats_lock:
            return dict(self._stats)

    def counts(self) -> dict[str, int]:
        return self.portal.counts()

    def notifications(
        self, *, user_id: int | None = None, tag: str | None = None
    ) -> list[dict[str, Any]]:
        return self.portal.notifications(user_id=user_id, tag=tag)

    def tasks(self) -> list[dict[str, Any]]:
        return self.portal.tasks()

    def comments(self) -> list[dict[str, Any]]:
        return self.portal.comments()

    def count(self, key: str) -> None:
        with self._stats_lock:
            self._stats[key] += 1

    def serving(self, change: int) -> None:
        """One more (+1) or one fewer (-1) request in progress; the peak goes in the stats."""
        with self._stats_lock:
            self._serving += change
            self._stats["peak_in_flight"] = max(self._stats["peak_in_flight"], self._serving)

    # -- one request ------------------------------------------------------------------------------
    def handle_rest(self, path: str, params: dict[str, Any]) -> Answer:
        """Authenticate, meter and run one ``/rest/…`` request."""
        segments = [s for s in path.split("/") if s][1:]
        method = segments[-1].removesuffix(".json") if segments else ""
        self.count("requests")
        if self.https_only and self.tls is None:
            return Answer(400, error_body("INVALID_REQUEST", "Https required."))
        caller = self._authenticate(segments, params)
        if isinstance(caller, Answer):
            return caller
        if not self._bucket.admit():
            self.count("refused_rate")
            return Answer(503, error_body("QUERY_LIMIT_EXCEEDED", "Too many requests"))
        self.count(f"method:{method.lower()}")
        answer = self._dispatcher.run(method, params, caller)
        if answer.status == 429:
            self.count("refused_operating")
        return answer

    def _authenticate(self, segments: list[str], params: dict[str, Any]) -> Caller | Answer:
        if len(segments) == 3:
            return self._webhook(segments)
        if len(segments) != 1:
            return Answer(404, error_body("ERROR_METHOD_NOT_FOUND", "Method not found!"))
        return self._oauth(params)

    def _webhook(self, segments: list[str]) -> Caller | Answer:
        hook = self._auth.webhook(int(segments[0]) if segments[0].isdigit() else 0, segments[1])
        if hook is None:
            return Answer(401, error_body("INVALID_CREDENTIALS", "Invalid request credentials"))
        context = CallContext(hook.user_id, True, None)
        return Caller(f"hook:{hook.user_id}:{hook.secret}", hook.scopes, context)

    def _oauth(self, params: dict[str, Any]) -> Caller | Answer:
        token = str(params.pop("auth", "") or "")
        if not token:
            return Answer(401, error_body("NO_AUTH_FOUND", "Wrong authorization data"))
        state, app, user = self._auth.access(token)
        if state == "expired":
            return Answer(
                401, error_body("expired_token", "The access token provided has expired.")
            )
        if state != "ok" or app is None:
            return Answer(401, error_body("invalid_token", "The access token provided is invalid."))
        return Caller(
            f"app:{app.client_id}:{user}", app.scopes, CallContext(user, False, app.client_id)
        )

    def handle_oauth(self, params: Mapping[str, str]) -> Answer:
        """``/oauth/token/?grant_type=refresh_token&client_id&client_secret&refresh_token``."""
        if params.get("grant_type") != "refresh_token":
            return Answer(
                400, error_body("unsupported_grant_type", "only refresh_token is supported")
            )
        pair = self._auth.renew(
            params.get("client_id", ""),
            params.get("client_secret", ""),
            params.get("refresh_token", ""),
        )
        if pair is None:
            return Answer(400, error_body("invalid_grant", "Invalid refresh token"))
        return Answer(
            200,
            {
                "access_token": pair[0],
                "refresh_token": pair[1],
                "expires_in": 3600,
                "scope": "app",
                "domain": "emulator",
                "client_endpoint": f"{self.url}/rest/",
                "server_endpoint": f"{self.url}/oauth/",
                "status": "L",
            },
        )


class _Server(ThreadingHTTPServer):
    # The standard backlog of 5 resets connections when a client opens dozens at once
    # (several runners, each with batches in flight); a portal accepts them.
    request_queue_size = 128


def _handler_for(emulator: Bitrix24Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        app = emulator

    return Handler


class _Handler(BaseHTTPRequestHandler):
    app: Bitrix24Emulator
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without NODELAY, Nagle and the
        # client's delayed ACK add 40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: request lines carry webhook secrets

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        if parts.path.startswith("/oauth/token"):
            form = dict(parse_qsl(parts.query))
            if body and "json" not in self.headers.get("content-type", ""):
                form.update(parse_qsl(body.decode("utf-8", "replace")))
            self._answer(self.app.handle_oauth(form))
            return
        if not parts.path.startswith("/rest/"):
            self._answer(Answer(404, error_body("NOT_FOUND", "Not found")))
            return
        params = self._params(parts.query, body)
        if params is None:
            self._answer(Answer(400, error_body("INVALID_REQUEST", "The body is not valid JSON")))
            return
        self._serve_rest(parts.path, params)

    def _serve_rest(self, path: str, params: dict[str, Any]) -> None:
        method = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
        fault = self.app.faults.take(method)
        if fault is None:
            self.app.serving(+1)
            try:
                half = self.app.latency / 2
                time.sleep(half)
                answer = self.app.handle_rest(path, params)
                time.sleep(half)
            finally:
                self.app.serving(-1)
            self._answer(answer)
            return
        self.app.count(f"fault:{fault.kind}")
        if fault.ran or fault.kind == "timeout":
            answer = self.app.handle_rest(path, params)
            if fault.kind == "timeout":
                time.sleep(fault.delay)
                self._answer(answer)
                return
        self._fault(fault, path)

    def _fault(self, fault: Fault, path: str) -> None:
        if fault.kind == "redirect":
            self._send(302, b"", "text/html", {"Location": fault.location + path})
        elif fault.kind == "html":
            self._send(502, _HTML, "text/html; charset=utf-8")
        elif fault.kind == "500":
            self._answer(Answer(500, error_body("INTERNAL_SERVER_ERROR", "Internal server error")))
        elif fault.kind == "500_nocode":
            self._send(500, b"{}", "application/json")
        else:
            self._answer(Answer(503, error_body("QUERY_LIMIT_EXCEEDED", "Too many requests")))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _params(self, query: str, body: bytes) -> dict[str, Any] | None:
        params = decode(query)
        if not body:
            return params
        text = body.decode("utf-8", "replace")
        if "json" in self.headers.get("content-type", ""):
            try:
                data = json.loads(text)
            except ValueError:
                return None
            if isinstance(data, dict):
                params.update(data)
            return params
        params.update(decode(text))
        return params

    def _answer(self, answer: Answer) -> None:
        data = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        self._send(answer.status, data, "application/json; charset=utf-8")

    def _send(
        self, status: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (e.g. its timeout): nothing to tell it
