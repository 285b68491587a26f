"""The HTTP client of the 1C standard OData interface (httpx).

Builds URLs by hand (``%20`` for spaces, Cyrillic percent-encoded, always
``$format=json``), authenticates with UTF-8 Basic credentials, allows a slow
first request, retries network errors and 5xx with exponential backoff,
halves the page on 5xx or a read timeout, and translates every failure once
into :class:`SourceError`.
"""

from __future__ import annotations

import base64
import contextvars
import heapq
import itertools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, unquote

import httpx

from edo_rules._bounds import (
    MB,
    LimitExceededError,
    bound,
    check_stage,
    in_context,
    read_capped,
    request_deadline,
)
from edo_rules._messages import Text, msg, t
from edo_rules.errors import SourceError
from edo_rules.sources.onec._errors import AnswerError, error_from_answer
from edo_rules.sources.onec._settings import OneCSettings

log = logging.getLogger("edo_rules.sources.onec")

Row = dict[str, Any]
_SAFE = "'(),/:$*"
#: Set (see :func:`urgent`) while the caller works on the longest chain of dependent requests.
_URGENT: contextvars.ContextVar[bool] = contextvars.ContextVar("onec_urgent", default=False)


@contextmanager
def urgent() -> Iterator[None]:
    """Requests sent in this context (and threads started with its copy) get a free slot
    before the others waiting: what depends on them is still to be asked."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


class _Slots:
    """At most ``size`` requests in flight; an urgent request waiting goes first, then by
    arrival."""

    def __init__(self, size: int):
        self._free = max(1, size)
        self._ready = threading.Condition()
        self._waiting: list[tuple[int, int]] = []
        self._tickets = itertools.count()

    @contextmanager
    def slot(self, urgent: bool) -> Iterator[None]:
        with self._ready:
            ticket = (0 if urgent else 1, next(self._tickets))
            heapq.heappush(self._waiting, ticket)
            while self._free == 0 or self._waiting[0] != ticket:
                self._ready.wait()
            heapq.heappop(self._waiting)
            self._free -= 1
            self._ready.notify_all()  # the next in line may have a free slot too
        try:
            yield
        finally:
            with self._ready:
                self._free += 1
                self._ready.notify_all()


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One GET of an entity set with its query options."""

    entity_set: str
    select: tuple[str, ...] = ()
    filter: str | None = None
    orderby: str | None = None
    top: int | None = None
    skip: int = 0
    #: Navigation properties whose objects come nested in each row (each also in ``select``).
    expand: tuple[str, ...] = ()

    def query(self, allowed_only: bool) -> str:
        options = [("$format", "json")]
        if self.select:
            options.append(("$select", ",".join(self.select)))
        if self.expand:
            options.append(("$expand", ",".join(self.expand)))
        if self.filter:
            options.append(("$filter", self.filter))
        if self.orderby:
            options.append(("$orderby", self.orderby))
        if self.top is not None:
            options.append(("$top", str(self.top)))
        if self.skip:
            options.append(("$skip", str(self.skip)))
        if allowed_only:
            options.append(("allowedOnly", "true"))
        return "&".join(f"{name}={quote(value, safe=_SAFE)}" for name, value in options)


