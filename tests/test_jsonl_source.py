"""The JSON Lines source: feeding a real SQLite store, incremental reads, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from store_contract import make_document

from edo_rules._codec import document_to_dict
from edo_rules.errors import SourceError, StoreError
from edo_rules.model import Status
from edo_rules.sources.base import Source, sync
from edo_rules.sources.jsonl import JsonlSource
from edo_rules.store.sqlite import SQLiteStore


def _doc_line(doc_id: str, **changes: Any) -> str:
    return json.dumps({"type": "document", **document_to_dict(make_document(doc_id, **changes))})


def _event_line(doc_id: str, at: str, to: str, **extra: Any) -> str:
    record = {"type": "event", "document_id": doc_id, "at": at, "to_status": to, "to_raw": to}
    return json.dumps({**record, **extra}, ensure_ascii=False)


def _write(path: Path, lines: list[str], mode: str = "w") -> None:
    with path.open(mode, encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "store.sqlite3")


def test_feeds_documents_and_events(tmp_path: Path, store: SQLiteStore) -> None:
    path = tmp_path / "docs.jsonl"
    _write(
        path,
        [
            _doc_line("a"),
            "",
            _doc_line("b", status=Status.SIGNED),
            _event_line("b", "2024-04-26T10:00:00+03:00", "sent", from_status="draft"),
            _event_line("b", "2024-04-29T11:00:00+03:00", "signed", comment="подписан"),
        ],
    )
    source = JsonlSource(path, page_size=2)
    assert isinstance(source, Source)
    summary = sync(source, store)
    assert (summary.pages, summary.documents, summary.events_added) == (3, 2, 2)
    assert store.get_document("a") == make_document("a")
    history = store.history("b")
    assert [e.to_status for e in history] == [Status.SENT, Status.SIGNED]
    assert all(e.historical for e in history)  # the first sync is history
    assert history[1].comment == "подписан"


def test_appended_lines_are_read_incrementally_and_trigger(
    tmp_path: Path, store: SQLiteStore
) -> None:
    path = tmp_path / "docs.jsonl"
    _write(path, [_doc_line("a")])
    sync(JsonlSource(path), store)
    assert sync(JsonlSource(path), store).pages == 0
    _write(path, [_event_line("a", "2024-04-29T11:00:00+03:00", "signed")], mode="a")
    summary = sync(JsonlSource(path), store)
    assert (summary.documents, summary.events_added) == (0, 1)
    (event,) = store.history("a")
    assert not event.historical


def test_first_sync_history_can_be_turned_off(tmp_path: Path, store: SQLiteStore) -> None:
    path = tmp_path / "docs.jsonl"
    _write(path, [_doc_line("a"), _event_line("a", "2024-04-29T11:00:00+03:00", "signed")])
    sync(JsonlSource(path, first_sync_is_history=False), store)
    assert not store.history("a")[0].historical


def test_every_bad_line_is_reported_with_file_and_line(tmp_path: Path, store: SQLiteStore) -> None:
    path = tmp_path / "bad.jsonl"
    _write(
        path,
        [
            _doc_line("ok"),
            "{not json",
            json.dumps({"type": "document", **document_to_dict(make_document("x")), "kind": "ак"}),
            _event_line("ok", "2024-04-29T11:00:00", "signed"),
            json.dumps({"type": "invoice"}),
            "[1, 2]",
        ],
    )
    with pytest.raises(SourceError) as info:
        sync(JsonlSource(path), store)
    text = str(info.value)
    assert f"{path}:2: not valid JSON" in text
    assert f"{path}:3: kind: 'ак' is not one of" in text
    assert f"{path}:4: at:" in text and "no UTC offset" in text
    assert f"{path}:5: type:" in text
    assert f"{path}:6: expected a JSON object" in text
    assert "Что сделать:" in text
    assert store.count_documents() == 0  # the bad page is never written


def test_good_pages_before_a_bad_one_are_kept(tmp_path: Path, store: SQLiteStore) -> None:
    path = tmp_path / "docs.jsonl"
    _write(path, [_doc_line("a"), _doc_line("b"), "oops"])
    with pytest.raises(SourceError, match=":3: not valid JSON"):
        sync(JsonlSource(path, page_size=2), store)
    assert store.count_documents() == 2
    _write(path, [_doc_line("a"), _doc_line("b"), _doc_line("c")])
    sync(JsonlSource(path, page_size=2), store)
    assert store.count_documents() == 3


def test_an_event_of_an_unknown_document_is_a_store_error(
    tmp_path: Path, store: SQLiteStore
) -> None:
    path = tmp_path / "orphan.jsonl"
    _write(path, [_event_line("ghost", "2024-04-29T11:00:00+03:00", "signed")])
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        sync(JsonlSource(path), store)


def test_a_missing_file(tmp_path: Path, store: SQLiteStore) -> None:
    with pytest.raises(SourceError, match="cannot read") as info:
        sync(JsonlSource(tmp_path / "missing.jsonl"), store)
    assert "missing.jsonl" in str(info.value)


def test_a_truncated_file_is_reported(tmp_path: Path, store: SQLiteStore) -> None:
    path = tmp_path / "docs.jsonl"
    _write(path, [_doc_line("a"), _doc_line("b")])
    sync(JsonlSource(path), store)
    _write(path, [_doc_line("a")])
    with pytest.raises(SourceError, match="truncated or replaced"):
        sync(JsonlSource(path), store)


def test_a_file_that_is_not_utf8(tmp_path: Path, store: SQLiteStore) -> None:
    path = tmp_path / "cp1251.jsonl"
    path.write_bytes('{"organization": "Ромашка"}'.encode("cp1251"))
    with pytest.raises(SourceError, match="not UTF-8"):
        sync(JsonlSource(path), store)
