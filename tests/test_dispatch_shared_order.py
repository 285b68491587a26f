"""Runners sharing a store keep each document's order: a request waits while an earlier
one of its document is in flight at another runner (or due and not claimed yet)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_contract import T0, make_document, make_firing, make_request
from test_dispatch import Recorder

from edo_rules.model import Outcome, OutcomeStatus, RequestState
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres

NOW = T0 + timedelta(days=4)


def _runner(dsn: str, schema: str, name: str) -> PostgresStore:
    return PostgresStore(dsn, schema=schema, pool_size=2, runner_id=name)


def test_a_request_waits_behind_its_documents_request_at_another_runner(
    pg_database: str, pg_schema: str
) -> None:
    a, b = _runner(pg_database, pg_schema, "a"), _runner(pg_database, pg_schema, "b")
    try:
        a.upsert_documents([make_document("d"), make_document("e")])
        a.record_firings(
            [
                (make_firing("d", "one"), [make_request("d", "d1")]),
                (make_firing("d", "two"), [make_request("d", "d2")]),
                (make_firing("e", "one"), [make_request("e", "e1")]),
            ]
        )
        (first,) = a.claim_requests(NOW, 1)  # "a" is sending d1
        assert first.idempotency_key == "d1" and first.id is not None
        log = Recorder("log")
        keys = {r.id: r.idempotency_key for r in b.requests(list(RequestState))}
        report = Dispatcher(b, {"log": log}, clock=lambda: NOW).dispatch()
        assert [[keys[i] for i in call] for call in log.calls] == [["e1"]]
        assert report.outcomes == {"done": 1}
        waiting = {r.idempotency_key: r.state for r in b.requests([RequestState.PENDING])}
        assert waiting == {"d2": RequestState.PENDING}
        # Pending and due but claimed by nobody yet also comes first: d2 waits behind d1.
        a.set_request_state(first.id, RequestState.PENDING)
        d2 = next(i for i, k in keys.items() if k == "d2")
        assert b.waiting_behind([d2], NOW) == {d2}
        assert b.waiting_behind([d2, first.id], NOW) == set()  # both claimed: d1 goes first
        (again,) = a.claim_requests(NOW, 1)
        a.record_outcomes([Outcome(again.id or 0, OutcomeStatus.DONE, NOW)])
        Dispatcher(b, {"log": log}, clock=lambda: NOW).dispatch()
        assert [keys[i] for i in log.calls[-1]] == ["d2"]
    finally:
        a.close()
        b.close()