def basic_auth(user: str, password: str) -> str:
    """HTTP Basic from UTF-8 bytes: 1C accepts a Cyrillic login only UTF-8 encoded."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def parse_page(body: bytes, url: str) -> list[Row]:
    """The rows of a JSON page; a malformed or truncated body is a retryable SourceError.

    ``strict=False`` accepts a raw control character inside a string: 1C can
    write one unescaped, and one such character must not cost the page.
    """
    try:
        data = json.loads(body, strict=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(
            msg("onec_malformed_page", error=f"{exc.__class__.__name__}: {exc}"),
            retryable=True,
            url=url,
            hint=msg("onec_hint_transient"),
        ) from exc
    rows = data.get("value") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise SourceError(
            msg("onec_no_value_list"), retryable=True, url=url, hint=msg("onec_hint_check_url")
        )
    return rows


class ODataClient:
    """GETs pages of entity sets; counts requests (for the benchmark and the summary)."""

    def __init__(
        self,
        settings: OneCSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.requests = 0
        #: Each distinct failure (its first line) and how often it occurred.
        self.failures: Counter[str] = Counter()
        self._slots = _Slots(settings.concurrency)
        self._count_lock = threading.Lock()
        self._sleep = sleep
        self._warm = False
        self._http = bound(
            httpx.Client(
                transport=transport,
                headers={
                    "Authorization": basic_auth(settings.user, settings.password),
                    "Accept": "application/json",
                },
                timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            )
        )
        self._cap = int(settings.max_page_mb * MB)

    def close(self) -> None:
        self._http.close()

    def url(self, request: PageRequest) -> str:
        path = quote(request.entity_set, safe="()'")
        return f"{self.settings.service_url}{path}?{request.query(self.settings.allowed_only)}"

    def get(self, request: PageRequest) -> list[Row]:
        """One request, no retry: the rows, or a SourceError (``retryable`` set)."""
        url = self.url(request)
        return parse_page(self._get(url, request.entity_set), readable(url))

    def metadata(self) -> tuple[bytes, str]:
        """The ``$metadata`` document and its URL, with retries like a page."""
        url = f"{self.settings.service_url}$metadata"
        attempt = 0
        while True:
            try:
                return self._get(url, None), url
            except SourceError as exc:
                if not exc.retryable or attempt >= self.settings.retries:
                    raise
                self._sleep(min(30.0, self.settings.backoff * 2**attempt))
                attempt += 1

    def _get(self, url: str, entity_set: str | None) -> bytes:
        try:
            return self._send(url, entity_set)
        except SourceError as exc:
            with self._count_lock:
                self.failures[_first_line(exc)] += 1
            raise

    def _send(self, url: str, entity_set: str | None) -> bytes:
        # At most `concurrency` requests in flight, however they nest.
        with self._slots.slot(_URGENT.get()):
            return self._send_now(url, entity_set)

    def _send_now(self, url: str, entity_set: str | None) -> bytes:
        read = self.settings.timeout if self._warm else self.settings.first_timeout
        shown = readable(url)
        with self._count_lock:
            self.requests += 1
        timeout = httpx.Timeout(read, connect=self.settings.connect_timeout)
        with request_deadline(self.settings.request_deadline, "onec.request_deadline") as limit:
            try:
                with self._http.stream("GET", url, timeout=timeout) as answer:
                    body = read_capped(answer, self._cap, "onec.max_page_mb", limit)
            except LimitExceededError as exc:
                raise _bounds_error(exc, shown, stage=limit.by_stage and limit.expired) from None
            except httpx.TimeoutException as exc:
                if limit.expired:
                    raise _bounds_error(limit.exceeded(), shown, stage=limit.by_stage) from None
                raise _TimeoutError(msg("onec_timeout", seconds=read), url=shown) from exc
            except httpx.TransportError as exc:
                raise SourceError(
                    msg("onec_unreachable", error=f"{exc.__class__.__name__}: {exc}"),
                    retryable=True,
                    url=shown,
                    hint=msg("onec_hint_unreachable"),
                ) from exc
        if answer.status_code != 200:
            raise error_from_answer(answer.status_code, body, shown, entity_set=entity_set)
        self._warm = True
        return body

    def fetch_many(self, requests: list[PageRequest]) -> list[list[Row]]:
        """Several independent requests, up to ``concurrency`` at a time; rows in order.

        A cold server is slow on its first request: while none has succeeded
        yet, the first request runs alone so the others do not all wait out
        the long first timeout together.
        """
        if not self._warm and requests:
            first = [self.fetch(requests[0], shrink=False)[0]]
            return first + self.fetch_many(requests[1:])
        if len(requests) <= 1 or self.settings.concurrency <= 1:
            return [self.fetch(request, shrink=False)[0] for request in requests]
        workers = min(self.settings.concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="onec-get") as pool:
            futures = [
                pool.submit(in_context(self.fetch), request, shrink=False) for request in requests
            ]
            return [future.result()[0] for future in futures]

    def fetch(self, request: PageRequest, *, shrink: bool = True) -> tuple[list[Row], PageRequest]:
        """GET with retries and backoff; on 5xx or a read timeout the page is halved.

        Returns the rows and the request that finally succeeded (its ``top``
        may be smaller than asked). Raises the last SourceError when retries
        are exhausted, or at once for a permanent error (4xx).
        """
        attempt = 0
        while True:
            check_stage()  # a stage out of time stops here rather than retry
            try:
                return self.get(request), request
            except SourceError as exc:
                if not exc.retryable or attempt >= self.settings.retries:
                    raise
                if shrink and _shrinks(exc) and request.top is not None and request.top > 1:
                    request = replace(request, top=max(1, request.top // 2))
                delay = min(30.0, self.settings.backoff * 2**attempt)
                if self.failures[_first_line(exc)] == 1:
                    # One line: the failure and its (decoded, shortened) request, not the hint.
                    log.warning(
                        "1C request failed (%s; request: %s); retrying in %.1f s",
                        _first_line(exc),
                        exc.url,
                        delay,
                    )
                else:  # the same failure again: once in the log is enough (counted in the summary)
                    log.debug("1C request failed again; retry %d in %.1f s", attempt + 1, delay)
                self._sleep(delay)
                attempt += 1


def readable(url: str, limit: int = 400) -> str:
    """A request URL as a person reads it: decoded (Cyrillic, spaces), cut in the middle."""
    text = unquote(url)
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


def _first_line(exc: SourceError) -> str:
    """The failure without its request and hint: equal for the same failure of two requests."""
    text = str(exc.args[0]).split("\n", 1)[0]
    return text if exc.code is None else t("onec_code", code=exc.code, text=text)


class _TimeoutError(SourceError):
    def __init__(self, message: Text, *, url: str):
        super().__init__(message, retryable=True, url=url, hint=msg("onec_hint_slow"))


class _BoundsError(SourceError):
    """A page passed its size cap or its request deadline: a smaller page may pass."""


def _bounds_error(exc: LimitExceededError, url: str, *, stage: bool) -> SourceError:
    """The 1C server, the request and the limit it passed; a stage out of time is not retried."""
    if stage:
        return SourceError(
            msg("onec_request_stopped", limit=exc.limit),
            retryable=False,
            url=url,
            hint=msg("onec_hint_next_tick"),
        )
    return _BoundsError(
        msg("onec_request_stopped", limit=exc.limit),
        retryable=True,
        url=url,
        hint=msg("onec_hint_bounds"),
    )


def _shrinks(exc: SourceError) -> bool:
    """A read timeout, a cap or a 5xx may be the page's size: 1C builds answers in memory."""
    if isinstance(exc, _TimeoutError | _BoundsError):
        return True
    return isinstance(exc, AnswerError) and exc.status >= 500
