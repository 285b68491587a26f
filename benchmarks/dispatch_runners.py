"""Dispatch by 1, 2 and 3 runners sharing one PostgreSQL outbox and one portal's rate.

Each runner is a thread with its own store connection pool, Bitrix24 client
and dispatcher, as a runner process on its own host would have; all claim
from one outbox (``FOR UPDATE SKIP LOCKED``) and each paces its client at 1/N
of the plan (``Bitrix24Client.share_rate``), as the heartbeat sets it, with
``--in-flight`` batches on the wire at once. The emulator answers each
request after ``--latency`` seconds. The portal's bucket is filled first
(steady state), so the figure to compare is the plan's ceiling (drain rate x
50 commands per batch), counted from when the bucket was last full.

Each document has two notifications; runners never send two of one document
at once (``SharedStore.waiting_behind``), and their order at the portal is
checked. Checks: zero lost, zero duplicated (every notification TAG once),
zero out of order and zero QUERY_LIMIT_EXCEEDED refusals; exits non-zero
otherwise.

    .venv/bin/python -m benchmarks.dispatch_runners \\
        --store postgresql://postgres@127.0.0.1/postgres \\
        [--notifications 3000] [--runners 1,2,3] [--plan ordinary] [--latency 0.2]

The runs use a fresh schema of that database each, dropped afterwards.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg
from psycopg import sql

from benchmarks.dispatch import NOW, _documents, fill_bucket
from edo_rules.actions.bitrix24 import Bitrix24Settings, build_adapters, make_client
from edo_rules.actions.bitrix24.adapters._base import marker
from edo_rules.emulators.bitrix24 import PLANS, Bitrix24Emulator
from edo_rules.model import ActionRequest, Firing, RequestState
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.store.postgres import PostgresStore


@dataclass
class Result:
    runners: int
    actions: int
    seconds: float
    ceiling: float
    lost: int
    duplicates: int
    out_of_order: int
    refused: int
    per_runner: list[int]

    @property
    def rate(self) -> float:
        return self.actions / self.seconds


def _enqueue(store: PostgresStore, emulator: Bitrix24Emulator, count: int) -> None:
    documents = _documents(emulator, max(1, count // 2))
    store.upsert_documents(documents)
    users = [int(u["ID"]) for u in emulator.portal.users()]
    firings = []
    for n in range(count):
        doc = documents[n % len(documents)].id
        firing = Firing("bench/notify", doc, f"s{n}", "e", NOW, NOW, "bench")
        request = ActionRequest(
            "notify",
            {"to": users[n % len(users)], "text": f"Напоминание {n}"},
            f"notify-{n}",
            doc,
            "bench/notify",
            NOW,
            due_at=NOW,
        )
        firings.append((firing, [request]))
    store.record_firings(firings)


@dataclass
class _Fleet:
    dsn: str
    schema: str
    settings: Bitrix24Settings
    parts: int
    ready: threading.Barrier
    done: Counter[str]
    #: Requests each runner's client could send at the start without waiting (head start).
    room: dict[str, float] = field(default_factory=dict)


def _runner(fleet: _Fleet, name: str) -> None:
    store = PostgresStore(fleet.dsn, schema=fleet.schema, runner_id=name, pool_size=2)
    client = make_client(fleet.settings)
    client.share_rate(fleet.parts)
    # Steady state: this runner's share of the portal's bucket is already full.
    fill_bucket(client, int(fleet.settings.plan.capacity / fleet.parts))
    fleet.ready.wait()
    fleet.room[name] = client.rate_room()
    settings, done = fleet.settings, fleet.done
    actions = build_adapters(settings, store, client=client, clock=lambda: NOW)
    dispatcher = Dispatcher(
        store,
        actions,
        clock=lambda: NOW,
        since=NOW - timedelta(days=1),
        batch_size=1000,
        parts=lambda: fleet.parts,
        rate=settings.plan.rate,
    )
    try:
        while True:
            report = dispatcher.dispatch()
            done[name] += report.outcomes.get("done", 0)
            if report.sent:
                continue
            # A pass may send nothing while the rest waits behind another runner's requests
            # (a document's second notification behind its first): the runner's next tick
            # would try again, so the run ends only when the outbox is drained.
            if not any(
                store.request_counts([RequestState.PENDING, RequestState.IN_FLIGHT]).values()
            ):
                return
            time.sleep(0.05)
    finally:
        client.close()
        store.close()


def run(
    dsn: str, plan: str, runners: int, notifications: int, *, latency: float, in_flight: int
) -> Result:
    schema = f"bench_{secrets.token_hex(5)}"
    limits = PLANS[plan]
    try:
        with Bitrix24Emulator(plan=plan, seed=7, latency=latency) as emulator:
            settings = Bitrix24Settings.from_mapping(
                {
                    "webhook_url": emulator.add_webhook(1),
                    "plan": plan,
                    "in_flight": in_flight,
                    # Throughput, not the per-recipient flood guard, is measured here.
                    "flood_guard": {"per_tick": 10**9, "per_day": 10**9},
                },
                where="benchmark",
            )
            with PostgresStore(dsn, schema=schema, pool_size=2) as store:
                _enqueue(store, emulator, notifications)
                fleet = _Fleet(
                    # A runner that fails before the start breaks the barrier, not the run.
                    dsn,
                    schema,
                    settings,
                    runners,
                    threading.Barrier(runners + 1, timeout=300),
                    Counter(),
                )
                threads = [
                    threading.Thread(target=_runner, args=(fleet, f"r{i}")) for i in range(runners)
                ]
                for thread in threads:
                    thread.start()
                fleet.ready.wait()
                before = emulator.stats()
                started = time.perf_counter()
                for thread in threads:
                    thread.join()
                # Counted from when the runners' buckets were last full: they drained while
                # the fills ran (several round trips); that head start goes back on the clock.
                head_start = sum(fleet.room.values()) / limits.rate
                seconds = time.perf_counter() - started + head_start
                after = emulator.stats()
                requests = store.requests(list(RequestState))
                states = Counter(r.state for r in requests)
                order = {marker(r.idempotency_key): (r.document_id, r.id or 0) for r in requests}
            lost, duplicates, disorder = _verify(emulator, states, order, notifications)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    return Result(
        runners,
        notifications,
        seconds,
        limits.rate * 50,
        lost,
        duplicates,
        disorder,
        after.get("refused_rate", 0) - before.get("refused_rate", 0),
        [fleet.done[f"r{i}"] for i in range(runners)],
    )


def _verify(
    emulator: Bitrix24Emulator,
    states: Counter[RequestState],
    order: dict[str, tuple[str, int]],
    notifications: int,
) -> tuple[int, int, int]:
    """(lost, duplicated, documents whose notifications arrived out of the outbox's order);
    ``order``: each request's (document, outbox id) by its notification's TAG."""
    with emulator.portal.lock:
        sent = list(emulator.portal.t.notifications)
    tags = Counter(n["tag"] for n in sent)
    lost = (notifications - len(tags)) + (notifications - states[RequestState.DONE])
    arrived: dict[str, list[int]] = defaultdict(list)
    for note in sent:
        if note["tag"] in order:
            document, number = order[note["tag"]]
            arrived[document].append(number)
    disorder = sum(seq != sorted(seq) for seq in arrived.values())
    return lost, sum(c - 1 for c in tags.values()), disorder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="postgresql://… (a schema is made per run)")
    parser.add_argument("--notifications", type=int, default=3000)
    parser.add_argument("--runners", default="1,2,3")
    parser.add_argument("--plan", default="ordinary", choices=sorted(PLANS))
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--in-flight", type=int, default=4)
    args = parser.parse_args(argv)
    print(
        f"{'runners':<8}{'actions':>8}{'seconds':>9}{'actions/s':>11}{'ceiling':>9}"
        f"{'ratio':>7}{'lost':>6}{'dups':>6}{'order':>6}{'503s':>6}  per runner"
    )
    failed = False
    for count in (int(n) for n in args.runners.split(",")):
        r = run(
            args.store,
            args.plan,
            count,
            args.notifications,
            latency=args.latency,
            in_flight=args.in_flight,
        )
        print(
            f"{r.runners:<8}{r.actions:>8}{r.seconds:>9.1f}{r.rate:>11.1f}{r.ceiling:>9.0f}"
            f"{r.rate / r.ceiling:>7.2f}{r.lost:>6}{r.duplicates:>6}{r.out_of_order:>6}"
            f"{r.refused:>6}  {r.per_runner}",
            flush=True,
        )
        failed |= bool(r.lost or r.duplicates or r.out_of_order or r.refused)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
