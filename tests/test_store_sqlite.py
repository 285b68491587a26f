"""SQLiteStore: the store contract, plus what is specific to SQLite files."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_contract import T0, StoreContract, make_document, make_event, make_firing

from edo_rules._codec import (
    CodecError,
    document_from_dict,
    document_from_trusted,
    document_to_dict,
)
from edo_rules.errors import StoreError
from edo_rules.model import Side, Signer, Status
from edo_rules.store._sqlite_rows import UPSERT_DOCUMENT, document_params, event_params
from edo_rules.store._sqlite_schema import CURRENT_VERSION, MIGRATIONS, migrate
from edo_rules.store.sqlite import SQLiteStore


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[[], SQLiteStore]:
        return lambda: SQLiteStore(tmp_path / "store.sqlite3")


def _versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY 1")]


def test_a_new_file_gets_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with SQLiteStore(path) as store:
        assert store.count_documents() == 0
        mode = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
        keys = store._conn.execute("PRAGMA foreign_keys").fetchone()[0]
    assert (mode, keys) == ("wal", 1)
    assert _versions(path) == [m.version for m in MIGRATIONS]


def test_migrates_a_version_1_file_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=1)
    conn.close()
    assert _versions(path) == [1]
    # Write with the version-1 schema (no event cursors yet), then reopen.
    with sqlite3.connect(path) as conn:
        assert "event_cursors" not in {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master")
        }
    with SQLiteStore(path) as store:
        store.write_sync_page([make_document()], [make_event("doc-1", T0, Status.SENT)])
        store.record_firings([(make_firing("doc-1"), [])], event_cursors={"pb/r": 1})
    assert _versions(path) == [m.version for m in MIGRATIONS]
    with SQLiteStore(path) as store:
        assert store.get_document("doc-1") == make_document()
        assert store.event_cursors() == {"pb/r": 1}
        assert len(store.history("doc-1")) == 1


def _event_indexes(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'status_events'"
        )
        return sorted(row[0] for row in rows)


def test_migrating_a_version_3_file_drops_the_redundant_event_index(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=3)
    conn.close()
    assert "status_events_document" in _event_indexes(path)
    with SQLiteStore(path) as store:
        assert CURRENT_VERSION >= 4
        store.write_sync_page([make_document()], [make_event("doc-1", T0, Status.SENT)])
        later = make_event("doc-1", T0 + timedelta(hours=1), Status.SIGNED, from_status=Status.SENT)
        # Re-sent events are still ignored: the unique key stays.
        assert len(store.write_sync_page([make_document()], [later, later])) == 1
    assert _versions(path) == [m.version for m in MIGRATIONS]
    assert _event_indexes(path) == ["status_events_key"]  # the unique key (v16)
    with SQLiteStore(path) as store:
        assert [e.to_status for e in store.history("doc-1")] == [Status.SENT, Status.SIGNED]
        plan = store._conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM status_events WHERE document_id = 'doc-1'"
            " ORDER BY at_utc, id"
        ).fetchall()
        assert "USING COVERING INDEX status_events_key" in str(plan)


def _before_the_events_key() -> int:
    (key,) = [m.version for m in MIGRATIONS if m.description.startswith("status events: their")]
    return max(m.version for m in MIGRATIONS if m.version < key)


def test_migrating_to_the_named_events_key_keeps_the_events_and_their_id_counter(
    tmp_path: Path,
) -> None:
    # The key moves from a table constraint to an index a bulk load can drop (v16); the
    # table is rebuilt, and ids go on above the highest ever given (pruned ones included).
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=_before_the_events_key())
    docs = [make_document("a"), make_document("b")]
    conn.executemany(UPSERT_DOCUMENT, [document_params(doc, 1) for doc in docs])
    conn.executemany(
        "INSERT INTO status_events (document_id, at_utc, at, from_status, from_raw, to_status,"
        " to_raw, comment, actor, historical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            event_params(make_event(d.id, T0 + timedelta(hours=n), Status.SENT))
            for n, d in enumerate(docs)
        ],
    )
    conn.execute("DELETE FROM status_events WHERE document_id = 'b'")  # id 2 is not reused
    conn.close()
    assert _event_indexes(path) == ["sqlite_autoindex_status_events_1"]
    SQLiteStore(path).close()  # migrates
    assert _versions(path) == [m.version for m in MIGRATIONS]
    assert _event_indexes(path) == ["status_events_key"]
    with SQLiteStore(path) as store:
        (kept,) = store.history("a")
        assert (kept.id, kept.at, kept.to_status) == (1, T0, Status.SENT)
        new = make_event("b", T0 + timedelta(days=1), Status.SENT)
        assert [e.id for e in store.write_sync_page([], [new])] == [3]
        assert store.write_sync_page([], [make_event("a", T0, Status.SENT)]) == []  # unique


def test_a_corrupted_file_is_a_store_error_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)
    assert "ошибка при открытии хранилища" in str(info.value)
    assert "\nЧто сделать: это не хранилище edo-rules" in str(info.value)


def test_a_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="база SQLite, но не хранилище edo-rules") as info:
        SQLiteStore(path)
    assert "customers" in str(info.value) and str(path) in str(info.value)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'future', 'now')")
    with pytest.raises(StoreError, match="записано более новой версией edo-rules"):
        SQLiteStore(path)


def test_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unable to open") as info:
        SQLiteStore(tmp_path / "no" / "such" / "dir" / "store.sqlite3")
    assert "\nЧто сделать: проверьте, что папка существует" in str(info.value)


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        good = make_document("good")
        bad = replace(make_document("bad"), kind="not-a-kind")  # type: ignore[arg-type]
        with pytest.raises(AttributeError):
            store.upsert_documents([good, bad])
        assert store.count_documents() == 0


def test_bulk_upsert_in_batches(tmp_path: Path) -> None:
    docs = [make_document(f"d{i:06d}", number=str(i)) for i in range(12_000)]
    with SQLiteStore(tmp_path / "bulk.sqlite3") as store:
        assert store.upsert_documents(iter(docs)) == 12_000
        assert store.count_documents() == 12_000
        assert store.get_document("d011999") == docs[-1]


def test_a_locked_store_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with SQLiteStore(path, busy_timeout=0.05) as store, pytest.raises(StoreError) as info:
            store.upsert_documents([make_document()])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    text = str(info.value)
    assert f"{path}: ошибка при записи документов: database is locked" in text
    assert "Что сделать: хранилище сейчас записывает другой процесс" in text
    assert info.value.message_key == "store_failed_sqlite"


# -- the codec: an exact round trip, strict decoding -----------------------------------------

_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]
)
_moments = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    _zones,
)
_amounts = st.decimals(
    allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12
)


@settings(max_examples=150, deadline=None)
@given(
    amount=st.none() | _amounts,
    sent=st.none() | _moments,
    signed=_moments,
    status=st.sampled_from(list(Status)),
    text=st.text(max_size=40),
)
def test_documents_round_trip_through_json(
    amount: Decimal | None, sent: datetime | None, signed: datetime, status: Status, text: str
) -> None:
    doc = make_document(
        amount=amount,
        sent_at=sent,
        status=status,
        rejection_comment=text,
        signers=(Signer(Side.COUNTERPARTY, text or "x", signed),),
    )
    again = document_from_dict(document_to_dict(doc))
    assert again == doc
    assert document_from_trusted(json.loads(json.dumps(document_to_dict(doc)))) == doc
    assert again.sent_at is None or again.sent_at.utcoffset() == doc.sent_at.utcoffset()  # type: ignore[union-attr]
    assert str(again.amount) == str(doc.amount)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "contrakt"}, "kind"),
        ({"sent_at": "2024-04-26T10:00:00"}, "sent_at"),
        ({"amount": "много"}, "amount"),
        ({"counterparty": {"inn": "1"}}, "counterparty.name"),
        ({"signers": [{"side": "ours"}]}, "signers[0].name"),
        ({"colour": "red"}, "colour"),
        ({"id": None}, "id"),
    ],
)
def test_decoding_names_the_bad_field(change: dict[str, object], field: str) -> None:
    data = {**document_to_dict(make_document()), **change}
    with pytest.raises(CodecError) as info:
        document_from_dict(data)
    assert info.value.field == field


def test_an_in_memory_store_works() -> None:
    with SQLiteStore(":memory:") as store:
        store.upsert_documents([make_document()])
        assert store.get_document("doc-1") == make_document()
        assert store.document_seq() == 1


def test_migrating_a_version_5_file_fills_the_dashboard_columns(tmp_path: Path) -> None:
    path = tmp_path / "v5.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=5)
    # A row written by version 5: the JSON only, no dashboard columns yet.
    doc = make_document()
    conn.execute(
        "INSERT INTO documents (id, kind, status, direction, json) VALUES (?, ?, ?, ?, ?)",
        (
            doc.id,
            doc.kind.value,
            doc.status.value,
            doc.direction.value,
            json.dumps(document_to_dict(doc)),
        ),
    )
    conn.close()
    with SQLiteStore(path) as store:
        assert store.get_document(doc.id) == doc
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT number, counterparty_name, responsible, doc_date FROM documents"
        ).fetchone()
    assert row == (
        doc.number,
        doc.counterparty.name,
        doc.responsible,
        None if doc.date is None else doc.date.isoformat(),
    )
    assert _versions(path) == [m.version for m in MIGRATIONS]


def test_the_requests_of_a_firing_are_found_by_an_index(tmp_path: Path) -> None:
    # Deleting a firing cascades to its requests; without the index each deletion
    # scans the whole outbox (minutes when retention prunes a large store).
    path = tmp_path / "plan.sqlite3"
    with SQLiteStore(path):
        pass
    with sqlite3.connect(path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM action_requests WHERE firing_id = 1"
        ).fetchall()
    assert any("action_requests_firing" in str(row[-1]) for row in plan), plan


def test_a_due_candidate_whose_document_vanished_says_what_to_do(tmp_path: Path) -> None:
    from edo_rules.errors import StoreError
    from edo_rules.store._texts import document_loader

    with SQLiteStore(tmp_path / "gone.sqlite3") as store:
        load = document_loader(store.get_document, "d-gone", None)  # not selected: read by id
        with pytest.raises(StoreError, match="документ d-gone исчез из хранилища") as caught:
            load()
    assert "Что сделать: запустите такт ещё раз" in str(caught.value)


def _before_the_rule_index_drop() -> int:
    (drop,) = [m.version for m in MIGRATIONS if m.description.startswith("drop firings_rule")]
    return drop - 1


def test_the_ledger_has_no_index_by_rule_alone_its_unique_key_serves_it(tmp_path: Path) -> None:
    # Each recorded firing paid one more index entry for nothing: the ledger's unique
    # key has the rule (first then, second since the key leads with the document) and
    # every query by rule names documents too. A store of the previous version loses it.
    path = tmp_path / "rule.sqlite3"
    with sqlite3.connect(path) as conn:
        migrate(conn, target=_before_the_rule_index_drop())
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'firings_rule'").fetchone()
    with SQLiteStore(path):
        pass
    with sqlite3.connect(path) as conn:
        assert not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'firings_rule'"
        ).fetchall()
        plans = [
            conn.execute(f"EXPLAIN QUERY PLAN {query}", args).fetchall()
            for query, args in (
                ("SELECT document_id, episode, step FROM firings WHERE rule_key = ?"
                 " AND document_id IN (?, ?)", ("r", "a", "b")),
            )
        ]  # fmt: skip
    for plan in plans:
        assert any("sqlite_autoindex_firings_1" in str(row[-1]) for row in plan), plan


def _ledger_version() -> int:
    (version,) = [m.version for m in MIGRATIONS if m.description.startswith("ledger keyed")]
    return version


def _fire(conn: sqlite3.Connection, rule: str) -> int:
    cursor = conn.execute(
        "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
        " playbook_hash) VALUES (?, 'a', 'do', 'e', 'x', 'y', 'h')",
        (rule,),
    )
    return int(cursor.lastrowid or 0)


def _request(conn: sqlite3.Connection, firing_id: int, key: str) -> None:
    conn.execute(
        "INSERT INTO action_requests (firing_id, action, params, idempotency_key, document_id,"
        " rule_key, created_at, state) VALUES (?, 'log', '{}', ?, 'a', 'r', 't', 'pending')",
        (firing_id, key),
    )


def test_the_ledger_is_rebuilt_keyed_by_document_keeping_firings_requests_and_ids(
    tmp_path: Path,
) -> None:
    """The previous version's ledger moves over whole: firings, their requests (the table
    is dropped with the foreign keys off, so nothing cascades), the id counter."""
    path = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, target=_ledger_version() - 1)
    conn.execute("INSERT INTO documents (id, kind, status, direction, json)"
                 " VALUES ('a', 'k', 's', 'd', '{}')")  # fmt: skip
    kept, last = _fire(conn, "r1"), _fire(conn, "r2")
    _request(conn, kept, "k1")
    _request(conn, last, "k2")
    conn.execute("DELETE FROM firings WHERE id = ?", (last,))  # its id is never given again
    migrate(conn)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.execute("SELECT id, rule_key FROM firings").fetchall() == [(kept, "r1")]
    assert conn.execute("SELECT idempotency_key, firing_id FROM action_requests").fetchall() == [
        ("k1", kept)
    ]
    assert _fire(conn, "r3") == last + 1
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'firings_document'"
                            ).fetchall()  # fmt: skip
    conn.execute("DELETE FROM documents WHERE id = 'a'")  # the cascades hold on the new table
    assert conn.execute("SELECT COUNT(*) FROM firings").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM action_requests").fetchone() == (0,)
    conn.close()


def test_every_lookup_of_the_ledger_finds_its_key_led_by_the_document(tmp_path: Path) -> None:
    path = tmp_path / "plans.sqlite3"
    with SQLiteStore(path):
        pass
    queries = (
        ("SELECT step FROM firings WHERE document_id = ?", ("a",)),
        ("SELECT document_id, episode, step FROM firings WHERE rule_key = ?"
         " AND document_id IN (?, ?)", ("r", "a", "b")),
        ("SELECT 1 FROM firings f WHERE f.document_id = ? AND f.fired_at >= ?", ("a", "x")),
        ("SELECT 1 FROM firings f WHERE f.rule_key = ? AND f.document_id = ? AND f.step = ?"
         " AND f.episode = ?", ("r", "a", "s", "e")),
    )  # fmt: skip
    with sqlite3.connect(path) as conn:
        for query, args in queries:
            plan = conn.execute(f"EXPLAIN QUERY PLAN {query}", args).fetchall()
            assert any("sqlite_autoindex_firings_1" in str(row[-1]) for row in plan), plan
