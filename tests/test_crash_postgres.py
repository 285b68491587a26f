"""Three runners on one PostgreSQL, SIGKILLed at random: nothing lost, nothing twice.

Three ``edo-rules run`` processes share one PostgreSQL store and serve one
Bitrix24 portal (the emulator, with a small rate bucket so that the outbox
holds work for many runner lifetimes). A random runner is killed with SIGKILL
at a random moment and restarted, at least 50 times, while 1C keeps sending
documents; each document makes eight actions of every kind. At the end every
runner is stopped, the admin decides the in-doubt workflows (as in
``test_crash.py``), and the portal and the ledger are counted. Each time the
runner holding the sync lease is killed, the time until another one holds it
is measured.
"""

from __future__ import annotations

import random
import socket
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from _runner_helpers import EVERY_ACTION, KINDS_PER_DOCUMENT, onec_now, send_documents, write_config
from test_crash import PLAN, _counts, _effect_exists, _Runner
from test_postgres_runner import with_schema

from edo_rules.cli import main
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.model import ActionRequest, RequestState
from edo_rules.store.postgres import PostgresStore

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RUNNERS = 3
KILLS = 50
FIRST_DOCUMENTS = 80
MORE_PER_KILL = 1
LEASE = 2.0


def _holder(store: PostgresStore) -> str | None:
    return next((r.id for r in store.runners() if "sync" in r.leases and r.alive), None)


def _runner_id(runner: _Runner) -> str:
    return f"{socket.gethostname()}:{runner.process.pid}"


class _Fleet:
    def __init__(self, config: Path, env: dict[str, str], store: PostgresStore) -> None:
        self.config, self.env, self.store = config, env, store
        self.runners: list[_Runner] = []
        try:
            for _ in range(RUNNERS):
                self.runners.append(self._start())
        except BaseException:
            self.kill_survivors()
            raise
        self.killed: list[_Runner] = []
        self.takeovers: list[float] = []

    def _start(self) -> _Runner:
        runner = _Runner(self.config, self.env)
        if not runner.started.wait(60):
            runner.kill()
            raise AssertionError("a runner did not start:\n" + "".join(runner.lines))
        return runner

    def kill_one(self, rng: random.Random) -> bool:
        """Kill a random runner (restarted); True when work was outstanding."""
        index = rng.randrange(RUNNERS)
        victim = self.runners[index]
        held_sync = _holder(self.store) == _runner_id(victim)
        victim.kill()
        killed_at = time.monotonic()
        outstanding = self.store.requests([RequestState.PENDING, RequestState.IN_FLIGHT])
        if held_sync:
            self.takeovers.append(self._takeover(killed_at, _runner_id(victim)))
        self.killed.append(victim)
        self.runners[index] = self._start()
        return bool(outstanding)

    def _takeover(self, since: float, dead: str) -> float:
        while time.monotonic() - since < 5 * LEASE:
            holder = _holder(self.store)
            if holder is not None and holder != dead:
                return time.monotonic() - since
            time.sleep(0.05)
        raise AssertionError("no runner took the sync lease over")

    def stop(self) -> None:
        for runner in self.runners:
            assert runner.stop() == 0, "".join(runner.lines[-20:])

    def kill_survivors(self) -> None:
        """After a failure: no runner may outlive the test (they would tick on for ever)."""
        for runner in self.runners:
            if runner.process.poll() is None:
                runner.kill()


def _admin_decides(world: World, config: Path, store: PostgresStore) -> Counter[str]:
    decisions: Counter[str] = Counter()
    for request in store.requests([RequestState.IN_DOUBT]):
        verb = "drop" if _effect_exists(world, request) else "retry"
        assert main(["outbox", verb, str(request.id), "--config", str(config)]) == 0
        decisions[f"{request.action} {verb}"] += 1
    return decisions


def _drain(store: PostgresStore, documents: int, fleet: _Fleet) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        time.sleep(0.5)
        waiting = store.requests([RequestState.PENDING, RequestState.IN_FLIGHT])
        if store.count_documents() == documents and not waiting:
            return
    raise AssertionError(
        f"the runners did not drain the outbox: {store.count_documents()} of {documents}"
        f" documents synced, {len(waiting)} request(s) waiting:\n" + _stuck(store, waiting, fleet)
    )


