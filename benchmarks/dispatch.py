"""Dispatch throughput against the Bitrix24 emulator, next to each plan's ceiling.

Sends N notifications and M mirror upserts through the real adapters, client,
batching and client-side bucket to the emulator over HTTP, with ordinary-plan
limits and then Enterprise limits. Two runs per plan:

- cold: the portal's bucket starts empty, so the first ``capacity`` batches go
  out at once (this is what a runner sees after a quiet period);
- steady: the bucket is filled first, so the rate is the plan's drain rate —
  the figure to compare with the ceiling (bucket rate x 50 commands per batch).

Checks: zero lost (every request DONE, every record present) and zero
duplicates (no notification sent twice, one list element per document).

    .venv/bin/python -m benchmarks.dispatch [--notifications 5000] [--mirrors 1000]

(run it as a module from the project root: ``benchmarks/`` holds a
``calendar.py`` that would shadow the standard library's when run as a script)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from edo_rules.actions.base import Action
from edo_rules.actions.bitrix24 import Bitrix24Settings, build_adapters, make_client
from edo_rules.emulators.bitrix24 import PLANS, Bitrix24Emulator
from edo_rules.model import (
    ActionRequest,
    Counterparty,
    Direction,
    Document,
    Kind,
    OutcomeStatus,
    Status,
)
from edo_rules.store.sqlite import SQLiteStore

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CHUNK = 500  # requests per execute() call, as a dispatcher would claim them
MIRROR = {
    "target": "list",
    "iblock_id": 42,
    "fields": {"status": "PROPERTY_1", "company": "PROPERTY_2", "overdue": "PROPERTY_3"},
}


@dataclass
class Result:
    plan: str
    mode: str
    actions: int
    seconds: float
    ceiling: float
    lost: int
    duplicates: int
    http_requests: int
    refused: int

    @property
    def rate(self) -> float:
        return self.actions / self.seconds


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


def _requests(
    documents: Sequence[Document], notifications: int, users: Sequence[int]
) -> list[ActionRequest]:
    requests = [
        ActionRequest(
            action="notify",
            params={"to": users[n % len(users)], "text": f"Напоминание {n}"},
            idempotency_key=f"notify-{n}",
            document_id=documents[n % len(documents)].id,
            rule_key="bench/notify",
            created_at=NOW,
            id=n + 1,
        )
        for n in range(notifications)
    ]
    base = len(requests)
    requests += [
        ActionRequest(
            action="mirror",
            params={"overdue": n % 3 == 0},
            idempotency_key=f"mirror-{n}",
            document_id=doc.id,
            rule_key="bench/mirror",
            created_at=NOW,
            id=base + n + 1,
        )
        for n, doc in enumerate(documents)
    ]
    return requests


def _dispatch(actions: dict[str, Action], requests: Sequence[ActionRequest]) -> Counter[str]:
    """Execute in chunks per action; RETRY outcomes go back into the queue (none expected)."""
    queue = list(requests)
    final: Counter[str] = Counter()
    for _ in range(10):
        retry: list[ActionRequest] = []
        by_id = {r.id: r for r in queue}
        for name in ("notify", "mirror"):
            mine = [r for r in queue if r.action == name]
            for start in range(0, len(mine), CHUNK):
                for outcome in actions[name].execute(mine[start : start + CHUNK]):
                    if outcome.status is OutcomeStatus.RETRY:
                        retry.append(by_id[outcome.request_id])
                    else:
                        final[outcome.status.value] += 1
        if not retry:
            break
        final["retried"] += len(retry)
        queue = retry
    return final


def run(plan: str, mode: str, notifications: int, mirrors: int) -> Result:
    limits = PLANS[plan]
    with tempfile.TemporaryDirectory() as tmp, Bitrix24Emulator(plan=plan, seed=7) as emulator:
        store = SQLiteStore(Path(tmp) / "bench.db")
        documents = _documents(emulator, mirrors)
        store.upsert_documents(documents)
        settings = Bitrix24Settings.from_mapping(
            {
                "webhook_url": emulator.add_webhook(1),
                "plan": plan,
                "mirror": MIRROR,
                # Throughput, not etiquette: thousands of notifications to a few users.
                "flood_guard": {"per_tick": 10**9, "per_day": 10**9},
            },
            where="benchmark",
        )
        client = make_client(settings)
        actions = build_adapters(settings, store, client=client, clock=lambda: NOW)
        users = [int(u["ID"]) for u in emulator.portal.users()]
        requests = _requests(documents, notifications, users)
        if mode == "steady":
            for _ in range(limits.capacity):
                client.call("user.get", {"ID": 1}, idempotent=True)
        before = emulator.stats()
        started = time.perf_counter()
        final = _dispatch(actions, requests)
        seconds = time.perf_counter() - started
        after = emulator.stats()
        lost, duplicates = _verify(emulator, final, notifications, mirrors)
        client.close()
        store.close()
    return Result(
        plan,
        mode,
        len(requests),
        seconds,
        limits.rate * 50,
        lost,
        duplicates,
        after["requests"] - before.get("requests", 0),
        after.get("refused_rate", 0) - before.get("refused_rate", 0),
    )


def _verify(
    emulator: Bitrix24Emulator, final: Counter[str], notifications: int, mirrors: int
) -> tuple[int, int]:
    with emulator.portal.lock:
        sent = list(emulator.portal.t.notifications)
    visible = [n for n in sent if not n["deleted"]]
    tags = Counter(n["tag"] for n in sent)
    codes = Counter(e["CODE"] for e in emulator.portal.list_elements(42))
    lost = (
        (notifications - len(visible))
        + (mirrors - len(codes))
        + (notifications + mirrors - final["done"])
    )
    duplicates = sum(c - 1 for c in tags.values()) + sum(c - 1 for c in codes.values())
    return lost, duplicates


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=5000)
    parser.add_argument("--mirrors", type=int, default=1000)
    parser.add_argument("--plans", default="ordinary,enterprise")
    parser.add_argument("--modes", default="cold,steady")
    args = parser.parse_args(argv)
    print(
        f"{'plan':<11}{'mode':<8}{'actions':>8}{'seconds':>9}{'actions/s':>11}{'ceiling':>9}"
        f"{'ratio':>7}{'lost':>6}{'dups':>6}{'HTTP':>6}{'503s':>6}"
    )
    for plan in args.plans.split(","):
        for mode in args.modes.split(","):
            r = run(plan, mode, args.notifications, args.mirrors)
            print(
                f"{r.plan:<11}{r.mode:<8}{r.actions:>8}{r.seconds:>9.1f}{r.rate:>11.1f}{r.ceiling:>9.0f}"
                f"{r.rate / r.ceiling:>7.2f}{r.lost:>6}{r.duplicates:>6}"
                f"{r.http_requests:>6}{r.refused:>6}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
