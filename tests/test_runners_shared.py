"""Several runners on one PostgreSQL store: membership, the sync lease, expired claims."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from store_contract import T0, make_document, make_firing, make_request

from edo_rules.model import ActionRequest, Outcome, OutcomeStatus, RequestState
from edo_rules.runner._cluster import SYNC_LEASE, Membership
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres

LEASE = 1.0


def _runner(dsn: str, schema: str, name: str) -> PostgresStore:
    return PostgresStore(
        dsn, schema=schema, pool_size=2, runner_id=name, claim_lease=timedelta(seconds=LEASE)
    )


def test_one_runner_holds_the_sync_lease_and_another_takes_over_within_a_lease(
    pg_database: str, pg_schema: str
) -> None:
    shares: dict[str, int] = {}
    stores = [_runner(pg_database, pg_schema, name) for name in ("a", "b", "c")]
    members = [
        Membership(s, lease=LEASE, share_rate=lambda n, who=s.runner_id: shares.__setitem__(who, n))
        for s in stores
    ]
    try:
        for member in members:
            member.start()
        for member in members:
            member.beat()
        assert [m.holds_sync_lease for m in members] == [True, False, False]
        assert shares == {"a": 3, "b": 3, "c": 3}  # each paces itself at a third of the rate
        status = members[1].status()
        assert status["runner"] == "b" and status["live_runners"] == 3
        assert [r["holds"] for r in status["runners"]] == [[SYNC_LEASE], [], []]
        members[0]._stop.set()  # "a" dies: no heartbeat, no clean leave
        assert members[0]._thread is not None
        members[0]._thread.join()
        died = time.monotonic()
        while not any(m.holds_sync_lease for m in members[1:]):
            assert time.monotonic() - died < 3 * LEASE
            time.sleep(0.05)
        took = time.monotonic() - died
        assert took <= LEASE, took  # within one lease period of the death
        assert sum(m.holds_sync_lease for m in members[1:]) == 1
        time.sleep(2 * LEASE)
        members[1].beat()
        assert shares["b"] == 2  # "a" is no longer counted
    finally:
        for member in members[1:]:
            member.stop()
        for store in stores:
            store.close()


def test_a_dead_runners_claims_are_taken_over_after_its_lease(
    pg_database: str, pg_schema: str
) -> None:
    a, b = _runner(pg_database, pg_schema, "a"), _runner(pg_database, pg_schema, "b")
    try:
        a.upsert_documents([make_document("d")])
        a.record_firings([(make_firing("d"), [make_request("d", "k1"), make_request("d", "k2")])])
        claimed = a.claim_requests(T0 + timedelta(days=4), 10)
        assert len(claimed) == 2
        a.heartbeat(LEASE)
        assert b.take_over_stale_claims(LEASE) == []  # "a" is alive: its claims are its own
        time.sleep(LEASE + 0.2)  # "a" died after its last heartbeat
        taken = b.take_over_stale_claims(LEASE)
        assert [r.idempotency_key for r in taken] == ["k1", "k2"]
        assert {r.state for r in taken} == {RequestState.IN_FLIGHT}
        assert b.take_over_stale_claims(LEASE) == []  # now b's, under a fresh lease
        b.heartbeat(LEASE)
        (mine,) = [r for r in b.runners() if r.id == "b"]
        assert mine.claims == 2 and mine.alive
    finally:
        a.close()
        b.close()


class _Portal:
    """A real ``log`` adapter over a dict of effects; its look-up can be made to not answer."""

    name: ClassVar[str] = "log"
    params_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    can_check: ClassVar[bool] = True

    def __init__(self) -> None:
        self.effects: list[str] = []
        self.answers = False

    def execute(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        self.effects += [r.idempotency_key for r in requests]
        return [Outcome(r.id or 0, OutcomeStatus.DONE, T0) for r in requests]

    def check(self, request: ActionRequest) -> Outcome | None:
        if not self.answers:  # the portal is down: the check cannot say
            return Outcome(request.id or 0, OutcomeStatus.IN_DOUBT, T0, reason="portal down")
        found = request.idempotency_key in self.effects
        return Outcome(request.id or 0, OutcomeStatus.DONE, T0) if found else None


def test_a_crashed_request_whose_check_did_not_answer_is_checked_again_next_pass(
    pg_database: str, pg_schema: str
) -> None:
    # "b" takes over what dead "a" left in flight, but the look-up does not answer; before,
    # "b" kept the claim (renewed by its heartbeat) and no pass ever checked it again.
    a = _runner(pg_database, pg_schema, "a")
    b = PostgresStore(
        pg_database, schema=pg_schema, pool_size=2, runner_id="b", claim_lease=timedelta(minutes=5)
    )
    try:
        a.upsert_documents([make_document("d")])
        a.record_firings([(make_firing("d"), [make_request("d", "k1")])])
        assert len(a.claim_requests(T0 + timedelta(days=4), 10)) == 1
        time.sleep(LEASE + 0.2)  # "a" died after claiming
        portal = _Portal()
        dispatcher = Dispatcher(b, {"log": portal}, clock=lambda: T0 + timedelta(days=4))
        assert dispatcher.dispatch().recovered == Counter({"unresolved": 1})  # no answer: left
        (left,) = b.requests([RequestState.IN_FLIGHT])
        assert left.idempotency_key == "k1"
        assert [r.claims for r in b.runners() if r.id == "b"] in ([], [0])
        portal.answers = True
        report = dispatcher.dispatch()  # well within b's five-minute lease
        assert report.recovered == Counter({"resend": 1}) and portal.effects == ["k1"]
        assert b.requests([RequestState.IN_FLIGHT]) == []
    finally:
        a.close()
        b.close()


def test_a_pass_that_fails_half_way_leaves_no_claim_behind(
    pg_database: str, pg_schema: str
) -> None:
    a = _runner(pg_database, pg_schema, "a")
    b = PostgresStore(
        pg_database, schema=pg_schema, pool_size=2, runner_id="b", claim_lease=timedelta(minutes=5)
    )
    try:
        a.upsert_documents([make_document("d")])
        a.record_firings([(make_firing("d"), [make_request("d", "k1")])])
        assert len(a.claim_requests(T0 + timedelta(days=4), 10)) == 1
        time.sleep(LEASE + 0.2)  # "a" died after claiming
        portal = _Portal()
        portal.answers = True
        dispatcher = Dispatcher(b, {"log": portal}, clock=lambda: T0 + timedelta(days=4))
        check = portal.check
        portal.check = _broken  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            dispatcher.dispatch()  # b took the claim over, then the pass failed
        assert [r.claims for r in b.runners() if r.id == "b"] in ([], [0])
        portal.check = check  # type: ignore[method-assign]
        assert dispatcher.dispatch().recovered == Counter({"resend": 1})
        assert portal.effects == ["k1"] and b.requests([RequestState.IN_FLIGHT]) == []
    finally:
        a.close()
        b.close()


def _broken(request: ActionRequest) -> Outcome | None:
    raise RuntimeError("a bug in the adapter's look-up")
