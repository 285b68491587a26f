"""The Bitrix24 REST client: one code path for webhooks and OAuth apps.

Contract:
- :meth:`Bitrix24Client.call` sends one method and returns its :class:`Reply`
  or raises :class:`Bitrix24Error` (whose message never holds a secret).
- :meth:`Bitrix24Client.call_many` packs calls into ``batch`` requests of at
  most 50 commands (keys ``a0``, ``a1``… — numeric keys would turn the result
  into a JSON list) and returns one :class:`Reply` per call, in order; a
  failure of one command is that call's ``error``, never an exception. Up to
  ``in_flight`` of those batches are on the wire at once (each still takes
  its turn in the rate bucket): a portal's round trip then no longer caps the
  rate below the plan's. Calls that must keep their order go in one call
  only if they are in the same batch; the dispatcher gives each document at
  most one request per ``call_many``.
- Retries by error class: QUERY_LIMIT_EXCEEDED always (with backoff, the bucket
  counted as full); a 5xx, HTML or timeout only when every call in the request
  is idempotent; OPERATION_TIME_LIMIT blocks that method until its
  ``operating_reset_at`` while other methods go on; ``expired_token`` refreshes
  once and repeats; anything else is permanent and carries the admin's hint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from edo_rules._bounds import (
    MB,
    LimitExceededError,
    StageDeadlineError,
    bound,
    read_capped,
    request_deadline,
    stage_expired,
)
from edo_rules._messages import Text, msg
from edo_rules.actions.bitrix24._bucket import Clock, LeakyBucket, Plan, Sleep
from edo_rules.actions.bitrix24._query import encode
from edo_rules.actions.bitrix24._redact import Redactor, install_log_filter
from edo_rules.actions.bitrix24._response import parse_response
from edo_rules.actions.bitrix24.errors import Bitrix24Error, ErrorClass
from edo_rules.actions.bitrix24.oauth import Auth

log = logging.getLogger("edo_rules.bitrix24")

BATCH_LIMIT = 50
_DEFAULT_BLOCK = 60.0  # seconds, when a 429 does not say when the method is free again


@dataclass(frozen=True, slots=True)
class Call:
    """One method call. ``idempotent`` calls may be repeated after an uncertain failure."""

    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    idempotent: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """The result of one call: ``result`` (with ``total``/``next`` for lists) or ``error``."""

    result: Any = None
    total: int | None = None
    next: int | None = None
    error: Bitrix24Error | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often the client repeats a call itself before reporting the error."""

    rate_limit_attempts: int = 8
    uncertain_attempts: int = 2
    unreachable_attempts: int = 2
    backoff: float = 0.5
    max_backoff: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))


