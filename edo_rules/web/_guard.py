"""Keeping the endpoint up under abuse: connection and request limits, a loopback guard.

* :class:`ServerLimits` — what uvicorn is told (keep-alive, request concurrency,
  the largest request head) plus what it has no setting for, enforced by
  :func:`protocol_class`: a request (head and body) must arrive within
  ``request_timeout`` of the connection opening or of the previous answer (h11
  alone waits for ever on a connection that sends nothing, or one byte now and
  then), and at most ``max_connections`` are open: a new one pushes out the
  oldest connection that has not sent a request, so idle sockets can never
  use up the process's file descriptors (systemd's default is 1024).
* :class:`BodyLimit` — a request body over ``max_body`` bytes is answered 413.
* :class:`LoopbackGuard` — an open endpoint on loopback (no token) refuses a
  request from another web origin (``Origin`` not this server) or under a
  foreign ``Host`` (DNS rebinding): any page in the admin's browser could
  otherwise ``POST /sync`` or read ``/metrics`` and the dashboard.
* A request h11 cannot parse is answered 400 through our logger: never a
  traceback, never the sender's text.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

_log = logging.getLogger("edo_rules.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The endpoint's limits (see docs/dashboard.md, «Пределы веб-сервера»)."""

    #: Seconds a connection has to send a whole request (head and body).
    request_timeout: float = 10.0
    #: Seconds an idle keep-alive connection stays open after an answer.
    keep_alive: float = 5.0
    #: Open connections at most; well below systemd's LimitNOFILE=1024.
    max_connections: int = 200
    #: The largest request body in bytes (forms and ``POST /sync`` are tiny).
    max_body: int = 1024 * 1024
    #: The largest request head (request line and headers) in bytes.
    max_head: int = 16 * 1024
    #: Connections accepted per turn of the event loop (and the listen backlog): the cap
    #: is applied as each one is set up, so a flood never holds more descriptors than this
    #: beyond ``max_connections`` (asyncio's default would accept 2048 at once).
    backlog: int = 128


def protocol_class(limits: ServerLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request timeout and a connection cap."""

    class GuardedProtocol(_GuardedProtocol):
        request_timeout = limits.request_timeout
        max_connections = limits.max_connections

    return GuardedProtocol


class _GuardedProtocol(H11Protocol):
    request_timeout = 10.0
    max_connections = 200
    _opened_at = 0.0
    _timer: asyncio.TimerHandle | None = None
    _armed_for: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened_at = self.loop.time()
        self._arm()
        if len(self.connections) > self.max_connections and not self._make_room():
            _log.warning("too many open connections (%d): refused one", len(self.connections))
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        # Armed first: the base class may already start a pipelined request, which must
        # count as arrived in time.
        self._arm()
        super().on_response_complete()

    def handle_events(self) -> None:
        try:
            super().handle_events()
        except Exception as exc:  # a request h11 accepted but uvicorn cannot read (bad bytes)
            _log.warning("refused a malformed request (%s)", type(exc).__name__)
            if self.transport.is_closing():
                return
            try:
                self.send_400_response("Invalid HTTP request received.")
            except Exception:  # an answer had already begun: just close
                self.transport.close()

    @property
    def waiting(self) -> bool:
        """No request in progress: nothing is lost when this connection is closed."""
        return self.cycle is None or bool(self.cycle.response_complete)

    def _make_room(self) -> bool:
        """Close the oldest connection that has not sent a request; False when none has."""
        idle = [c for c in self.connections if isinstance(c, _GuardedProtocol) and c is not self]
        idle = [c for c in idle if c.waiting]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c._opened_at)
        oldest.transport.abort()
        self.connections.discard(oldest)
        return True

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = self.cycle
        self._timer = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        cycle = self.cycle
        started = cycle is not None and cycle is not self._armed_for
        if started and not cycle.more_body:
            return  # the whole request arrived in time: the app may take its time
        if not self.transport.is_closing():
            self.transport.close()


class BodyLimit:
    """Answer 413 to a request body over ``max_body`` bytes (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _refuse(send, 413 if declared.isdigit() else 400, "request body too large")
            return
        received = 0
        started = refused = False

        async def limited() -> Message:
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body and not started:
                # Answer 413 now; the app sees the client gone and stops reading.
                refused = True
                await _refuse(send, 413, "request body too large")
                return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except Exception:
            if not refused:
                raise
            # The app's error over the vanished body (ClientDisconnect): the 413 was sent.


class LoopbackGuard:
    """On an open loopback endpoint: refuse other origins and foreign ``Host`` names."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host, origin = _header(scope, b"host"), _header(scope, b"origin")
            problem = loopback_problem(host, origin, _header(scope, b"sec-fetch-site"))
            if problem is not None:
                _log.warning("refused a request: %s", problem)
                await _refuse(send, 403, "this endpoint answers only its own pages on loopback")
                return
        await self.app(scope, receive, send)


def loopback_problem(
    host: str | None, origin: str | None, fetch_site: str | None = None
) -> str | None:
    """Why a request to an open loopback endpoint is refused, or None (values shown escaped).

    A browser names the page a request comes from in ``Sec-Fetch-Site`` (``none``
    when the admin typed the address) and, for a form, in ``Origin``. The
    dashboard's pages send ``Referrer-Policy: no-referrer``, under which a
    browser posts their own forms with ``Origin: null``: that one passes when
    ``Sec-Fetch-Site`` vouches for the same origin.
    """
    if host is not None and not _is_loopback_name(host):
        return f"Host {_shown(host)} is not a loopback name (DNS rebinding?)"
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return f"Sec-Fetch-Site {_shown(fetch_site)}: the request comes from another site"
    if origin is None or (origin == "null" and fetch_site == "same-origin"):
        return None
    expected = {f"http://{host.lower()}", f"https://{host.lower()}"} if host else set()
    if origin.lower() not in expected:
        return f"Origin {_shown(origin)} is another site"
    return None


def _is_loopback_name(host: str) -> bool:
    """``localhost``, ``127.0.0.1:8080``, ``[::1]:8080`` and the like."""
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host[1:]
    else:
        name = host.rsplit(":", 1)[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _shown(value: str) -> str:
    """A header value for the log: escaped (repr) and short."""
    return repr(value[:100])


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _refuse(send: Send, status: int, text: str) -> None:
    body = (json.dumps({"error": text}) + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
