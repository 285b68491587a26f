"""Benchmark of the 1C sync against the emulator: the sync beside the raw transfer it cannot avoid.

One run prints one table, each figure beside its baseline (medians of
``--repeat`` runs, ≥ 5 by default; at 1M documents use ``--repeat 1``):

1. the full (initial) sync into a SQLite file at zero latency, against a raw
   httpx loop fetching and decoding exactly the same pages: ratio raw / sync
   (goal ≥ 0.5, processing costs at most the transfer);
2. the peak RSS of the syncing process (the emulator serves from another
   process; goal < 200 MB at 1M documents, flat in the number of documents);
3. at ``--latency`` (a real 1C answers in 0.1–2 s a page): changes and new
   documents read by an incremental sync in a fresh process, and a refresh of
   one stored and one unseen document, each with ``$expand`` of the referenced
   catalogs and without it (``onec.expand: false``): requests, time, round trips
   (exactly ``--changes`` documents change, else the run stops; goals: ≤ 4 round
   trips for the incremental sync, ≤ 3 for a refresh, printed as "goal missed"
   lines when missed — timing on a shared host is not an exit code); each phase
   is also read into a third store at zero latency: the part of the time that is
   not waiting for 1C (mapping, the store's writes, threads), in round trips;
4. the store against the emulated base: the number of documents and events and
   a digest of every document's state and history of states, for the full
   sync and for both incremental stores; the two incremental stores must
   hold identical documents. The script exits 1 when anything differs.

``--profile`` prints the 25 costliest functions of one full sync (cProfile).

Run: ``.venv/bin/python benchmarks/sync.py [--documents N] [--repeat R] [--full-repeat F]
[--changes C] [--latency S]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Sibling benchmark scripts (calendar.py) would shadow standard modules of the same name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterable, Iterator  # noqa: E402
from dataclasses import dataclass, field, replace  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import httpx  # noqa: E402

from edo_rules.sources.onec import OneCSettings, OneCSource, basic_auth  # noqa: E402
from edo_rules.store.sqlite import SQLiteStore  # noqa: E402

MOSCOW = ZoneInfo("Europe/Moscow")
LOGIN, PASSWORD = "Администратор", "пароль"
STATES = "InformationRegister_СостоянияДокументовЭДО"
WEB = "http://1c.example/buh/"  # one web client address whatever port the emulator has


# -- the emulator's process ------------------------------------------------------------
def _serve(documents: int, channel: Connection) -> None:
    """The child process: generate the base, serve it, obey commands."""
    from edo_rules.emulators.onec import OneCBase, OneCEmulator, populate

    base = OneCBase(seed=42, now=datetime(2026, 11, 27, 12, 0))
    base.add_login(LOGIN, PASSWORD)
    started = time.perf_counter()
    populate(base, documents)
    generated = time.perf_counter() - started
    with OneCEmulator(base) as emulator:
        channel.send((emulator.url, generated))
        commands: dict[str, Callable[[Any], Any]] = {
            "requests": lambda _: _drain(emulator),
            "latency": lambda value: setattr(emulator.faults, "latency", value),
            "change": lambda counts: _change(base, *counts),
            "truth": lambda _: _truth(base),
        }
        while True:
            command, argument = channel.recv()
            if command not in commands:
                channel.send("bye")
                return
            channel.send(commands[command](argument))


def _drain(emulator: Any) -> list[str]:
    paths = list(emulator.requests)
    emulator.requests.clear()
    return paths


def _change(base: Any, count: int, new: int) -> tuple[list[str], list[str]]:
    """Sign, reject or annul ``count`` waiting documents and create ``new`` ones.

    Returns the changed documents and the new ones (the refresh phase picks from them).
    """
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
    counterparty = base.add_counterparty(
        f"ООО «Новый {base.now:%H%M%S}»", "7701234567", "770101001"
    )
    contract = base.add_contract(counterparty, f"Н-{base.now:%H%M%S}", date(2026, 11, 1))
    user = base.sets["Catalog_Пользователи"].rows[-1]["Ref_Key"]
    org = base.sets["Catalog_Организации"].rows[0]["Ref_Key"]
    created = [
        base.create_document(
            counterparty=counterparty, contract=contract, responsible=user, organization=org
        )
        for _ in range(new)
    ]
    return waiting, created


def _truth(base: Any) -> tuple[int, int, int]:
    """The emulated base's documents, events (states in a row kept once) and their digest."""
    from edo_rules.emulators.onec import JOURNAL

    history: dict[str, list[str]] = {}
    for row in sorted(base.sets[JOURNAL].rows, key=lambda r: r["ДатаИзменения"]):
        seen = history.setdefault(row["ЭлектронныйДокумент"], [])
        if not seen or seen[-1] != row["СостояниеДокумента"]:
            seen.append(row["СостояниеДокумента"])
    digest = events = documents = 0
    for row in base.sets[STATES].rows:
        key = row["ЭлектронныйДокумент"]
        states = history.get(key, [])
        digest = (digest + _digest(key, row["Состояние"], states)) % 2**64
        events += len(states)
        documents += 1
    return documents, events, digest


