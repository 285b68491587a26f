"""Every injected 1C fault: nothing lost or half-written, a clear error, the next sync heals."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from _onec_helpers import make_base, open_store, serving, snapshot, sync

from edo_rules.emulators.onec import OUTGOING, STATES, Fault
from edo_rules.errors import SourceError
from edo_rules.model import Status
from edo_rules.sources.onec import WATERMARK


def _tops(requests: list[str], entity_set: str) -> list[str]:
    return [
        unquote(path).split("$top=")[1].split("&")[0]
        for path in requests
        if entity_set in unquote(path) and "$top=" in path
    ]


def _clean_result(tmp_path: Path, documents: int) -> tuple[object, ...]:
    """What a sync without faults writes (the reference a healed store must equal)."""
    base = make_base(documents)
    store = open_store(tmp_path, "clean.db")
    with serving(base) as emulator:
        sync(emulator, store)
    docs, histories, _ = snapshot(store)
    return tuple((d.id, d.status_1c) for d in docs), histories


def test_a_slow_first_request_fits_the_first_timeout(tmp_path: Path) -> None:
    base = make_base(30)
    with serving(base) as emulator:
        emulator.faults.first_request_delay = (
            1.3  # longer than `timeout`, shorter than `first_timeout`
        )
        report = sync(emulator, open_store(tmp_path), timeout=1.0, first_timeout=3.0)
    assert report.documents == 30
    assert emulator.faults.requests == report.requests  # no retry was needed


def test_a_first_request_slower_than_the_first_timeout_is_retried(tmp_path: Path) -> None:
    base = make_base(30)
    with serving(base) as emulator:
        emulator.faults.first_request_delay = 1.0
        report = sync(emulator, open_store(tmp_path), first_timeout=0.3)
    assert report.documents == 30
    assert emulator.faults.requests == report.requests
    assert report.requests > len({unquote(p).split("?")[0] for p in emulator.requests})


@pytest.mark.parametrize("kind", ["status500", "status503", "html"])
def test_a_server_error_on_a_page_is_retried_with_half_the_page(tmp_path: Path, kind: str) -> None:
    base = make_base(100)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        fault = emulator.inject(Fault(kind, entity_set=OUTGOING, skip=40))  # type: ignore[arg-type]
        report = sync(emulator, store)
        tops = _tops(list(emulator.requests), OUTGOING)
    assert fault.hits == 1 and report.documents == 100
    assert tops[:3] == ["40", "40", "20"]  # the failed second page is asked again, halved
    assert len(list(store.iter_documents())) == 100


def test_a_read_timeout_is_retried_with_half_the_page(tmp_path: Path) -> None:
    base = make_base(60)
    with serving(base) as emulator:
        emulator.faults.hang_seconds = 1.5
        fault = emulator.inject(Fault("hang", entity_set=OUTGOING))
        report = sync(emulator, open_store(tmp_path), timeout=0.4, first_timeout=0.4)
        tops = _tops(list(emulator.requests), OUTGOING)
    assert fault.hits == 1 and report.documents == 60
    assert tops[:2] == ["40", "20"]


@pytest.mark.parametrize("kind", ["truncated", "malformed"])
def test_a_broken_page_is_retried_whole(tmp_path: Path, kind: str) -> None:
    base = make_base(60)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        fault = emulator.inject(Fault(kind, entity_set=STATES))  # type: ignore[arg-type]
        report = sync(emulator, store)
    assert fault.hits == 1 and report.documents == 60
    assert len(list(store.iter_documents())) == 60


def test_a_control_character_in_the_data_does_not_cost_the_page(tmp_path: Path) -> None:
    base = make_base(30)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        fault = emulator.inject(Fault("control_char", entity_set=OUTGOING))
        report = sync(emulator, store)
    assert fault.hits == 1 and report.documents == 30
    assert emulator.faults.requests == report.requests  # coped with, not retried
    numbers = [doc.number for doc in store.iter_documents()]
    assert all(number.isdigit() for number in numbers)


@pytest.mark.parametrize("kind", ["status500", "html", "truncated", "malformed", "hang"])
def test_a_persistent_fault_fails_clearly_and_the_next_sync_heals(
    tmp_path: Path, kind: str
) -> None:
    base = make_base(100)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        emulator.faults.hang_seconds = 0.6
        emulator.inject(Fault(kind, entity_set=OUTGOING, skip=40, times=99))  # type: ignore[arg-type]
        with pytest.raises(SourceError) as caught:
            sync(emulator, store, retries=2, timeout=0.3, first_timeout=0.3)
        written = list(store.iter_documents())
        state = store.get_sync_state()
        emulator.faults.clear()
        healed = sync(emulator, store)
    error = caught.value
    assert error.retryable and error.url and OUTGOING in unquote(error.url)
    assert len(written) == 40  # whole pages only: the first page, not a row of the broken one
    for doc in written:
        assert store.history(doc.id), "a written document always has its history"
    assert WATERMARK not in state  # the initial load is not marked done
    assert healed.mode == "full"
    docs, histories, _ = snapshot(store)
    clean_docs, clean_histories = _clean_result(tmp_path, 100)
    assert tuple((d.id, d.status_1c) for d in docs) == clean_docs
    assert [[(e.to_raw, e.at) for e in h] for h in histories] == [
        [(e.to_raw, e.at) for e in h] for h in clean_histories
    ]


def test_a_fault_during_an_incremental_sync_leaves_the_store_unchanged(tmp_path: Path) -> None:
    base = make_base(60)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        doc = next(d.id for d in store.iter_documents() if d.status is Status.SENT)
        base.advance(hours=1)
        base.sign(doc)
        before = snapshot(store)
        emulator.inject(Fault("status500", entity_set=OUTGOING, times=99))
        with pytest.raises(SourceError) as caught:
            sync(emulator, store, retries=1)
        after_failure = snapshot(store)
        emulator.faults.clear()
        healed = sync(emulator, store)
    assert "1С ответила HTTP 500" in str(caught.value)
    assert after_failure == before
    assert healed.events_added == 1
    signed = store.get_document(doc)
    assert signed is not None and signed.status is Status.SIGNED


def test_a_server_ignoring_filter_and_top_is_checked_locally(tmp_path: Path) -> None:
    base = make_base(90)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        emulator.faults.ignore_top.add(OUTGOING)
        full = sync(emulator, store)
        doc = next(d.id for d in store.iter_documents() if d.status is Status.SENT)
        base.advance(hours=1)
        base.sign(doc)
        emulator.faults.ignore_filter.add(STATES)
        emulator.faults.ignore_filter.add("InformationRegister_ЖурналДействийПоЭДО")
        incremental = sync(emulator, store)
    outgoing = len(base.sets[OUTGOING].rows)
    assert full.documents == 90 and len(list(store.iter_documents())) == 90
    assert outgoing > 40  # more than one page, yet all came in the one answer
    assert incremental.documents == 1 and incremental.events_added == 1
    history = store.history(doc)
    assert [e.to_raw for e in history if not e.historical] == ["ОбменЗавершен"]
