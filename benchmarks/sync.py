"""Benchmark of the 1C sync against the emulator with 100,000 documents.

Measured side by side in one run:

1. the full (initial) sync into a SQLite file: documents per second;
2. a raw httpx loop fetching exactly the same pages without processing them:
   the ratio raw time / sync time (goal ≥ 0.8: processing costs ≤ 25 %);
3. 100 changes among the 100,000 (signed, rejected, annulled): the
   incremental sync's request count and time, with warm caches (a running
   service) and cold (a fresh ``edo-rules sync`` process);
4. the peak memory (RSS) of the syncing process during the full sync (goal < 200 MB);
5. with ``--latency``, both incremental syncs and a single-document refresh
   (``OneCSource.refresh``) in round trips of that latency (goals: ≤ 4 and ≤ 3);
6. the store against the emulated base: every document with its state and its
   history of states; the script exits 1 when any differs.

The emulator runs in a child process so that its work and memory are not
counted as the sync's. ``--latency 0.1`` adds a delay to every emulated answer,
as a real 1C has (0.1–2 s a page): fetching the next page then overlaps with
processing the current one.

Run: ``.venv/bin/python benchmarks/sync.py [--documents N] [--latency S]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Sibling benchmark scripts (calendar.py) would shadow standard modules of the same name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Mapping, Sequence  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import httpx  # noqa: E402

from edo_rules.model import Document, StatusEvent  # noqa: E402
from edo_rules.sources.onec import OneCSettings, OneCSource, basic_auth  # noqa: E402
from edo_rules.store.sqlite import SQLiteStore  # noqa: E402

MOSCOW = ZoneInfo("Europe/Moscow")
LOGIN, PASSWORD = "Администратор", "пароль"
STATES = "InformationRegister_СостоянияДокументовЭДО"


def _serve(documents: int, latency: float, channel: Connection) -> None:
    """The child process: generate the base, serve it, obey commands."""
    from edo_rules.emulators.onec import OneCBase, OneCEmulator, populate

    base = OneCBase(seed=42, now=datetime(2026, 11, 27, 12, 0))
    base.add_login(LOGIN, PASSWORD)
    started = time.perf_counter()
    populate(base, documents)
    generated = time.perf_counter() - started
    with OneCEmulator(base) as emulator:
        emulator.faults.latency = latency
        channel.send((emulator.url, generated))
        while True:
            command, argument = channel.recv()
            if command == "requests":
                channel.send(list(emulator.requests))
            elif command == "change":
                channel.send(_change(base, argument))
            elif command == "truth":
                channel.send(_truth(base))
            else:
                channel.send("bye")
                return


def _change(base: object, count: int) -> int:
    from edo_rules.emulators.onec import OneCBase

    assert isinstance(base, OneCBase)
    waiting = [
        row["ЭлектронныйДокумент"]
        for row in base.sets[STATES].rows
        if row["Состояние"] == "ОжидаетсяПодтверждение"
    ][:count]
    base.advance(minutes=30)
    for number, doc in enumerate(waiting):
        if number % 10 < 6:
            base.sign(doc)
        elif number % 10 < 9:
            base.reject(doc, "Неверная сумма")
        else:
            base.annul(doc)
    return len(waiting)


def _truth(base: object) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The emulated base's documents with their states, and each one's history of states."""
    from edo_rules.emulators.onec import JOURNAL, OneCBase

    assert isinstance(base, OneCBase)
    states = {row["ЭлектронныйДокумент"]: row["Состояние"] for row in base.sets[STATES].rows}
    history: dict[str, list[str]] = {}
    for row in sorted(base.sets[JOURNAL].rows, key=lambda r: r["ДатаИзменения"]):
        seen = history.setdefault(row["ЭлектронныйДокумент"], [])
        if not seen or seen[-1] != row["СостояниеДокумента"]:
            seen.append(row["СостояниеДокумента"])
    return states, history


def _differences(store: SQLiteStore, truth: tuple[dict[str, str], dict[str, list[str]]]) -> int:
    """How many documents the store holds differently from the emulator (states or events)."""
    states, history = truth
    stored = {doc.id: doc for doc in store.iter_documents()}
    wrong = len(set(stored) ^ set(states))
    for key, state in states.items():
        doc = stored.get(key)
        if doc is None:
            continue
        events = [event.to_raw for event in store.history(key)]
        wrong += doc.status_1c != state or events != history.get(key, [])
    return wrong


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed_writes(store: SQLiteStore, spent: list[float]) -> None:
    """Count the time spent inside the store, to tell it from fetching and mapping."""
    write = store.write_sync_page

    def timed(
        documents: Sequence[Document],
        events: Sequence[StatusEvent],
        state: Mapping[str, str] | None = None,
    ) -> Sequence[StatusEvent]:
        started = time.perf_counter()
        try:
            return write(documents, events, state)
        finally:
            spent[0] += time.perf_counter() - started

    store.write_sync_page = timed  # type: ignore[method-assign]


def _full_sync(
    settings: OneCSettings, store: SQLiteStore, now: datetime
) -> tuple[float, int, OneCSource]:
    source = OneCSource(settings, documents=store.get_documents, clock=lambda: now)
    started = time.perf_counter()
    documents = 0
    for page in source.pages(store.get_sync_state()):
        store.write_sync_page(page.documents, page.events, page.state)
        documents += len(page.documents)
    return time.perf_counter() - started, documents, source


def _incremental(source: OneCSource, store: SQLiteStore) -> tuple[float, int, int]:
    started = time.perf_counter()
    documents = 0
    for page in source.pages(store.get_sync_state()):
        store.write_sync_page(page.documents, page.events, page.state)
        documents += len(page.documents)
    return time.perf_counter() - started, source.report.requests, documents