def _digest(key: str, state: str, states: Iterable[str]) -> int:
    text = "\x1f".join((key, state, *states)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


# -- the store against the emulator -----------------------------------------------------
def _stored(path: Path) -> tuple[int, int, int]:
    """Documents, events and digest of a store file, streamed (no whole-set lists)."""
    conn = sqlite3.connect(path)
    try:
        documents = conn.execute(
            "SELECT id, json_extract(json, '$.status_1c') FROM documents ORDER BY id"
        )
        events = conn.execute(
            "SELECT document_id, to_raw FROM status_events ORDER BY document_id, at_utc, id"
        )
        return _fold(documents, events)
    finally:
        conn.close()


def _fold(
    documents: Iterator[tuple[str, str]], events: Iterator[tuple[str, str]]
) -> tuple[int, int, int]:
    digest = count = total = 0
    pending = next(events, None)
    for key, state in documents:
        states: list[str] = []
        while pending is not None and pending[0] <= key:
            if pending[0] == key:
                states.append(pending[1])
            pending = next(events, None)
        digest = (digest + _digest(key, state, states)) % 2**64
        count += 1
        total += len(states)
    return count, total, digest


def _same_documents(first: Path, second: Path) -> int:
    """Documents whose stored JSON or history differs between two store files."""
    a, b = sqlite3.connect(first), sqlite3.connect(second)
    try:
        query = (
            "SELECT d.id, d.json, (SELECT group_concat(e.at_utc || e.to_raw || "
            "coalesce(e.comment, '') || coalesce(e.actor, ''), '|') FROM status_events e "
            "WHERE e.document_id = d.id) FROM documents d ORDER BY d.id"
        )
        left, right = a.execute(query), b.execute(query)
        return sum(x != y for x, y in zip(left, right, strict=False)) + abs(_count(a) - _count(b))
    finally:
        a.close()
        b.close()


def _count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])


# -- the measured phases ---------------------------------------------------------------
def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(pages: Iterator[Any], store: SQLiteStore, writing: list[float] | None = None) -> int:
    """Write every page; ``writing`` gets the seconds spent inside the store, the seconds
    until the first page of documents arrived and those of the last write (which builds
    what a bulk load deferred)."""
    documents, begun = 0, time.perf_counter()
    for page in pages:
        started = time.perf_counter()
        if writing is not None and page.documents and not documents:
            writing[1] = started - begun
        store.write_sync_page(page.documents, page.events, page.state, initial=page.initial)
        if writing is not None:
            writing[2] = time.perf_counter() - started
            writing[0] += writing[2]
        documents += len(page.documents)
    return documents


def _full_sync(
    settings: OneCSettings, path: Path, now: datetime
) -> tuple[float, list[float], int, int]:
    """Seconds of the whole sync and of its phases (see ``_run``), documents, requests."""
    store = SQLiteStore(path)
    source = OneCSource(settings, documents=store.get_documents, clock=lambda: now)
    writing = [0.0, 0.0, 0.0]
    try:
        started = time.perf_counter()
        documents = _run(source.pages(store.get_sync_state()), store, writing)
        return time.perf_counter() - started, writing, documents, source.report.requests
    finally:
        source.close()
        store.close()


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


@dataclass
class Full:
    """The full syncs and raw loops of one run: seconds of each, and what the first one did."""

    sync: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    writing: list[float] = field(default_factory=list)
    staged: list[float] = field(default_factory=list)  # until the first page of documents
    closing: list[float] = field(default_factory=list)  # the last write (a bulk load's indexes)
    documents: int = 0
    requests: int = 0
    peak: float = 0.0  # MB, the high-water mark right after the first sync


def _full_rounds(
    args: argparse.Namespace,
    settings: OneCSettings,
    channel: Connection,
    folder: Path,
    now: datetime,
) -> Full:
    """``repeat`` full syncs, each followed by the raw loop over the pages it fetched.

    The first store is kept as ``full.db`` for the later phases.
    """
    found = Full()
    for turn in range(args.full_repeat or args.repeat):
        path = folder / f"full{turn}.db"
        profile = cProfile.Profile() if args.profile and turn == 0 else None
        if profile is not None:
            profile.enable()
        seconds, writing, found.documents, found.requests = _full_sync(settings, path, now)
        if profile is not None:
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        found.sync.append(seconds)
        found.writing.append(writing[0])
        found.staged.append(writing[1])
        found.closing.append(writing[2])
        if turn == 0:
            # The sync's own peak, before the raw loop below can raise the high-water mark.
            found.peak = _peak_mb()
        # The data pages ($metadata is XML, read once and cached).
        paths = [p for p in _ask(channel, "requests") if "$metadata" not in p]
        found.raw.append(_raw(settings.url, paths))
        _ask(channel, "requests")
        if turn == 0:
            path.replace(folder / "full.db")
        else:
            path.unlink()
    return found


