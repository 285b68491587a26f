"""Keys from 1C: a store deleted and rebuilt, or restored from a backup, creates nothing twice.

A month of the demo's life (both emulators, the bundled playbooks, the
runner's ticks on the simulated clock) is run with one store; then the store
is replaced — by an empty one rebuilt from 1C, or by a copy taken a week
earlier — and the runner ticks again at the same moment. Bitrix24 must hold
exactly what it held before, and every key the new store planned must be one
the old store had planned for the same firing.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edo_rules.calendar import ProductionCalendar
from edo_rules.config import Config
from edo_rules.demo._company import seed_company
from edo_rules.demo._config import write_config
from edo_rules.demo._playbooks import bundled_playbooks
from edo_rules.demo._run import (
    DemoOptions,
    _at,
    _Month,
    _SimulatedClock,
    _working_days,
    _working_days_before,
)
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24 import Portal
from edo_rules.model import RequestState
from edo_rules.runner.app import opened
from edo_rules.runner.loop import Runner
from edo_rules.runner.schedule import IntervalSchedule
from edo_rules.store.sqlite import SQLiteStore

pytestmark = pytest.mark.slow  # a simulated month, rebuilt from 1C twice

_DAYS = 22  # a month of working days
_BACKUP_DAY = _DAYS - 5  # a week before the end


@dataclass
class Life:
    """The month's end: the emulators still running, the config, the clock and the backup."""

    world: World
    config: Config
    clock: _SimulatedClock
    backup: Path
    original: Path  # a copy of the store at the month's end

    @property
    def store_path(self) -> Path:
        assert self.config.store.path is not None
        return self.config.store.path


@contextmanager
def _a_month(folder: Path) -> Iterator[Life]:
    options = DemoOptions(days=_DAYS, seed=11)
    calendar = ProductionCalendar.russia()
    days = _working_days(calendar, options.first_day, options.days)
    history = _working_days_before(calendar, options.first_day, 10)
    rng = random.Random(options.seed)
    backup = folder / "backup.sqlite3"
    with ExitStack() as stack:
        world = stack.enter_context(World.started(options.seed, history[0]))
        company = seed_company(world.portal, world.base, rng, options.customers)
        store = folder / "edo-rules.db"
        config = write_config(folder, world, company, bundled_playbooks(), store)
        clock = _SimulatedClock(_at(history[-1], 18, 30))
        with opened(config, command="test", clock=clock) as service:
            month = _Month(
                options,
                rng=rng,
                world=world,
                company=company,
                service=service,
                clock=clock,
                out=_Null(),
            )
            month.history(history)
            for number, (previous, day) in enumerate(
                zip([history[-1], *days], days, strict=False), 1
            ):
                month.day(number, day, previous)
                if number == _BACKUP_DAY:
                    _backup(store, backup)
        original = folder / "original.sqlite3"
        _backup(store, original)
        yield Life(world, config, clock, backup, original)


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _backup(store: Path, to: Path) -> None:
    """An online backup, as an admin's nightly job takes it (sqlite3 .backup)."""
    with sqlite3.connect(store) as source, sqlite3.connect(to) as target:
        source.backup(target)


def _what_bitrix24_holds(portal: Portal) -> dict[str, Any]:
    with portal.lock:
        t = portal.t
        sent = len(t.notifications)  # replaced ones included
        stages = {deal_id: deal["STAGE_ID"] for deal_id, deal in t.deals.items()}
    return {
        "counts": portal.counts(),
        "task_keys": sorted(task["xmlId"] for task in portal.tasks()),
        "stages": stages,
        "notifications_sent": sent,
    }


def _keys(path: Path) -> tuple[set[tuple[str, ...]], set[str], list[Any]]:
    """(ledger keys, idempotency keys, requests) of a store file."""
    with SQLiteStore(path) as store:
        requests = store.requests(list(RequestState))
        ledger = {
            (f.rule_key, f.document_id, f.step, f.episode)
            for doc in store.iter_documents()
            for f in store.firings_for(doc.id)
        }
    return ledger, {r.idempotency_key for r in requests}, requests


def _tick_twice(life: Life) -> None:
    with opened(life.config, command="test", clock=life.clock) as service:
        runner = Runner(service.pipeline, IntervalSchedule(300), clock=life.clock)
        for _ in range(2):
            report = runner.tick()
            assert not report.errors


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    with _a_month(tmp_path_factory.mktemp("month")) as life:
        yield life


def _replace_store(life: Life, by: Callable[[Path], None]) -> None:
    """Delete the store, then put the new one (or none) in its place."""
    for suffix in ("", "-wal", "-shm"):
        life.store_path.with_name(life.store_path.name + suffix).unlink(missing_ok=True)
    by(life.store_path)


def _assert_nothing_made_twice(life: Life, before: dict[str, Any]) -> None:
    after = _what_bitrix24_holds(life.world.portal)
    assert after["counts"] == before["counts"]
    assert after["task_keys"] == before["task_keys"]
    assert after["stages"] == before["stages"]
    old_ledger, old_keys, _ = _keys(life.original)
    ledger, keys, requests = _keys(life.store_path)
    assert requests, "the new store planned nothing: the test would prove nothing"
    assert ledger <= old_ledger
    assert keys <= old_keys
    # Everything is done, except reminders the flood guard folds into tomorrow's digest.
    waiting = [r for r in requests if r.state is not RequestState.DONE]
    held = [
        r
        for r in waiting
        if r.action == "notify"
        and r.state is RequestState.PENDING
        and (r.last_error or "").startswith("в сводку")
    ]
    assert waiting == held, [(r.action, r.state, r.last_error) for r in waiting]
    resent = after["notifications_sent"] - before["notifications_sent"]
    print(f"notifications re-sent under their own TAG (replacing, not added): {resent}")


def test_a_store_rebuilt_from_1c_creates_nothing_twice(month: Life) -> None:
    before = _what_bitrix24_holds(month.world.portal)
    _replace_store(month, lambda path: None)
    _tick_twice(month)
    _assert_nothing_made_twice(month, before)
    _, _, requests = _keys(month.store_path)
    assert {r.action for r in requests} >= {"task", "notify"}


def test_a_backup_from_a_week_ago_creates_nothing_twice(month: Life) -> None:
    before = _what_bitrix24_holds(month.world.portal)
    _replace_store(month, lambda path: shutil.copyfile(month.backup, path))
    _tick_twice(month)
    _assert_nothing_made_twice(month, before)
