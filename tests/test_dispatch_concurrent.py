"""Several batches in flight, each document's requests one at a time and in order."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from test_dispatch import NOW, Recorder, _document, _enqueue

from edo_rules.actions.bitrix24 import Bitrix24Settings, build_adapters, make_client
from edo_rules.actions.bitrix24.adapters._base import marker
from edo_rules.emulators.bitrix24 import Bitrix24Emulator
from edo_rules.errors import ConfigError
from edo_rules.model import ActionRequest, Firing, RequestState
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.store.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    opened = SQLiteStore(tmp_path / "store.db")
    yield opened
    opened.close()


def test_a_group_holds_one_request_per_document_and_keeps_their_order(store: SQLiteStore) -> None:
    _enqueue(store, [("a", "x"), ("a", "x"), ("b", "x"), ("a", "x"), ("c", "x"), ("b", "x")])
    ids = {r.idempotency_key: r.id for r in store.requests([RequestState.PENDING])}
    x = Recorder("x")
    report = Dispatcher(store, {"x": x}, clock=lambda: NOW).dispatch()
    assert report.outcomes == {"done": 6}
    # Each group: the oldest waiting request of each document, never two of one.
    assert x.calls == [
        [ids["x-a-0"], ids["x-b-2"], ids["x-c-4"]],
        [ids["x-a-1"], ids["x-b-5"]],
        [ids["x-a-3"]],
    ]


def test_a_documents_older_request_of_another_action_goes_first(store: SQLiteStore) -> None:
    _enqueue(store, [("b", "x"), ("a", "y"), ("a", "x")])
    ids = {r.idempotency_key: r.id for r in store.requests([RequestState.PENDING])}
    x, y = Recorder("x"), Recorder("y")
    Dispatcher(store, {"x": x, "y": y}, clock=lambda: NOW).dispatch()
    assert x.calls == [[ids["x-b-0"]], [ids["x-a-2"]]]  # a's x waited for a's y
    assert y.calls == [[ids["y-a-1"]]]


def test_a_large_group_is_cut_to_whole_batches(store: SQLiteStore) -> None:
    _enqueue(store, [(f"d{n:03d}", "x") for n in range(120)])
    x = Recorder("x")
    Dispatcher(store, {"x": x}, clock=lambda: NOW, pack=50).dispatch()
    assert [len(call) for call in x.calls] == [100, 20]


def _notifications(store: SQLiteStore, emulator: Bitrix24Emulator, per_document: int) -> int:
    """``per_document`` notifications for each of 100 documents, interleaved by document."""
    documents = [f"doc-{n:03d}" for n in range(100)]
    store.upsert_documents(_document(doc) for doc in documents)
    user = int(emulator.portal.users()[0]["ID"])
    firings = []
    for n in range(per_document * len(documents)):
        doc = documents[n % len(documents)]
        request = ActionRequest(
            "notify", {"to": user, "text": f"№{n}"}, f"notify-{n}", doc, "pb/rule", NOW
        )
        firings.append((Firing("pb/rule", doc, f"s{n}", "e", NOW, NOW, "hash"), [request]))
    store.record_firings(firings)
    return per_document * len(documents)


def test_batches_go_out_side_by_side_and_each_documents_order_holds(
    store: SQLiteStore,
) -> None:
    with Bitrix24Emulator(plan="enterprise", seed=3, latency=0.2) as emulator:
        settings = Bitrix24Settings.from_mapping(
            {
                "webhook_url": emulator.add_webhook(1),
                "plan": "enterprise",
                "in_flight": 4,
                "flood_guard": {"per_tick": 10**6, "per_day": 10**6},
            },
            where="test",
        )
        count = _notifications(store, emulator, per_document=3)
        with make_client(settings) as client:
            actions = build_adapters(settings, store, client=client, clock=lambda: NOW)
            since = NOW - timedelta(days=1)
            report = Dispatcher(store, actions, clock=lambda: NOW, since=since).dispatch()
        assert report.outcomes == {"done": count}
        stats = emulator.stats()
        sent = [n["tag"] for n in emulator.portal.t.notifications]
    assert stats["peak_in_flight"] >= 2  # two 50-command batches of a 100-request group at once
    assert stats.get("refused_rate", 0) == 0
    number = {marker(f"notify-{n}"): n for n in range(count)}
    assert sorted(number[tag] for tag in sent) == list(range(count))  # each once
    order: dict[int, list[int]] = defaultdict(list)
    for tag in sent:
        order[number[tag] % 100].append(number[tag])
    assert all(seq == sorted(seq) for seq in order.values())


@pytest.mark.parametrize("value", [0, 2.5, 17, "four"])
def test_in_flight_must_be_a_small_whole_number(value: object) -> None:
    with pytest.raises(ConfigError, match=r"bitrix24\.in_flight"):
        Bitrix24Settings.from_mapping(
            {"webhook_url": "https://b24.example.ru/rest/1/secret/", "in_flight": value},
            where="edo-rules.yaml",
        )
