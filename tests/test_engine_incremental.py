"""Incremental evaluation gives exactly the result of a full one, tick after tick."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from _engine_helpers import CALENDAR, World, fired_steps, msk, playbook
from store_contract import make_document

from edo_rules.engine import Engine, EvaluationResult
from edo_rules.model import Kind, Status
from edo_rules.store.sqlite import SQLiteStore

RULES = """
- id: ladder
  match: {kind: [contract, act], status: sent, where: "doc.amount >= 10000"}
  when: {after: 2 working days, since: sent_at}
  do: [{log: {message: "x"}}]
  escalate: [{after: 4 working days, do: [{log: {message: "y"}}]}]
  repeat: {every: 1 working day, times: 2}
- id: hours
  match: {status: [sent, rejected]}
  when: {after: 30 hours, since: status_changed_at}
  do: [{log: {message: "z"}}]
- id: timely
  match: {status: sent, where: "elapsed.working_days >= 4"}
  when: {after: 1 working day, since: sent_at}
  do: [{log: {message: "t"}}]
"""
START = msk("2024-03-01 09:00")


def test_a_changed_document_is_looked_at_again(tmp_path: Path) -> None:
    world = World(tmp_path / "s.sqlite3", (playbook(RULES),))
    with world.store() as store:
        store.upsert_documents([make_document("a", sent_at=START, amount=Decimal("500"))])
    world.evaluate(msk("2024-03-20 12:00"))
    assert "pb/ladder" not in {f.rule_key for f in world.ledger("a")}
    assert world.evaluate(msk("2024-03-21 12:00")).fired == ()
    with world.store() as store:
        store.upsert_documents([make_document("a", sent_at=START, amount=Decimal("50000"))])
    assert fired_steps(world.evaluate(msk("2024-03-21 12:01"))) == [("a", "repeat[2]")]


def test_a_where_that_reads_the_time_is_always_re_evaluated(tmp_path: Path) -> None:
    world = World(tmp_path / "s.sqlite3", (playbook(RULES),))
    with world.store() as store:
        store.upsert_documents([make_document("a", sent_at=msk("2024-03-04 10:00"))])
    # "timely" is due after 1 working day but its where needs 4: nothing changes in the
    # document, yet it must fire once 4 working days have passed.
    world.evaluate(msk("2024-03-06 12:00"))
    assert not [f for f in world.ledger("a") if f.rule_key == "pb/timely"]
    # Working days fully passed after Mon 04.03 by Tue 12.03: 05, 06, 07 and 11.03.
    (planned,) = [
        p for p in world.evaluate(msk("2024-03-12 12:00")).fired if p.firing.rule_key == "pb/timely"
    ]
    assert planned.firing.step == "do"


def test_a_changed_playbook_is_evaluated_in_full(tmp_path: Path) -> None:
    world = World(tmp_path / "s.sqlite3", (playbook(RULES),))
    with world.store() as store:
        store.upsert_documents([make_document("a", sent_at=START, amount=Decimal("5000"))])
    world.evaluate(msk("2024-03-20 12:00"))
    edited = World(world.path, (playbook(RULES.replace(">= 10000", ">= 1000")),))
    assert ("a", "repeat[2]") in fired_steps(edited.evaluate(msk("2024-03-20 12:05")))


def _mutate(store: SQLiteStore, rng: random.Random, now_day: int) -> None:
    """Random syncs: new documents, re-sent ones, status changes, amount edits."""
    docs = []
    for _ in range(rng.randint(0, 6)):
        doc_id = f"d{rng.randrange(40)}"
        sent = START + timedelta(days=rng.randint(0, now_day), hours=rng.randint(0, 23))
        changed = sent + timedelta(hours=rng.randint(0, 60))
        docs.append(
            make_document(
                doc_id,
                kind=rng.choice([Kind.CONTRACT, Kind.ACT, Kind.UPD]),
                status=rng.choice([Status.SENT, Status.SENT, Status.REJECTED, Status.SIGNED]),
                amount=Decimal(rng.choice([500, 20000, 90000])),
                sent_at=sent,
                status_changed_at=changed,
            )
        )
    store.upsert_documents(docs)


def test_incremental_and_full_evaluations_agree(tmp_path: Path) -> None:
    pb = (playbook(RULES),)
    paths = {mode: tmp_path / f"{mode}.sqlite3" for mode in ("incremental", "full")}
    stores = {mode: SQLiteStore(path) for mode, path in paths.items()}
    engines = {mode: Engine(store, pb, CALENDAR) for mode, store in stores.items()}
    rng = {mode: random.Random(7) for mode in paths}
    for tick in range(0, 40 * 8):
        now = START + timedelta(hours=3 * tick)
        day = (now - START).days
        for mode in paths:
            _mutate(stores[mode], rng[mode], day)
        full = engines["full"].evaluate(now, incremental=False)
        incremental = engines["incremental"].evaluate(now)
        assert _summary(incremental) == _summary(full), now
    ledgers = {
        mode: sorted(
            (f.rule_key, f.document_id, f.step, f.episode, f.skipped)
            for d in range(40)
            for f in store.firings_for(f"d{d}")
        )
        for mode, store in stores.items()
    }
    assert ledgers["incremental"] == ledgers["full"]
    assert len(ledgers["full"]) > 100  # the scenario really exercises the ladders
    for store in stores.values():
        store.close()


def _summary(result: EvaluationResult) -> list[tuple[str, str, str, str, bool]]:
    fired, skipped = result.fired, result.skipped
    rows = [
        (p.firing.rule_key, p.firing.document_id, p.firing.step, p.firing.episode, False)
        for p in fired
    ]
    rows += [(f.rule_key, f.document_id, f.step, f.episode, True) for f in skipped]
    return sorted(rows)