def _raw(url: str, paths: list[str]) -> float:
    """Fetch and decode the same pages, nothing else: the transfer the sync cannot avoid."""
    headers = {"Authorization": basic_auth(LOGIN, PASSWORD), "Accept": "application/json"}
    with httpx.Client(headers=headers, timeout=120) as client:
        started = time.perf_counter()
        for path in paths:
            answer = client.get(url + path)
            assert answer.status_code == 200
            # As the source decodes a page (1C can send a raw control character).
            assert isinstance(json.loads(answer.content, strict=False)["value"], list)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument(
        "--store-cache-mb",
        type=int,
        default=None,
        help="SQLite page cache of the store (default: the store's own default)",
    )
    parser.add_argument(
        "--store-sync-cache-mb",
        type=int,
        default=None,
        help="the page cache while a sync page is written (default: the store's own default)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds the emulator adds to every request (a real 1C: 0.1-2 s a page)",
    )
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve, args=(args.documents, args.latency, theirs), daemon=True)
    child.start()
    url, generated = ours.recv()
    print(
        f"emulator: {args.documents} documents generated in {generated:.1f} s at {url}, "
        f"latency {args.latency:g} s a request"
    )
    settings = OneCSettings(url=url, base="buh", user=LOGIN, password=PASSWORD)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=MOSCOW)
    baseline = _peak_mb()
    with tempfile.TemporaryDirectory() as folder:
        cache = {
            name: value
            for name, value in (
                ("cache_mb", args.store_cache_mb),
                ("sync_cache_mb", args.store_sync_cache_mb),
            )
            if value is not None
        }
        store = SQLiteStore(Path(folder) / "bench.db", **cache)
        in_store = [0.0]
        _timed_writes(store, in_store)
        full_time, documents, source = _full_sync(settings, store, now)
        peak = _peak_mb()
        requests = source.report.requests
        ours.send(("requests", None))
        # The data pages ($metadata is XML, read once and cached).
        paths = [p for p in ours.recv() if "/odata/standard.odata/" in p and "$metadata" not in p]
        raw_time = _raw(url, paths)
        print(
            f"full sync: {documents} documents in {full_time:.1f} s = "
            f"{documents / full_time:,.0f} docs/s, {requests} requests, "
            f"{source.report.events} events"
        )
        print(
            f"raw httpx loop over the same {len(paths)} pages: {raw_time:.1f} s = "
            f"{documents / raw_time:,.0f} docs/s; "
            f"ratio raw/sync = {raw_time / full_time:.2f} (goal >= 0.8)"
        )
        source_time = full_time - in_store[0]
        print(
            f"  of which store writes {in_store[0]:.1f} s, "
            f"fetching and mapping {source_time:.1f} s; "
            f"ratio raw/(sync - store writes) = {raw_time / source_time:.2f}"
        )
        print(
            f"peak RSS of the syncing process: {peak:.0f} MB "
            f"(at start {baseline:.0f} MB; store page cache "
            f"{args.store_cache_mb or 'default'} MB, while writing sync pages "
            f"{args.store_sync_cache_mb or 'default'} MB; goal < 200 MB)"
        )
        ours.send(("change", args.changes))
        changed = ours.recv()
        source._clock = lambda: now + timedelta(hours=1)  # the service's next tick
        warm_time, warm_requests, warm_docs = _incremental(source, store)
        source.close()
        print(
            f"incremental after {changed} changes (warm service): {warm_docs} documents, "
            f"{warm_requests} requests, {warm_time * 1000:.0f} ms"
        )
        ours.send(("change", args.changes))
        changed = ours.recv()
        cold = OneCSource(
            settings, documents=store.get_documents, clock=lambda: now + timedelta(hours=2)
        )
        cold_time, cold_requests, cold_docs = _incremental(cold, store)
        print(
            f"incremental after {changed} more changes (fresh process): {cold_docs} documents, "
            f"{cold_requests} requests, {cold_time * 1000:.0f} ms{_trips(cold_time, args.latency)}"
            " (goal <= 4 round trips)"
        )
        ours.send(("change", 1))
        ours.recv()
        ours.send(("truth", None))
        truth = ours.recv()
        one = [
            key
            for key, state in truth[0].items()
            if store.get_documents([key])[key].status_1c != state
        ]
        cold.close()
        fresh = OneCSource(
            settings, documents=store.get_documents, clock=lambda: now + timedelta(hours=3)
        )
        one_time, one_requests = _refresh_one(fresh, store, one)
        fresh.close()
        print(
            f"single-document refresh (fresh process): {len(one)} document, "
            f"{one_requests} requests, "
            f"{one_time * 1000:.0f} ms{_trips(one_time, args.latency)} (goal <= 3 round trips)"
        )
        wrong = _differences(store, truth)
        print(
            f"store vs emulator: {len(truth[0])} documents, "
            f"{sum(map(len, truth[1].values()))} events; {wrong} document(s) differ"
        )
        store.close()
    ours.send(("stop", None))
    ours.recv()
    child.join(timeout=10)
    if wrong:
        sys.exit(1)


def _refresh_one(source: OneCSource, store: SQLiteStore, keys: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    for page in source.refresh(store.get_sync_state(), keys):
        store.write_sync_page(page.documents, page.events, page.state)
    return time.perf_counter() - started, source.report.requests


def _trips(seconds: float, latency: float) -> str:
    """The time in round trips of the emulated latency (each request waits it once)."""
    return f" = {seconds / latency:.1f} round trips of {latency:g} s" if latency else ""


if __name__ == "__main__":
    main()
