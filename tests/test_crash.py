"""SIGKILL the real runner at random moments while it dispatches: nothing lost, nothing twice.

The runner (``edo-rules run``) runs as a separate process against the 1C and
Bitrix24 emulators served by this test process. It is killed with SIGKILL at
least 50 times at random moments while its outbox still holds work, and
restarted each time; between kills 1C keeps sending documents. At the end the
test counts at the Bitrix24 emulator, per kind, what exists.

A ``workflow`` cannot be checked in Bitrix24 after a crash (nothing on a
workflow carries our key), so a request of its that was in flight at a kill is
reported IN_DOUBT and never re-sent on its own (a to-do is found by the marker
in its description, like a comment). The test then plays the admin: it looks
for each in-doubt workflow in the portal (by its unique parameters), drops the
requests whose effect is there and retries the others (``edo-rules outbox
drop|retry``), and runs one more tick.
The final count includes those decisions.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from _runner_helpers import EVERY_ACTION, KINDS_PER_DOCUMENT, onec_now, send_documents, write_config

from edo_rules.cli import main
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24 import PlanLimits
from edo_rules.model import ActionRequest, OutcomeStatus, RequestState
from edo_rules.store.sqlite import SQLiteStore

KILLS = 50
FIRST_DOCUMENTS = 60
MORE_PER_KILL = 1
# A small portal bucket stretches the dispatch over many runner lifetimes.
PLAN = PlanLimits(capacity=12, rate=6.0)

_RUNNER = "import sys; from edo_rules.cli import main; sys.exit(main())"


class _Runner:
    """One ``edo-rules run`` process; ``started`` is set once its loop has begun."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _RUNNER, "run", "--config", str(config)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started = threading.Event()
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if "runner started" in line:
                self.started.set()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def _outstanding(store_path: Path) -> tuple[int, int]:
    """(pending + in flight, in flight) requests in the store, read by a second connection."""
    with SQLiteStore(store_path) as store:
        waiting = store.requests([RequestState.PENDING, RequestState.IN_FLIGHT])
    return len(waiting), sum(r.state == RequestState.IN_FLIGHT for r in waiting)


def _counts(world: World) -> dict[str, Any]:
    portal = world.portal
    tasks = portal.tasks()
    return {
        "tasks": len(tasks),
        "task XML_IDs": len({t.get("xmlId") or t.get("XML_ID") for t in tasks}),
        "comments": len(portal.comments()),
        "comment texts": len({c["COMMENT"] for c in portal.comments()}),
        "todos": len(portal.todos()),
        "todo titles": len({t["title"] for t in portal.todos()}),
        "workflows": len(portal.workflows()),
        "workflow documents": len({w["parameters"]["document"] for w in portal.workflows()}),
        "invoices": len(portal.items(31)),
        "invoice xmlIds": len({i["xmlId"] for i in portal.items(31)}),
        "list elements": len(portal.list_elements(42)),
        "notifications visible": len(portal.notifications()),
        "notification tags": len({n["tag"] for n in portal.notifications()}),
    }


def _effect_exists(world: World, request: ActionRequest) -> bool:
    """What the admin checks by hand in the portal for an in-doubt request."""
    if request.action == "workflow":
        wanted = request.params["parameters"]["document"]
        return any(w["parameters"]["document"] == wanted for w in world.portal.workflows())
    raise AssertionError(f"{request.action} requests should never be in doubt: they can be checked")


def _admin_decides(world: World, store_path: Path) -> Counter[str]:
    decisions: Counter[str] = Counter()
    with SQLiteStore(store_path) as store:
        in_doubt = store.requests([RequestState.IN_DOUBT])
    for request in in_doubt:
        verb = "drop" if _effect_exists(world, request) else "retry"
        assert main(["outbox", verb, str(request.id), "--store", str(store_path)]) == 0
        decisions[f"{request.action} {verb}"] += 1
    return decisions