class Bitrix24Client:
    """Talks to one portal. Thread-safe; close it (or use ``with``) to free connections."""

    def __init__(
        self,
        auth: Auth,
        redactor: Redactor,
        *,
        plan: Plan,
        http_client: httpx.Client | None = None,
        timeout: float = 60.0,
        request_deadline: float = 120.0,
        max_response_mb: float = 16.0,
        retry: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        wall: Callable[[], float] = time.time,
        in_flight: int = 1,
    ) -> None:
        install_log_filter()
        self._in_flight = max(1, in_flight)
        self._auth = auth
        self._redact = redactor
        self._own_http = http_client is None
        self._http = bound(http_client or httpx.Client(timeout=timeout, follow_redirects=False))
        self._deadline = request_deadline
        self._cap = int(max_response_mb * MB)
        self._bucket = LeakyBucket(plan, clock=clock, sleep=sleep)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._wall = wall
        self._blocked: dict[str, float] = {}  # method (lower case) → wall time it is free again
        self._reset_at: dict[str, float] = {}  # last operating_reset_at seen per method
        self._lock = threading.Lock()

    def __enter__(self) -> Bitrix24Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Bitrix24Client({self._auth.describe()})"

    @property
    def plan(self) -> Plan:
        return self._bucket.plan

    def share_rate(self, parts: int) -> None:
        """Use ``1/parts`` of the portal's rate: ``parts`` runners call the same portal."""
        self._bucket.share(parts)

    def rate_room(self) -> float:
        """Requests this client would send now without waiting for the rate limit."""
        return self._bucket.room()

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # -- public calls -------------------------------------------------------------
    def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool = False
    ) -> Reply:
        """Send one method; raise :class:`Bitrix24Error` when it fails."""
        self._check_blocked(method)
        body = self._send(method, params or {}, idempotent=idempotent)
        return Reply(body.get("result"), _int(body.get("total")), _int(body.get("next")))

    def call_many(self, calls: Sequence[Call]) -> list[Reply]:
        """Send calls in batches of at most 50; one reply per call, in order."""
        replies: list[Reply | None] = [None] * len(calls)
        ready: list[int] = []
        for index, one in enumerate(calls):
            blocked = self._blocked_error(one.method)
            if blocked is not None:
                replies[index] = Reply(error=blocked)
            else:
                ready.append(index)
        chunks = [ready[start : start + BATCH_LIMIT] for start in range(0, len(ready), BATCH_LIMIT)]
        for chunk, answered in zip(chunks, self._send_chunks(calls, chunks), strict=True):
            for index, reply in zip(chunk, answered, strict=True):
                replies[index] = reply
        return [r if r is not None else Reply() for r in replies]

    def _send_chunks(self, calls: Sequence[Call], chunks: list[list[int]]) -> list[list[Reply]]:
        """Each chunk's replies; up to ``in_flight`` chunks on the wire at once."""
        if self._in_flight == 1 or len(chunks) < 2:
            return [self._send_chunk([calls[i] for i in chunk]) for chunk in chunks]
        with ThreadPoolExecutor(
            min(self._in_flight, len(chunks)), thread_name_prefix="bitrix24-batch"
        ) as pool:
            return list(pool.map(lambda chunk: self._send_chunk([calls[i] for i in chunk]), chunks))

    # -- batches ------------------------------------------------------------------
    def _send_chunk(self, calls: Sequence[Call]) -> list[Reply]:
        if len(calls) == 1:
            return [self._single(calls[0])]
        cmd = {f"a{i}": f"{c.method}?{encode(c.params)}" for i, c in enumerate(calls)}
        idempotent = all(c.idempotent for c in calls)
        try:
            body = self._send("batch", {"halt": 0, "cmd": cmd}, idempotent=idempotent)
        except Bitrix24Error as exc:
            return [Reply(error=_for_method(exc, c.method)) for c in calls]
        return self._unpack(calls, body.get("result"))

    def _single(self, one: Call) -> Reply:
        try:
            return self.call(one.method, one.params, idempotent=one.idempotent)
        except Bitrix24Error as exc:
            return Reply(error=exc)

    def _unpack(self, calls: Sequence[Call], payload: Any) -> list[Reply]:
        sections = payload if isinstance(payload, Mapping) else {}
        results, errors = _section(sections, "result"), _section(sections, "result_error")
        totals, nexts = _section(sections, "result_total"), _section(sections, "result_next")
        times = _section(sections, "result_time")
        replies = []
        for i, one in enumerate(calls):
            key = f"a{i}"
            self._note_time(one.method, times.get(key))
            if key in errors:
                replies.append(Reply(error=self._command_error(one.method, errors[key])))
            elif key in results:
                replies.append(Reply(results[key], _int(totals.get(key)), _int(nexts.get(key))))
            else:
                replies.append(
                    Reply(
                        error=self._error(
                            "ERROR_UNEXPECTED_ANSWER", msg("b24_no_batch_result"), one.method
                        )
                    )
                )
        return replies

    def _command_error(self, method: str, raw: Any) -> Bitrix24Error:
        data = raw if isinstance(raw, Mapping) else {}
        code = str(data.get("error", "ERROR_UNEXPECTED_ANSWER"))
        error = self._error(code, str(data.get("error_description", "")), method)
        if error.error_class is ErrorClass.METHOD_BLOCKED:
            return self._block(method, None, error)
        return error

    # -- one HTTP request, with retries -------------------------------------------------
    def _send(self, method: str, params: Mapping[str, Any], *, idempotent: bool) -> dict[str, Any]:
        attempts: dict[ErrorClass, int] = {}
        refreshed = False
        while True:
            signed = self._auth.sign(params)
            try:
                return self._request(method, signed)
            except Bitrix24Error as exc:
                kind = exc.error_class
                attempts[kind] = attempts.get(kind, 0) + 1
                if kind is ErrorClass.EXPIRED_TOKEN and not refreshed:
                    with request_deadline(self._deadline, "bitrix24.request_deadline", check=False):
                        refreshed = self._auth.refresh(self._http, signed.get("auth"))
                    if refreshed:
                        continue
                if not self._may_retry(exc, attempts[kind], idempotent=idempotent):
                    raise
                log.info("bitrix24 %s: %s, retrying (attempt %d)", method, exc.code, attempts[kind])
                self._sleep(self._retry.delay(attempts[kind] - 1))

    def _may_retry(self, exc: Bitrix24Error, attempt: int, *, idempotent: bool) -> bool:
        if stage_expired() is not None:  # the stage is out of time: the next tick retries
            return False
        kind = exc.error_class
        if kind is ErrorClass.RATE_LIMIT:
            self._bucket.penalize()
            return attempt < self._retry.rate_limit_attempts
        if kind is ErrorClass.UNREACHABLE:
            return attempt < self._retry.unreachable_attempts
        if kind is ErrorClass.UNCERTAIN:
            return idempotent and attempt < self._retry.uncertain_attempts
        return False

    def _request(self, method: str, signed: Mapping[str, Any]) -> dict[str, Any]:
        self._bucket.acquire()
        log.debug("bitrix24 call %s", method)
        expired = stage_expired()
        if expired is not None:  # out of time before sending: nothing ran, the next tick sends
            text = StageDeadlineError(expired).headline
            raise self._error("STAGE_LIMIT", text, method, ErrorClass.UNREACHABLE)
        with request_deadline(self._deadline, "bitrix24.request_deadline", check=False) as limit:
            try:
                with self._http.stream("POST", self._auth.url(method), json=signed) as response:
                    content = read_capped(response, self._cap, "bitrix24.max_response_mb", limit)
            except LimitExceededError as exc:
                raise self._bounded(method, exc) from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if limit.expired:  # cut while connecting: nothing was sent
                    raise self._bounded(method, limit.exceeded(), ErrorClass.UNREACHABLE) from None
                raise self._error(
                    "UNREACHABLE",
                    msg("b24_cannot_connect", error=type(exc).__name__),
                    method,
                    ErrorClass.UNREACHABLE,
                ) from None
            except httpx.HTTPError as exc:
                if limit.expired:
                    raise self._bounded(method, limit.exceeded()) from None
                raise self._error(
                    "TIMEOUT" if isinstance(exc, httpx.TimeoutException) else "HTTP_5XX",
                    msg("b24_no_answer", error=type(exc).__name__),
                    method,
                    ErrorClass.UNCERTAIN,
                ) from None
        body, error = parse_response(response, content, method, self._redact)
        if error is not None:
            if error.error_class is ErrorClass.METHOD_BLOCKED:
                raise self._block(method, body, error)
            raise error
        self._note_time(method, body.get("time"))
        return body

    def _bounded(
        self, method: str, exc: LimitExceededError, kind: ErrorClass = ErrorClass.UNCERTAIN
    ) -> Bitrix24Error:
        """A request cut at a limit (the call may have run): names the portal and the limit."""
        text = msg("b24_request_cut", portal=self._redact(self._auth.describe()), limit=exc.limit)
        return self._error("RESPONSE_LIMIT", text, method, kind)

    # -- the per-method operating-time limit -----------------------------------------------
    def _note_time(self, method: str, raw: Any) -> None:
        if isinstance(raw, Mapping) and isinstance(raw.get("operating_reset_at"), int | float):
            with self._lock:
                self._reset_at[method.lower()] = float(raw["operating_reset_at"])

    def _block(
        self, method: str, body: Mapping[str, Any] | None, error: Bitrix24Error
    ) -> Bitrix24Error:
        self._note_time(method, (body or {}).get("time"))
        now = self._wall()
        with self._lock:
            until = self._reset_at.get(method.lower(), 0.0)
            if until <= now:
                until = now + _DEFAULT_BLOCK
            self._blocked[method.lower()] = until
        log.warning(
            "bitrix24 %s is blocked by the operating-time limit for %.0f s", method, until - now
        )
        return Bitrix24Error(
            error.code or "OPERATION_TIME_LIMIT",
            error.detail,
            method=method,
            error_class=ErrorClass.METHOD_BLOCKED,
            retry_after=until - now,
        )

    def _blocked_error(self, method: str) -> Bitrix24Error | None:
        with self._lock:
            until = self._blocked.get(method.lower(), 0.0)
        left = until - self._wall()
        if left <= 0:
            return None
        return Bitrix24Error(
            "OPERATION_TIME_LIMIT",
            msg("b24_paused"),
            method=method,
            error_class=ErrorClass.METHOD_BLOCKED,
            retry_after=left,
        )

    def _check_blocked(self, method: str) -> None:
        error = self._blocked_error(method)
        if error is not None:
            raise error

    def _error(
        self,
        code: str,
        description: str | Text,
        method: str,
        error_class: ErrorClass | None = None,
    ) -> Bitrix24Error:
        # The portal's text may echo a secret; our own texts (a class name in them) cannot.
        if isinstance(description, str):
            description = self._redact(description)
        return Bitrix24Error(code, description, method=method, error_class=error_class)


def _for_method(exc: Bitrix24Error, method: str) -> Bitrix24Error:
    """The batch's own failure, reported against one command's method."""
    if exc.method == method:
        return exc
    return Bitrix24Error(
        exc.code or "",
        exc.detail,
        method=method,
        error_class=exc.error_class,
        retry_after=exc.retry_after,
    )


def _section(sections: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = sections.get(name)
    return value if isinstance(value, Mapping) else {}  # an empty section arrives as []


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
