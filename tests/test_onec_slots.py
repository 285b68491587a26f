"""The client's request slots: at most ``concurrency`` in flight, an urgent request first.

The incremental sync marks the longest chain of dependent requests (documents
first seen, then the catalogs and sales documents they name) urgent, so the
stored documents' key chunks queued before them do not push it a round later.
"""

from __future__ import annotations

import threading
import time

from edo_rules._bounds import in_context
from edo_rules.sources.onec._client import _Slots, urgent


def _waiter(slots: _Slots, name: str, order: list[str], *, is_urgent: bool) -> threading.Thread:
    def run() -> None:
        with slots.slot(is_urgent):
            order.append(name)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _queued(slots: _Slots, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(slots._waiting) < count:
        assert time.monotonic() < deadline, "the waiters never queued"
        time.sleep(0.005)


def test_an_urgent_request_waiting_gets_the_next_slot_before_earlier_ones() -> None:
    slots = _Slots(1)
    order: list[str] = []
    with slots.slot(False):
        threads = [_waiter(slots, "bulk-1", order, is_urgent=False)]
        _queued(slots, 1)
        threads.append(_waiter(slots, "bulk-2", order, is_urgent=False))
        _queued(slots, 2)
        threads.append(_waiter(slots, "urgent", order, is_urgent=True))
        _queued(slots, 3)
    for thread in threads:
        thread.join(timeout=5)
    assert order == ["urgent", "bulk-1", "bulk-2"]


def test_never_more_in_flight_than_the_slots() -> None:
    slots = _Slots(3)
    lock = threading.Lock()
    inside = [0, 0]  # now, most

    def work() -> None:
        with slots.slot(False):
            with lock:
                inside[0] += 1
                inside[1] = max(inside[1], inside[0])
            time.sleep(0.01)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert inside == [0, 3]


def test_urgency_follows_the_work_into_the_threads_it_starts() -> None:
    from edo_rules.sources.onec._client import _URGENT

    seen: list[bool] = []
    with urgent():
        call = in_context(lambda: seen.append(_URGENT.get()))
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert seen == [True] and _URGENT.get() is False
