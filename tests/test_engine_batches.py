"""A large tick is recorded in batches; amount bounds in ``where`` narrow the store's query."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from _engine_helpers import CALENDAR, World, msk, playbook
from store_contract import make_document, make_event

from edo_rules.engine import Engine, EvaluationResult
from edo_rules.engine._match import where_amount_bounds
from edo_rules.model import Kind, Status
from edo_rules.store.sqlite import SQLiteStore

RULES = """
- id: ladder
  match: {kind: [contract, act], status: sent, where: "doc.amount >= 10000"}
  when: {after: 2 working days, since: sent_at}
  do: [{log: {message: "{{ doc.number }}"}}]
  escalate: [{after: 4 working days, do: [{log: {message: "y"}}]}]
- id: small
  match: {status: sent, where: "doc.amount < 1000 and doc.number != '7'"}
  when: {after: 1 working day, since: sent_at}
  do: [{log: {message: "s"}}]
- id: signed
  match: {where: "doc.amount >= 10000"}
  when: {status_changed: {to: signed}}
  do: [{log: {message: "e"}}]
"""
START = msk("2024-03-01 09:00")


def _world(path: Path) -> World:
    world = World(path, (playbook(RULES),))
    amounts = [Decimal(500), Decimal(5000), Decimal(50000), None]
    with world.store() as store:
        store.upsert_documents(
            make_document(
                f"d{i}",
                number=str(i),
                kind=Kind.ACT if i % 2 else Kind.CONTRACT,
                amount=amounts[i % 4],
                sent_at=START + timedelta(hours=7 * i),
                status_changed_at=START + timedelta(hours=7 * i),
            )
            for i in range(40)
        )
    return world


def _summary(result: EvaluationResult) -> list[tuple[str, str, str, bool, int]]:
    rows = [
        (p.firing.rule_key, p.firing.document_id, p.firing.step, False, len(p.requests))
        for p in result.fired
    ]
    rows += [(f.rule_key, f.document_id, f.step, True, 0) for f in result.skipped]
    return sorted(rows)


def _ids(result: EvaluationResult) -> list[int | None]:
    return [p.firing.id for p in result.fired] + [f.id for f in result.skipped]


def test_a_tick_recorded_in_batches_records_what_one_batch_does(tmp_path: Path) -> None:
    worlds = {size: _world(tmp_path / f"{size}.sqlite3") for size in (2, 100_000)}
    results: dict[int, list[EvaluationResult]] = {}
    for size, world in worlds.items():
        with world.store() as store:
            engine = Engine(store, world.playbooks, CALENDAR, record_batch=size)
            results[size] = [engine.evaluate(msk("2024-03-12 12:00"))]
            store.write_sync_page(
                [make_document("d2", status=Status.SIGNED, amount=Decimal(50000))],
                [make_event("d2", msk("2024-03-12 13:00"), Status.SIGNED)],
            )
            for when in ("2024-03-12 14:00", "2024-03-20 12:00"):
                results[size].append(engine.evaluate(msk(when)))
            results[size].append(engine.evaluate(msk("2024-03-20 12:01")))
    batched, whole = results[2], results[100_000]
    assert [_summary(r) for r in batched] == [_summary(r) for r in whole]
    assert len(batched[0].fired) > 10 and batched[-1].fired == ()
    assert all(None not in _ids(r) for r in batched)  # every firing came back recorded
    with SQLiteStore(worlds[2].path) as store:
        ledger = sum(len(store.firings_for(f"d{i}")) for i in range(40))
    assert ledger == sum(len(r.fired) + len(r.skipped) for r in batched)


def test_amount_bounds_of_where_narrow_the_query_and_failures_still_show(tmp_path: Path) -> None:
    world = _world(tmp_path / "s.sqlite3")
    result = world.evaluate(msk("2024-03-12 12:00"))
    fired = {(p.firing.rule_key, p.firing.document_id) for p in result.fired}
    assert ("pb/ladder", "d2") in fired and ("pb/small", "d0") in fired
    assert not {doc for rule, doc in fired if rule == "pb/ladder"} & {"d0", "d1", "d3"}
    # A document without an amount is not left out by the bound: its `where` fails, visibly.
    failed = {(f.rule_key, f.document_id) for f in result.failures}
    assert ("pb/ladder", "d3") in failed and ("pb/small", "d3") in failed


@pytest.mark.parametrize(
    ("source", "bounds"),
    [
        ("doc.amount >= 100000", (Decimal(100000), None)),
        ("doc.amount > 5 and doc.amount < 7.5", (Decimal(5), Decimal("7.5"))),
        ("100 <= doc.amount", (Decimal(100), None)),
        ("doc.amount >= -3 and doc.amount >= 2", (Decimal(2), None)),
        # An earlier operand of another kind may fail: its failure must still be seen.
        ("doc.number == '1' and doc.amount > 5", (None, None)),
        ("doc.amount > 5 and doc.number == '1' and doc.amount < 9", (Decimal(5), None)),
        ("doc.amount > 5 or doc.amount < 1", (None, None)),
        ("doc.amount == 5", (None, None)),
        ("doc.amount > True", (None, None)),
        ("doc.amount > now", (None, None)),
        ("other.amount > 5", (None, None)),
        ("doc.amount >", (None, None)),
    ],
)
def test_where_amount_bounds(source: str, bounds: tuple[Decimal | None, Decimal | None]) -> None:
    assert where_amount_bounds(source) == bounds