@pytest.mark.slow
def test_sigkill_never_loses_or_duplicates_an_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20261128)
    with World.started(seed=5, first_day=date(2026, 11, 2), plan=PLAN, now=onec_now()) as world:
        company = seed_company(world.portal, world.base, rng, customers=12)
        config, env = write_config(
            tmp_path,
            world,
            company,
            EVERY_ACTION,
            plan={"capacity": 12, "rate": 6},
            batch_size=10,
            # Reliability, not etiquette: every notification goes out now, none into a digest.
            flood_guard={"per_tick": 10**6, "per_day": 10**6},
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)  # for the in-process `outbox` and `tick` commands
        store_path = tmp_path / "edo-rules.db"
        documents = send_documents(world, company, rng, FIRST_DOCUMENTS)
        kills, busy_kills, in_flight_kills = _kill_loop(
            world, company, rng, config=config, env=env, documents=documents
        )
        runner = _Runner(config, env)
        try:
            _wait_until_drained(store_path, runner, len(documents))
        except BaseException:
            runner.kill()  # a failed test leaves no runner ticking on
            raise
        assert runner.stop() == 0, "".join(runner.lines[-20:])
        decisions = _admin_decides(world, store_path)
        assert main(["tick", "--config", str(config)]) == 0
        counts = _counts(world)
        with SQLiteStore(store_path) as store:
            every = store.requests(list(RequestState))
            states = Counter(r.state.value for r in every)
            moved = {
                outcome.remote_id
                for request in every
                if request.action == "deal_stage"
                for outcome in store.outcomes_for(request.id or 0)
                if outcome.status == OutcomeStatus.DONE
            }
        with world.portal.lock:
            at_stage = {
                str(deal_id)
                for deal_id, deal in world.portal.t.deals.items()
                if deal["STAGE_ID"] == "C1:PREPAYMENT_INVOICE"
            }
        counts["deals at the stage"] = len(at_stage)
    expected = len(documents)
    report = (
        f"\nkills: {kills} (with work outstanding: {busy_kills}, with requests in flight: "
        f"{in_flight_kills}); documents: {expected}; actions: {expected * KINDS_PER_DOCUMENT}"
        f"\nat the Bitrix24 emulator: {counts}\noutbox: {dict(states)}"
        f"\nadmin decisions on in-doubt requests: {dict(decisions)}"
    )
    print(report)
    assert busy_kills >= KILLS, report
    assert expected * KINDS_PER_DOCUMENT >= 500, report
    assert states.keys() <= {"done", "dropped"}, report
    for kind in ("tasks", "comments", "todos", "workflows", "invoices", "list elements"):
        assert counts[kind] == expected, f"{kind}: {report}"
    assert counts["notifications visible"] == counts["notification tags"] == expected, report
    assert counts["task XML_IDs"] == counts["comment texts"] == expected, report
    assert counts["todo titles"] == counts["workflow documents"] == expected, report
    assert counts["invoice xmlIds"] == expected, report
    assert moved == at_stage and at_stage, report


def _kill_loop(
    world: World,
    company: Company,
    rng: random.Random,
    *,
    config: Path,
    env: dict[str, str],
    documents: list[str],
) -> tuple[int, int, int]:
    """Kill the runner at random moments until it was killed KILLS times with work outstanding."""
    store_path = config.parent / "edo-rules.db"
    kills = busy = in_flight = 0
    while busy < KILLS:
        assert kills < KILLS * 3, f"the runner finished its work too fast: {busy} busy kills"
        runner = _Runner(config, env)
        if not runner.started.wait(30):
            runner.kill()
            raise AssertionError("the runner did not start:\n" + "".join(runner.lines))
        time.sleep(rng.uniform(0.05, 0.9))
        runner.kill()
        kills += 1
        outstanding, flying = _outstanding(store_path)
        busy += outstanding > 0
        in_flight += flying > 0
        documents += send_documents(world, company, rng, MORE_PER_KILL)
    return kills, busy, in_flight


def _wait_until_drained(store_path: Path, runner: _Runner, documents: int) -> None:
    """Until every document is synced and nothing is pending or in flight."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        with SQLiteStore(store_path) as store:
            synced = store.count_documents()
        if synced == documents and _outstanding(store_path)[0] == 0:
            return
    raise AssertionError("the runner did not drain the outbox:\n" + "".join(runner.lines[-30:]))
