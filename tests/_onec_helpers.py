"""Shared helpers of the 1C tests: an emulated base on loopback, settings, a store snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from edo_rules.emulators.onec import OneCBase, OneCEmulator, populate
from edo_rules.sources.onec import OneCSettings, SyncReport, run_sync
from edo_rules.store.sqlite import SQLiteStore

MOSCOW = ZoneInfo("Europe/Moscow")
LOGIN = "Администратор"
PASSWORD = "пароль-1С"


def make_base(documents: int = 120, *, seed: int = 7, **options: Any) -> OneCBase:
    base = OneCBase(seed=seed, now=datetime(2026, 11, 27, 12, 0), **options)
    base.add_login(LOGIN, PASSWORD)
    populate(base, documents)
    return base


@contextmanager
def serving(base: OneCBase) -> Iterator[OneCEmulator]:
    with OneCEmulator(base) as emulator:
        yield emulator


def settings_for(emulator: OneCEmulator, **overrides: Any) -> OneCSettings:
    """Small pages and short timeouts so faults show up fast."""
    settings = OneCSettings(
        url=emulator.url,
        base=emulator.publication,
        user=LOGIN,
        password=PASSWORD,
        page_size=40,
        timeout=1.0,
        first_timeout=3.0,
        backoff=0.01,
        retries=3,
    )
    return replace(settings, **overrides)


def clock_of(base: OneCBase) -> Any:
    """The sync's clock follows the emulated 1C server's clock (Moscow time)."""
    return lambda: base.now.replace(tzinfo=MOSCOW)


def sync(emulator: OneCEmulator, store: SQLiteStore, **overrides: Any) -> SyncReport:
    full = overrides.pop("full", False)
    return run_sync(
        settings_for(emulator, **overrides), store, clock=clock_of(emulator.base), full=full
    )


def open_store(tmp_path: Path, name: str = "edo.db") -> SQLiteStore:
    return SQLiteStore(tmp_path / name)


def snapshot(store: SQLiteStore) -> tuple[Any, ...]:
    """Everything a sync writes: documents, every history and the sync state."""
    documents = tuple(store.iter_documents())
    histories = tuple(tuple(store.history(doc.id)) for doc in documents)
    return documents, histories, tuple(sorted(store.get_sync_state().items()))


def emulated_states(base: OneCBase) -> dict[str, str]:
    """Document id → the state the emulated register shows."""
    register = base.sets["InformationRegister_СостоянияДокументовЭДО"]
    return {row["ЭлектронныйДокумент"]: row["Состояние"] for row in register.rows}
