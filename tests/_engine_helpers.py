"""Shared helpers of the engine tests: real playbooks, a real SQLite store, Moscow times."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from edo_rules.calendar import ProductionCalendar
from edo_rules.engine import Engine, EvaluationResult
from edo_rules.model import Firing
from edo_rules.playbook.loader import load_playbook_text
from edo_rules.playbook.rules import Playbook
from edo_rules.store.sqlite import SQLiteStore

MSK = ZoneInfo("Europe/Moscow")
CALENDAR = ProductionCalendar.russia()


def msk(text: str) -> datetime:
    """ "2024-05-06 00:00" → an aware Moscow datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=MSK)


def playbook(body: str, name: str = "pb") -> Playbook:
    """A playbook from YAML rules (indented under ``rules:``), through the real loader."""
    text = f"version: 1\nname: {name}\nrules:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    return load_playbook_text(text, f"{name}.yaml")


@dataclass
class World:
    """A store file and the playbooks; ``engine()`` opens a fresh store and engine each time."""

    path: Path
    playbooks: tuple[Playbook, ...]

    def store(self) -> SQLiteStore:
        return SQLiteStore(self.path)

    def engine(self) -> Engine:
        return Engine(self.store(), self.playbooks, CALENDAR)

    def evaluate(self, now: datetime, *, dry_run: bool = False) -> EvaluationResult:
        """Evaluate with a brand-new store object and engine (as after a restart)."""
        engine = self.engine()
        try:
            return engine.evaluate(now, dry_run=dry_run)
        finally:
            engine.store.close()

    def ledger(self, doc_id: str) -> list[Firing]:
        with self.store() as store:
            return store.firings_for(doc_id)


def fired_steps(result: EvaluationResult) -> list[tuple[str, str]]:
    return sorted((p.firing.document_id, p.firing.step) for p in result.fired)


def skipped_steps(result: EvaluationResult) -> list[tuple[str, str]]:
    return sorted((f.document_id, f.step) for f in result.skipped)