@dataclass
class Round:
    """One phase at latency, with $expand and without: seconds and requests of each run."""

    seconds: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})
    requests: dict[bool, list[int]] = field(default_factory=lambda: {True: [], False: []})
    #: The same phase with $expand on a third store at zero latency: what is not waiting.
    idle: list[float] = field(default_factory=list)

    def add(self, expand: bool, seconds: float, requests: int) -> None:
        self.seconds[expand].append(seconds)
        self.requests[expand].append(requests)


def _fresh(settings: OneCSettings, store: SQLiteStore, now: datetime) -> OneCSource:
    """A source with empty caches: a fresh ``edo-rules sync`` process."""
    return OneCSource(settings, documents=store.get_documents, clock=lambda: now)


def _latency_rounds(
    args: argparse.Namespace, settings: OneCSettings, stores: dict[Any, Path], channel: Connection
) -> dict[str, Round]:
    """Changes, new documents and refreshes read with and without $expand, ``repeat`` times.

    The ``"idle"`` store reads the same with $expand at zero latency (the emulator's
    latency is switched off for it): the time that is not spent waiting for 1C.
    """
    rounds = {"incremental": Round(), "refresh stored": Round(), "refresh unseen": Round()}
    now = datetime(2026, 11, 27, 13, 0, tzinfo=MOSCOW)
    opened = {key: SQLiteStore(path) for key, path in stores.items()}

    def measure(name: str, key: Any, pages: Callable[[OneCSource, SQLiteStore], Any]) -> None:
        store = opened[key]
        idle = key == "idle"
        if idle:
            _ask(channel, "latency", 0.0)
        source = _fresh(replace(settings, expand=key is not False), store, now)
        started = time.perf_counter()
        _run(pages(source, store), store)
        seconds = time.perf_counter() - started
        source.close()
        if idle:
            _ask(channel, "latency", args.latency)
            rounds[name].idle.append(seconds)
        else:
            rounds[name].add(key, seconds, source.report.requests)

    try:
        for turn in range(args.repeat):
            now += timedelta(hours=1)
            changed, created = _ask(channel, "change", (args.changes, args.new))
            if len(changed) != args.changes or len(created) != args.new:
                raise SystemExit(
                    f"the emulator changed {len(changed)} documents and created {len(created)}, "
                    f"not {args.changes} and {args.new}: use more --documents or fewer --repeat"
                )
            for key in opened:
                measure("incremental", key, lambda s, st: s.pages(st.get_sync_state()))
            # A changed document, stored now, and one created after the sync.
            stored = [changed[turn % len(changed)]]
            unseen = _ask(channel, "change", (0, 1))[1]
            for name, docs in (("refresh stored", stored), ("refresh unseen", unseen)):
                for key in opened:
                    measure(name, key, lambda s, st, d=docs: s.refresh(st.get_sync_state(), d))
    finally:
        for store in opened.values():
            store.close()
    return rounds


