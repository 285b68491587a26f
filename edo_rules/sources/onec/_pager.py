"""Reading whole sets page by page, and rows by key in ``eq … or …`` chunks.

1C has no server-driven paging: pages are ``$top``/``$skip`` over a
deterministic ``$orderby`` (a date plus a scalar tiebreak). Rows can shift
between requests, so rows are de-duplicated by key against the previous page,
and re-checked locally in case the server ignored ``$filter`` or ``$top``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from queue import Full, Queue
from typing import Any, TypeVar

from edo_rules._bounds import in_context
from edo_rules._messages import msg
from edo_rules.errors import SourceError
from edo_rules.sources.onec._client import ODataClient, PageRequest

Row = dict[str, Any]
T = TypeVar("T")


def iter_pages(
    client: ODataClient,
    request: PageRequest,
    *,
    key: Callable[[Row], Hashable],
    keep: Callable[[Row], bool] | None = None,
) -> Iterator[list[Row]]:
    """Yield the fresh rows of each page until the set is exhausted.

    The next page is fetched in a background thread while the caller
    processes the current one, so 1C prepares it meanwhile.
    """
    return prefetched(_pages(client, request, key=key, keep=keep))


def iter_sets(
    client: ODataClient,
    requests: Iterable[PageRequest],
    *,
    key: Callable[[Row], Hashable],
) -> Iterator[tuple[str, list[Row]]]:
    """The fresh rows of each page of several sets, one set after another, with the set.

    One background fetcher runs through them all: the first page of a set is
    fetched while the caller still processes the last page of the one before.
    """

    def pages() -> Iterator[tuple[str, list[Row]]]:
        for request in requests:
            for rows in _pages(client, request, key=key, keep=None):
                yield request.entity_set, rows

    return prefetched(pages())


def _pages(
    client: ODataClient,
    request: PageRequest,
    *,
    key: Callable[[Row], Hashable],
    keep: Callable[[Row], bool] | None,
) -> Iterator[list[Row]]:
    skip = 0
    previous: set[Hashable] = set()
    while True:
        rows, used = client.fetch(replace(request, skip=skip))
        keys = [_hashable(key(row)) for row in rows]
        fresh = [
            row
            for row, row_key in zip(rows, keys, strict=True)
            if row_key not in previous and (keep is None or keep(row))
        ]
        if used.top is None or len(rows) != used.top:
            # A short page is the last one; a longer one means $top was ignored.
            if fresh:
                yield fresh
            return
        if rows and all(row_key in previous for row_key in keys):
            raise SourceError(
                msg("onec_same_page", set=request.entity_set),
                retryable=True,
                url=client.url(used),
                hint=msg("onec_hint_paging"),
            )
        if fresh:
            yield fresh
        previous = set(keys)
        skip += len(rows)
        request = used


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Run ``items`` in a thread, up to ``depth`` items ahead; errors re-raise here, in order."""
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.05)
                return True
            except Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed over to the consumer, raised there
            put(_Failure(exc))

    # The fetcher works for the caller's stage: it runs in the caller's context (its deadline).
    worker = threading.Thread(target=in_context(run), name="onec-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=2.0)


def _hashable(value: Hashable) -> Hashable:
    """A key usable in a set even when a damaged row holds a list or a dict there."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def chunks(keys: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in keys:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fetch_by_keys(
    client: ODataClient,
    entity_set: str,
    field: str,
    keys: Iterable[str],
    select: tuple[str, ...],
    *,
    literal: Callable[[str], str] | None = None,
    expand: tuple[str, ...] = (),
) -> Iterator[Row]:
    """Rows whose ``field`` is one of ``keys``: ``eq … or …`` chunks, never ``in``.

    A chunk holds up to ``chunk_size`` keys (20 by default) and fewer when the
    query string would pass ``max_query`` characters: IIS rejects query
    strings over 2048 characters, and Cyrillic names triple in length when
    percent-encoded.
    """
    typed = literal or _guid_literal
    bare = PageRequest(entity_set, select, filter="x", expand=expand)
    size = _chunk_size(client, bare, field)
    batches = list(chunks(dict.fromkeys(keys), size))
    requests = [
        replace(bare, filter=" or ".join(f"{field} eq {typed(v)}" for v in batch))
        for batch in batches
    ]
    # The chunks are independent: they go out together (see ODataClient.fetch_many).
    for batch, rows in zip(batches, client.fetch_many(requests), strict=True):
        wanted = set(batch)
        yield from (row for row in rows if row.get(field) in wanted)


def requests_for(client: ODataClient, request: PageRequest, field: str, keys: int) -> int:
    """How many requests :func:`fetch_by_keys` sends for ``keys`` keys of ``field`` with the
    select and expand of ``request`` (practically infinite when even one key is too long)."""
    bare = replace(request, filter="x")
    size = _chunk_size(client, bare, field, least=0)
    return -(-keys // size) if size else 1 << 30


def keys_per_request(client: ODataClient, request: PageRequest, field: str) -> int:
    """How many keys of ``field`` one request of :func:`fetch_by_keys` carries (at least 1)."""
    return _chunk_size(client, replace(request, filter="x"), field)


def _chunk_size(client: ODataClient, bare: PageRequest, field: str, *, least: int = 1) -> int:
    settings = client.settings
    one = replace(bare, filter=f"{field} eq guid'{_SAMPLE}' or ").query(False)
    clause = len(one) - len(bare.query(False)) + 1
    room = settings.max_query - len(bare.query(settings.allowed_only))
    return max(least, min(settings.chunk_size, room // clause))


_SAMPLE = "00000000-0000-0000-0000-000000000000"


def _guid_literal(value: str) -> str:
    return f"guid'{value}'"


def parallel(calls: list[Callable[[], None]], workers: int) -> None:
    """Run independent calls together (each one's requests still go through the client's
    own limit); the first failure is raised after all have finished."""
    if len(calls) <= 1 or workers <= 1:
        for call in calls:
            call()
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        futures = [pool.submit(in_context(call)) for call in calls]
    for future in futures:
        future.result()
