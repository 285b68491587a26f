"""Bounds on outbound HTTP: a wall-clock deadline per request and per tick stage, a size cap.

httpx's timeouts apply to each socket operation: a server that sends one byte
every few seconds (in its headers or its body) keeps a request open for ever,
and one that sends an endless body fills the memory. Here:

* :func:`stage_limit` gives a tick stage (sync, evaluate, dispatch) a
  deadline; :func:`check_stage` raises :class:`StageDeadlineError` once it
  has passed, and every request made inside the stage ends by then.
* :func:`request_deadline` gives one request a deadline (the sooner of its own
  and the stage's). :func:`bound` makes a client's sockets honour it: every
  connect, TLS handshake, write and read waits at most the time left, so a
  stalled header phase is cut as surely as a dripping body.
* :func:`read_capped` streams a body and stops at the size cap.

The deadlines live in context variables: each thread that sends requests for
a stage runs in a copy of the stage's context (see :func:`in_context`).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpcore
import httpx

from edo_rules._messages import Text, msg
from edo_rules.errors import EdoRulesError

T = TypeVar("T")

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StageLimit:
    """A tick stage's deadline (``time.monotonic()`` seconds) and the setting it came from."""

    name: str
    seconds: float
    deadline: float
    #: The ``schedule.stage_limits`` key (a refresh runs under the sync's limit).
    key: str = ""

    @property
    def setting(self) -> str:
        return f"schedule.stage_limits.{self.key or self.name}"

    def describe(self) -> Text:
        return msg("stage_limit", name=self.name, seconds=self.seconds, setting=self.setting)


class StageDeadlineError(EdoRulesError):
    """A tick stage ran past its limit; the tick's other stages go on."""

    def __init__(self, limit: StageLimit):
        #: The first line alone (for a request refused before it was sent).
        self.headline = msg("stage_stopped", name=limit.name, limit=limit.describe())
        self.text = msg(
            "what_to_do", text=self.headline, hint=msg("stage_hint", setting=limit.setting)
        )
        super().__init__(self.text)
        self.limit = limit


_STAGE: contextvars.ContextVar[StageLimit | None] = contextvars.ContextVar(
    "edo_rules_stage", default=None
)
_REQUEST: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "edo_rules_request_deadline", default=None
)


@contextmanager
def stage_limit(name: str, seconds: float | None, key: str = "") -> Iterator[StageLimit | None]:
    """Run the ``with`` block as tick stage ``name``, ``seconds`` at most (None: no limit).

    ``key`` names the setting when it is not the stage's own name.
    """
    if seconds is None:
        yield None
        return
    limit = StageLimit(name, seconds, time.monotonic() + seconds, key)
    token = _STAGE.set(limit)
    try:
        yield limit
    finally:
        _STAGE.reset(token)


def check_stage() -> None:
    """Raise :class:`StageDeadlineError` when the current stage's deadline has passed."""
    limit = _STAGE.get()
    if limit is not None and time.monotonic() >= limit.deadline:
        raise StageDeadlineError(limit)


def stage_expired() -> StageLimit | None:
    """The current stage's limit when it has passed, else None."""
    limit = _STAGE.get()
    if limit is not None and time.monotonic() >= limit.deadline:
        return limit
    return None


def in_context(call: Callable[..., T]) -> Callable[..., T]:
    """``call`` bound to a copy of this context: for a thread that works for the same stage."""
    context = contextvars.copy_context()
    return lambda *args, **kwargs: context.run(call, *args, **kwargs)


class LimitExceededError(Exception):
    """A request passed a bound; the client turns it into its own error naming the setting."""

    def __init__(self, limit: Text):
        super().__init__(limit)
        self.limit = limit


@dataclass(frozen=True, slots=True)
class RequestDeadline:
    """One request's deadline: its own (``seconds``, from ``setting``) or the stage's, if sooner."""

    deadline: float
    seconds: float
    setting: str
    stage: StageLimit | None

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    @property
    def by_stage(self) -> bool:
        return self.stage is not None and self.stage.deadline <= self.deadline

    def describe(self) -> Text:
        if self.by_stage and self.stage is not None:
            return self.stage.describe()
        return msg("request_limit", seconds=self.seconds, setting=self.setting)

    def exceeded(self) -> LimitExceededError:
        return LimitExceededError(msg("request_no_answer", limit=self.describe()))


@contextmanager
def request_deadline(
    seconds: float, setting: str, *, check: bool = True
) -> Iterator[RequestDeadline]:
    """Every socket operation of a :func:`bound` client inside the block ends by the deadline.

    With ``check`` a stage already out of time raises :class:`StageDeadlineError` at once.
    """
    if check:
        check_stage()
    own = time.monotonic() + seconds
    stage = _STAGE.get()
    at = min(own, stage.deadline) if stage is not None else own
    token = _REQUEST.set(at)
    try:
        yield RequestDeadline(at, seconds, setting, stage)
    finally:
        _REQUEST.reset(token)


def read_capped(
    response: httpx.Response, cap: int, setting: str, deadline: RequestDeadline | None = None
) -> bytes:
    """The (decoded) body of a streamed response; LimitExceededError past the cap or deadline.

    The cap counts decoded bytes, so a small gzip bomb is stopped too.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap and "content-encoding" not in response.headers:
        how = msg("answer_announced", size=int(declared))
        raise LimitExceededError(msg("answer_too_large", mb=cap / MB, setting=setting, how=how))
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            how = msg("answer_went_on")
            raise LimitExceededError(msg("answer_too_large", mb=cap / MB, setting=setting, how=how))
        parts.append(chunk)
        if deadline is not None and deadline.expired:  # for injected transports (no pool)
            raise deadline.exceeded()
    return b"".join(parts)


def bound(client: httpx.Client) -> httpx.Client:
    """Make the client's own connection pools honour :func:`request_deadline`.

    httpx has no per-request wall-clock limit; its pools take a network
    backend (httpcore's documented extension point), so each pool's backend
    is wrapped once. A transport without a pool (a test's or the demo's) is
    left as it is: :func:`read_capped` still checks the deadline between chunks.
    """
    transports: Iterable[Any] = [getattr(client, "_transport", None)]
    transports = [*transports, *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return client


def _left(timeout: float | None, expired: type[Exception]) -> float | None:
    """The socket timeout to use: the smaller of httpx's and the time left to the deadline."""
    deadline = _REQUEST.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, wait, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