def _stuck(store: PostgresStore, waiting: list[ActionRequest], fleet: _Fleet) -> str:
    """What each waiting request's claim says, and what every runner logged about it."""
    lines = []
    with store._reading("diagnosing the outbox") as conn:
        for request in waiting[:20]:
            claim = conn.execute(
                "SELECT claimed_by, claimed_until FROM action_requests WHERE id = ?",
                (request.id,),
            ).fetchone()
            lines.append(
                f"#{request.id} {request.action} {request.state.value}"
                f" attempts={request.attempts} claim={tuple(claim)} error={request.last_error}\n"
            )
    lines.append(f"runners: {store.runners()}\n")
    for runner in [*fleet.killed, *fleet.runners]:
        pid = runner.process.pid
        lines += [f"[{pid}] {line}" for line in runner.lines if " INFO " not in line]
        lines += [f"[{pid}] {line}" for line in runner.lines[-3:]]
    return "".join(lines)


def test_three_runners_sigkilled_lose_nothing_and_do_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: str, pg_schema: str
) -> None:
    rng = random.Random(20261204)
    with World.started(seed=5, first_day=date(2026, 11, 2), plan=PLAN, now=onec_now()) as world:
        company = seed_company(world.portal, world.base, rng, customers=12)
        config, env = _config(tmp_path, world, company, with_schema(pg_database, pg_schema))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        store = PostgresStore(env["EDO_TEST_DSN"], pool_size=2, runner_id="test")
        fleet: _Fleet | None = None
        try:
            documents = send_documents(world, company, rng, FIRST_DOCUMENTS)
            fleet = _Fleet(config, env, store)
            kills = busy = 0
            while busy < KILLS:
                assert kills < KILLS * 3, f"the runners finished too fast: {busy} busy kills"
                time.sleep(rng.uniform(0.05, 0.8))
                busy += fleet.kill_one(rng)
                kills += 1
                documents += send_documents(world, company, rng, MORE_PER_KILL)
            _drain(store, len(documents), fleet)
            fleet.stop()
            decisions = _admin_decides(world, config, store)
            assert main(["tick", "--config", str(config)]) == 0
            report = _report(
                world, store, documents, kills=kills, busy=busy, fleet=fleet, decisions=decisions
            )
        finally:
            if fleet is not None:
                fleet.kill_survivors()
            store.close()
    print(report["text"])
    _check(report, len(documents))


def _config(folder: Path, world: World, company: Company, dsn: str) -> tuple[Path, dict[str, str]]:
    config, env = write_config(
        folder,
        world,
        company,
        EVERY_ACTION,
        plan={"capacity": 12, "rate": 6},
        batch_size=10,
        # Reliability, not etiquette: every notification goes out now, none into a digest.
        flood_guard={"per_tick": 10**6, "per_day": 10**6},
    )
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["store"] = {"dsn": "${EDO_TEST_DSN}", "lease": LEASE}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config, {**env, "EDO_TEST_DSN": dsn}


def _report(
    world: World,
    store: PostgresStore,
    documents: list[str],
    *,
    kills: int,
    busy: int,
    fleet: _Fleet,
    decisions: Counter[str],
) -> dict[str, Any]:
    counts = _counts(world)
    every = store.requests(list(RequestState))
    states = Counter(r.state.value for r in every)
    firings = [f for doc in documents for f in store.firings_for(doc)]
    keys = Counter((f.rule_key, f.document_id, f.step, f.episode) for f in firings)
    text = (
        f"\nrunners: {RUNNERS}; kills: {kills} (with work outstanding: {busy});"
        f" documents: {len(documents)}; actions: {len(every)}"
        f"\nsync lease takeovers after killing its holder (s): "
        f"{[round(t, 2) for t in fleet.takeovers]} (lease {LEASE} s)"
        f"\nat the Bitrix24 emulator: {counts}\noutbox: {dict(states)}"
        f"\nfirings: {len(firings)}, distinct: {len(keys)}"
        f"\nadmin decisions on in-doubt requests: {dict(decisions)}"
    )
    return {
        "text": text,
        "counts": counts,
        "states": states,
        "firings": len(firings),
        "distinct": len(keys),
        "actions": len(every),
        "busy": busy,
        "takeovers": fleet.takeovers,
    }


def _check(report: dict[str, Any], expected: int) -> None:
    text, counts = report["text"], report["counts"]
    assert report["busy"] >= KILLS, text
    assert report["actions"] == expected * KINDS_PER_DOCUMENT >= 1000, text
    assert report["states"].keys() <= {"done", "dropped"}, text
    assert report["firings"] == report["distinct"] == expected, text
    for kind in ("tasks", "comments", "todos", "workflows", "invoices", "list elements"):
        assert counts[kind] == expected, f"{kind}: {text}"
    assert counts["notifications visible"] == counts["notification tags"] == expected, text
    assert counts["task XML_IDs"] == counts["comment texts"] == expected, text
    assert counts["todo titles"] == counts["workflow documents"] == expected, text
    assert report["takeovers"], "the sync lease holder was never killed: " + text
    # Within one lease period (0.8 of it by design; the rest is the polling and load).
    assert max(report["takeovers"]) <= LEASE, text
