"""``edo-rules store copy``: a running SQLite installation moves to PostgreSQL with nothing lost."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from store_contract import T0, make_document, make_event, make_firing, make_request
from test_postgres_runner import with_schema

from edo_rules.cli import main
from edo_rules.model import Outcome, OutcomeStatus, RequestState, Status
from edo_rules.store.copy import copy_store
from edo_rules.store.postgres import PostgresStore
from edo_rules.store.sqlite import SQLiteStore

pytestmark = pytest.mark.postgres


def _busy_sqlite_store(path: Path) -> None:
    """Every kind of row: documents, history, ledger, outbox in every state, snoozes, cursors."""
    with SQLiteStore(path) as store:
        store.write_sync_page(
            [make_document("a"), make_document("b")],
            [
                make_event("a", T0, Status.SENT),
                make_event("a", T0 + timedelta(days=1), Status.SIGNED),
            ],
            {"cursor": "2024-05-01T00:00:00"},
        )
        keys = [f"k{i}" for i in range(5)]
        store.record_firings(
            [
                (make_firing("a"), [make_request("a", k) for k in keys[:3]]),
                (
                    make_firing("b", "event", episode="x|y"),
                    [make_request("b", k) for k in keys[3:]],
                ),
            ],
            event_cursors={"pb/e": 2},
        )
        now = T0 + timedelta(days=4)
        claimed = store.claim_requests(now, 4)
        store.record_outcomes(
            [
                Outcome(claimed[0].id or 0, OutcomeStatus.DONE, now, remote_id="17"),
                Outcome(claimed[1].id or 0, OutcomeStatus.RETRY, now, reason="503", retry_after=30),
                Outcome(claimed[2].id or 0, OutcomeStatus.IN_DOUBT, now, reason="?"),
            ]
        )  # claimed[3] stays in flight, as at a crash
        store.add_snooze("b", None, now + timedelta(days=3), reason="отпуск", created_at=now)
        store.cache_put("user:1", "head=7", now + timedelta(hours=1))
        store.upsert_documents([_OLD])
        assert store.prune(T0, now).documents == 1  # a tombstone to copy


_OLD = make_document("old", status=Status.SIGNED, status_changed_at=T0 - timedelta(days=400))


def test_copy_keeps_every_row_and_the_outbox_states(
    tmp_path: Path, pg_database: str, pg_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "edo-rules.db"
    _busy_sqlite_store(source)
    dsn = with_schema(pg_database, pg_schema)
    assert main(["store", "copy", "--from", f"sqlite://{source}", "--to", dsn]) == 0
    out = capsys.readouterr().out
    assert "; все контрольные суммы совпадают\n" in out and "action_requests" in out
    with SQLiteStore(source) as old, PostgresStore(dsn) as new:
        states = list(RequestState)
        assert new.requests(states) == old.requests(states)
        assert [new.outcomes_for(r.id or 0) for r in new.requests(states)] == [
            old.outcomes_for(r.id or 0) for r in old.requests(states)
        ]
        assert new.history("a") == old.history("a") and new.firings_for("b") == old.firings_for("b")
        assert new.snoozes() == old.snoozes() and new.event_cursors() == old.event_cursors()
        assert new.get_sync_state() == old.get_sync_state()
        assert new.document_seq() == old.document_seq()
        assert new.cache_get("user:1", T0) == "head=7"
        assert "pruned_documents" in out
        assert new.write_sync_page([_OLD], []) == [] and new.get_document("old") is None
        # New rows continue after the copied ids, and the in-flight one is checked first.
        new.upsert_documents([make_document("c")])
        (added,) = new.record_firings([(make_firing("c"), [make_request("c", "k9")])])
        assert (added.id or 0) > max(f.id or 0 for f in old.firings_for("b"))
        taken = new.take_over_stale_claims(30)
        assert [r.idempotency_key for r in taken] == [
            r.idempotency_key for r in old.requests([RequestState.IN_FLIGHT])
        ]


def test_copy_refuses_a_store_in_use_and_keeps_it_unchanged(
    tmp_path: Path, pg_database: str, pg_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "edo-rules.db"
    _busy_sqlite_store(source)
    dsn = with_schema(pg_database, pg_schema)
    copy_store(source, dsn)
    assert main(["store", "copy", "--from", f"sqlite://{source}", "--to", dsn]) == 1
    assert "не пустое (в documents строк: 2)" in capsys.readouterr().err
    assert main(["store", "copy", "--from", "sqlite:///nowhere.db", "--to", dsn]) == 1
    assert "нет такого хранилища SQLite" in capsys.readouterr().err
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT COUNT(*) FROM documents").fetchone() == (2,)
