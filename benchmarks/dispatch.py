"""Dispatch throughput: the real dispatcher over a real store, next to each plan's ceiling.

Action requests are written to a SQLite store as the engine writes them
(firings with their requests); the runner's own :class:`Dispatcher` claims
them, sends them through the real adapters, client, batching and rate bucket
to the Bitrix24 emulator over HTTP, and records every outcome. The emulator
answers each request after ``--latencies`` seconds (a portal across the
internet), with the ordinary plan's limits and then Enterprise's. The
portal's bucket is filled first (steady state), so the figure to compare is
the plan's ceiling: drain rate x 50 commands per batch, counted from the
moment the client's bucket was last full (read when the fill ends: the fill
itself takes several round trips, during which the bucket drains).
A warm-up dispatch first finds each counterparty's company in the portal (the
mirror's binding, cached in the store as a running runner has it).

Side by side, in one run: the client sending one batch at a time
(``in_flight 1``, the sequential dispatcher) and ``--in-flight`` batches at
once; ``bucket`` is the share of the plan's request rate the latter used
(HTTP requests per second ÷ the drain rate: what the dispatcher could still
gain). Each cell is the median of ``--repeat`` runs.

Checks (exit status 1 when any fails): 0 lost (every request DONE, every
notification and list element present), 0 duplicated (no notification TAG
twice, one list element per document), each document's notifications
carried out in the order they were requested, and 0 QUERY_LIMIT_EXCEEDED.

    .venv/bin/python -m benchmarks.dispatch [--seconds 10] [--repeat 5]
        [--latencies 0,0.2,0.5] [--plans ordinary,enterprise] [--in-flight 4]

(run it as a module from the project root: ``benchmarks/`` holds a
``calendar.py`` that would shadow the standard library's when run as a script)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from edo_rules.actions.bitrix24 import Bitrix24Settings, build_adapters, make_client
from edo_rules.actions.bitrix24.adapters._base import marker
from edo_rules.actions.bitrix24.client import Bitrix24Client
from edo_rules.emulators.bitrix24 import PLANS, Bitrix24Emulator
from edo_rules.model import (
    ActionRequest,
    Counterparty,
    Direction,
    Document,
    Firing,
    Kind,
    RequestState,
    Status,
)
from edo_rules.runner.dispatch import Dispatcher, RetryPolicy
from edo_rules.store.base import Store
from edo_rules.store.sqlite import SQLiteStore

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
MIRROR = {
    "target": "list",
    "iblock_id": 42,
    "fields": {"status": "PROPERTY_1", "company": "PROPERTY_2", "overdue": "PROPERTY_3"},
}


@dataclass
class Result:
    """One run: how fast, and what the emulator holds afterwards."""

    actions: int
    seconds: float
    lost: int
    duplicates: int
    out_of_order: int
    refused: int
    http: int  # HTTP requests the portal counted while dispatching

    @property
    def rate(self) -> float:
        return self.actions / self.seconds

    @property
    def wrong(self) -> int:
        return self.lost + self.duplicates + self.out_of_order + self.refused


def _documents(emulator: Bitrix24Emulator, count: int) -> list[Document]:
    inns = [r["RQ_INN"] for r in emulator.portal.requisites()]
    return [
        Document(
            id=f"doc-{n:05d}",
            kind=Kind.ACT,
            number=str(n),
            date=date(2026, 11, 1),
            direction=Direction.OUTGOING,
            status=Status.SENT,
            status_1c="Отправлен",
            counterparty=Counterparty(f"Контрагент {n}", inn=inns[n % len(inns)]),
            amount=Decimal("1000.00"),
            sent_at=NOW,
        )
        for n in range(count)
    ]


def warm_up(store: Store, emulator: Bitrix24Emulator, dispatcher: Dispatcher) -> None:
    """Steady state: one mirror update per counterparty, so each binding is cached."""
    inns = [r["RQ_INN"] for r in emulator.portal.requisites()]
    docs = [
        replace(doc, id=f"warm-{n:03d}", counterparty=Counterparty(f"Контрагент {n}", inn=inn))
        for n, (doc, inn) in enumerate(zip(_documents(emulator, len(inns)), inns, strict=True))
    ]
    store.upsert_documents(docs)
    store.record_firings(
        [
            (
                Firing("bench/warm", doc.id, "w", "e", NOW, NOW, "b"),
                [ActionRequest("mirror", {}, f"warm-{doc.id}", doc.id, "bench/warm", NOW)],
            )
            for doc in docs
        ]
    )
    drain(dispatcher, store, limit=120.0)


def enqueue(store: Store, emulator: Bitrix24Emulator, documents: int) -> tuple[int, int]:
    """Two notifications per document and a mirror update for every fourth, as firings
    with their requests (the engine's writes).

    Notification ``n`` goes to document ``n % documents``: each document's two
    notifications are requested in order (their order at the portal is checked).
    A mirror update costs two HTTP requests per 50 (it looks the element up
    first), so its share sets how close the actions come to the ceiling; the
    bucket use column shows the dispatcher's own share of the gap.
    Returns (notifications, mirrors).
    """
    docs = _documents(emulator, documents)
    store.upsert_documents(docs)
    users = [int(u["ID"]) for u in emulator.portal.users()]
    firings: list[tuple[Firing, list[ActionRequest]]] = []
    for n in range(2 * documents):
        doc = docs[n % documents].id
        params = {"to": users[n % len(users)], "text": f"Напоминание {n}"}
        request = ActionRequest("notify", params, f"notify-{n}", doc, "bench/notify", NOW)
        firings.append((Firing("bench/notify", doc, f"s{n}", "e", NOW, NOW, "b"), [request]))
    mirrored = docs[::4]
    for n, doc in enumerate(mirrored):
        params = {"overdue": n % 3 == 0}
        request = ActionRequest("mirror", params, f"mirror-{n}", doc.id, "bench/mirror", NOW)
        firings.append((Firing("bench/mirror", doc.id, "m", "e", NOW, NOW, "b"), [request]))
    store.record_firings(firings)
    return 2 * documents, len(mirrored)


def fill_bucket(client: Bitrix24Client, requests: int) -> None:
    """Steady state: ``requests`` calls at once fill the portal's bucket and the client's."""

    def one(_: int) -> object:
        return client.call("user.get", {"ID": 1}, idempotent=True)

    # Enough threads to fill the bucket within a round trip or two, not one per request
    # (hundreds of connections at once only exercise the emulator's accept queue).
    with ThreadPoolExecutor(min(requests, 64)) as pool:
        list(pool.map(one, range(requests)))


def drain(dispatcher: Dispatcher, store: Store, limit: float) -> None:
    """Dispatch until nothing is pending or in flight (retries come due on the wall clock)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        dispatcher.dispatch()
        if not store.requests([RequestState.PENDING, RequestState.IN_FLIGHT]):
            return
        time.sleep(0.05)


def settings_for(emulator: Bitrix24Emulator, plan: str, in_flight: int) -> Bitrix24Settings:
    return Bitrix24Settings.from_mapping(
        {
            "webhook_url": emulator.add_webhook(1),
            "plan": plan,
            "mirror": MIRROR,
            "in_flight": in_flight,
            # Throughput, not etiquette: many notifications to a few users.
            "flood_guard": {"per_tick": 10**9, "per_day": 10**9},
        },
        where="benchmark",
    )


def run(plan: str, latency: float, in_flight: int, documents: int) -> Result:
    limits = PLANS[plan]
    with (
        tempfile.TemporaryDirectory() as tmp,
        Bitrix24Emulator(plan=plan, seed=7, latency=latency) as emulator,
    ):
        store = SQLiteStore(Path(tmp) / "bench.db")
        settings = settings_for(emulator, plan, in_flight)
        client = make_client(settings)
        actions = build_adapters(settings, store, client=client, clock=lambda: NOW)
        dispatcher = Dispatcher(
            store,
            actions,
            clock=lambda: datetime.now(UTC),
            policy=RetryPolicy(base=1.0),
            since=NOW - timedelta(days=1),  # nothing to look up before creating
            rate=settings.plan.rate,  # as the runner builds it
        )
        warm_up(store, emulator, dispatcher)
        warmed = len(emulator.portal.list_elements(42))
        notifications, mirrors = enqueue(store, emulator, documents)
        fill_bucket(client, limits.capacity)
        before = emulator.stats()
        # The ceiling is counted from the moment the client's bucket was last full. The
        # fill takes several round trips, so it has drained while the fill ran: the
        # requests it would send at once are the dispatcher's head start, moved back onto
        # the clock (a fill 10 requests short gave Enterprise 500 free actions at 0.5 s:
        # 1.06 of the ceiling). The client's own view, not the portal's: it keeps a
        # headroom free by design, which costs a burst, not the rate measured here.
        started = time.perf_counter() - client.rate_room() / limits.rate
        drain(dispatcher, store, limit=600.0)
        seconds = time.perf_counter() - started
        after = emulator.stats()
        lost, duplicates, out_of_order = verify(emulator, store, notifications, mirrors, warmed)
        client.close()
        store.close()
    return Result(
        notifications + mirrors,
        seconds,
        lost,
        duplicates,
        out_of_order,
        after.get("refused_rate", 0) - before.get("refused_rate", 0),
        after["requests"] - before.get("requests", 0),
    )


def bucket_use(result: Result, plan: str) -> float:
    """The share of the plan's request rate the run used (1.0: every slot of the bucket)."""
    return result.http / result.seconds / PLANS[plan].rate


def verify(
    emulator: Bitrix24Emulator, store: Store, notifications: int, mirrors: int, warmed: int
) -> tuple[int, int, int]:
    """(lost, duplicated, documents whose notifications arrived out of order); ``warmed``
    list elements (and as many done requests) are the warm-up's."""
    with emulator.portal.lock:
        sent = list(emulator.portal.t.notifications)
    tags = Counter(n["tag"] for n in sent)
    codes = Counter(e["CODE"] for e in emulator.portal.list_elements(42))
    done = len(store.requests([RequestState.DONE])) - warmed
    lost = (
        (notifications - len(tags))
        + (mirrors + warmed - len(codes))
        + (notifications + mirrors - done)
    )
    duplicates = sum(c - 1 for c in tags.values()) + sum(c - 1 for c in codes.values())
    number = {marker(f"notify-{n}"): n for n in range(notifications)}
    arrived: dict[int, list[int]] = defaultdict(list)
    for note in sent:
        n = number.get(note["tag"])
        if n is not None:
            arrived[n % (notifications // 2)].append(n)
    out_of_order = sum(seq != sorted(seq) for seq in arrived.values())
    return lost, duplicates, out_of_order


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="work per run, in seconds at the ceiling"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per cell (the median)")
    parser.add_argument("--latencies", default="0,0.2,0.5")
    parser.add_argument("--plans", default="ordinary,enterprise")
    parser.add_argument("--in-flight", type=int, default=4)
    args = parser.parse_args(argv)
    print(
        f"{'plan':<11}{'latency':>8}{'actions':>8}{'ceiling':>8}"
        f"{'1 in flight':>13}{'ratio':>7}{f'{args.in_flight} in flight':>13}{'ratio':>7}"
        f"{'bucket':>8}{'lost':>6}{'dups':>6}{'order':>6}{'503s':>6}"
    )
    wrong = 0
    for plan in args.plans.split(","):
        ceiling = PLANS[plan].rate * 50
        # Whole batches of each action (2 notifications per document, a mirror per 4th).
        documents = 200 * max(1, round(ceiling * args.seconds / 2.25 / 200))
        for latency in (float(x) for x in args.latencies.split(",")):
            rates: dict[int, float] = {}
            use = 0.0
            checks = Counter[str]()
            for in_flight in (1, args.in_flight):
                runs = [run(plan, latency, in_flight, documents) for _ in range(args.repeat)]
                rates[in_flight] = statistics.median(r.rate for r in runs)
                use = statistics.median(bucket_use(r, plan) for r in runs)
                for r in runs:
                    checks.update(
                        lost=r.lost, dups=r.duplicates, order=r.out_of_order, refused=r.refused
                    )
                    wrong += r.wrong
            actions = runs[0].actions
            print(
                f"{plan:<11}{latency:>8.1f}{actions:>8}{ceiling:>8.0f}"
                f"{rates[1]:>13.1f}{rates[1] / ceiling:>7.2f}"
                f"{rates[args.in_flight]:>13.1f}{rates[args.in_flight] / ceiling:>7.2f}{use:>8.2f}"
                f"{checks['lost']:>6}{checks['dups']:>6}{checks['order']:>6}{checks['refused']:>6}",
                flush=True,
            )
    if wrong:
        print("FAILED: requests lost, duplicated, out of order or refused (see the table)")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
