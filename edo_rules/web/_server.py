"""Serving the app with uvicorn: in a daemon thread (the runner) or in the foreground."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

from edo_rules.errors import EdoRulesError
from edo_rules.web._guard import BodyLimit, LoopbackGuard, ServerLimits, protocol_class

_log = logging.getLogger("edo_rules.http")


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


class WebServer:
    """The app on ``endpoint``; :meth:`start` serves in a daemon thread, :meth:`run` in this one.

    The socket is bound in the constructor, so a busy port is a clear error at
    once and port 0 gives a real port in :attr:`address`. ``limits`` bound
    connections, request time and size (see :mod:`._guard`); ``guard_loopback``
    refuses other origins and foreign ``Host`` names (an open loopback endpoint).
    ``on_stop`` is called by :meth:`stop` once the server has stopped (the
    dashboard's background work ends there).
    """

    def __init__(
        self,
        app: Any,
        endpoint: Endpoint,
        *,
        guard_loopback: bool = False,
        limits: ServerLimits | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._on_stop = on_stop
        limits = limits or ServerLimits()
        family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((endpoint.host, endpoint.port))
        except OSError as exc:
            self._socket.close()
            raise EdoRulesError(
                f"cannot listen on {endpoint.host}:{endpoint.port}: {exc.strerror}; "
                "choose another port with --listen"
            ) from exc
        # Listening at once: a client told the URL right after start() is queued
        # in the backlog until uvicorn's loop accepts, never refused.
        self._socket.listen(2048)
        asgi: Any = BodyLimit(app, limits.max_body)
        if guard_loopback:
            asgi = LoopbackGuard(asgi)
        config = uvicorn.Config(
            asgi,
            log_level="warning",
            # Our logging (format, secret filter) shows uvicorn's messages too.
            log_config=None,
            access_log=False,
            lifespan="off",
            http=protocol_class(limits),
            timeout_keep_alive=int(limits.keep_alive),
            # uvicorn counts idle connections as load (503 to real requests while idle
            # sockets are held): the cap is kept at accept (see _guard), this is a backstop.
            limit_concurrency=limits.max_connections + 1,
            h11_max_incomplete_event_size=limits.max_head,
            backlog=limits.backlog,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port) — the real port when 0 was asked for."""
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="edo-rules-http", daemon=True)
        self._thread.start()
        _log.info("listening on %s", self.url)

    def run(self) -> None:
        """Serve until :meth:`stop` (or SIGINT/SIGTERM when run in the main thread)."""
        self._server.run(sockets=[self._socket])

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()
        if self._on_stop is not None:
            self._on_stop()