def _ask(channel: Connection, command: str, argument: Any = None) -> Any:
    channel.send((command, argument))
    return channel.recv()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _table(rows: list[tuple[str, str, str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each phase (median)")
    parser.add_argument(
        "--full-repeat", type=int, default=0, help="full syncs (median; default: --repeat)"
    )
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--new", type=int, default=5, help="documents created per latency round")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.1,
        help="seconds the emulator adds to every request in the $expand phase (0: skip it)",
    )
    parser.add_argument("--profile", action="store_true", help="profile one full sync")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve, args=(args.documents, theirs), daemon=True)
    child.start()
    url, generated = ours.recv()
    print(f"emulator: {args.documents} documents generated in {generated:.1f} s at {url}")
    settings = OneCSettings(url=url, base="buh", user=LOGIN, password=PASSWORD, web_url=WEB)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=MOSCOW)
    failures: list[str] = []
    missed: list[str] = []  # a speed goal: printed, not an exit code (noisy on a shared host)
    rows = [("figure", "edo-rules", "baseline", "ratio", "goal")]
    with tempfile.TemporaryDirectory() as folder:
        kept = Path(folder) / "full.db"
        at_start = _peak_mb()
        full = _full_rounds(args, settings, ours, Path(folder), now)
        sync_times, raw_times, write_times = full.sync, full.raw, full.writing
        documents, requests, peak = full.documents, full.requests, full.peak
        sync_s, raw_s = _median(sync_times), _median(raw_times)
        ratio = raw_s / sync_s
        rows.append((
            f"full sync, {documents:,} docs, {requests} requests "
            f"(s, median of {args.full_repeat or args.repeat})",
            f"{sync_s:.2f}", f"raw fetch {raw_s:.2f}", f"{ratio:.2f}", ">= 0.5",
        ))  # fmt: skip
        rows.append((
            "  of which inside the store's writes (s)", f"{_median(write_times):.2f}", "", "", "",
        ))  # fmt: skip
        rows.append((
            "    of which the last write (deferred indexes, summary) (s)",
            f"{_median(full.closing):.2f}", "", "", "",
        ))  # fmt: skip
        rows.append((
            "  of which before the first page of documents (reference sets) (s)",
            f"{_median(full.staged):.2f}", "", "", "",
        ))  # fmt: skip
        rows.append((
            "  documents per second", f"{documents / sync_s:,.0f}", f"{documents / raw_s:,.0f}",
            "", "",
        ))  # fmt: skip
        rows.append((
            "peak RSS of the syncing process (MB)", f"{peak:.0f}", f"at start {at_start:.0f}", "",
            "< 200",
        ))  # fmt: skip
        truth = _ask(ours, "truth")
        held = _stored(kept)
        rows.append((
            "store vs emulator (documents, events)", f"{held[0]:,}, {held[1]:,}",
            f"{truth[0]:,}, {truth[1]:,}", "", "equal, same digest",
        ))  # fmt: skip
        if held != truth:
            failures.append(f"full sync: store {held} against the emulator {truth}")
        if args.latency:
            stores: dict[Any, Path] = {
                True: Path(folder) / "expand.db",
                False: Path(folder) / "plain.db",
                "idle": Path(folder) / "idle.db",
            }
            for target in stores.values():
                shutil.copyfile(kept, target)
            _ask(ours, "latency", args.latency)
            rounds = _latency_rounds(args, settings, stores, ours)
            _ask(ours, "latency", 0.0)
            missed = _add_rounds(rows, rounds, args)
            truth = _ask(ours, "truth")
            for key, target in stores.items():
                held = _stored(target)
                if held != truth:
                    failures.append(f"store {key}: {held} against the emulator {truth}")
            differ = _same_documents(stores[True], stores[False])
            rows.append((
                "documents differing, $expand store vs plain store", str(differ), "", "", "0",
            ))  # fmt: skip
            if differ:
                failures.append(f"{differ} documents differ between the $expand and plain stores")
    _ask(ours, "stop")
    child.join(timeout=10)
    print()
    _table(rows)
    print(f"\nratio raw/sync = {ratio:.2f} (goal >= 0.5)")
    for line in missed:
        print(line)
    for failure in failures:
        print(f"DIFFERS: {failure}")
    if failures:
        sys.exit(1)


#: Round trips an incremental sync of 100 changes and a single-document refresh may take.
GOALS = {"incremental": 4.0, "refresh stored": 3.0, "refresh unseen": 3.0}


def _add_rounds(
    rows: list[tuple[str, str, str, str, str]], rounds: dict[str, Round], args: argparse.Namespace
) -> list[str]:
    """One row per phase; the goals missed (with $expand, the default) as lines to print."""
    latency = args.latency
    missed: list[str] = []
    for name, found in rounds.items():
        with_s, without_s = _median(found.seconds[True]), _median(found.seconds[False])
        with_r, without_r = _median(found.requests[True]), _median(found.requests[False])  # type: ignore[arg-type]
        what = (
            f"incremental, {args.changes} changed + {args.new} new (fresh process)"
            if name == "incremental"
            else f"{name} document (fresh process)"
        )
        rows.append((
            f"{what}: round trips of {latency:g} s, $expand vs plain",
            f"{with_s / latency:.1f} ({with_r:g} req)",
            f"{without_s / latency:.1f} ({without_r:g} req)",
            f"{without_s / with_s:.2f}", f"<= {GOALS[name]:g}, fewer",
        ))  # fmt: skip
        idle = _median(found.idle)
        rows.append((
            "  of which not waiting for 1C (same at zero latency, in round trips)",
            f"{idle / latency:.1f}", "", "", "",
        ))  # fmt: skip
        if with_s / latency > GOALS[name]:
            missed.append(f"goal missed: {name} {with_s / latency:.1f} > {GOALS[name]:g}")
    return missed


if __name__ == "__main__":
    main()
