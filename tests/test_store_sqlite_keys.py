"""Schema migration "keys from 1C": a store written by the previous version keeps its ledger.

Event firings were keyed by the store's own event id; after the migration they
are keyed by the 1C state record (``event_episode``), so the engine does not
fire them again, and the outbox's requests learn when their firing was due.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from store_contract import T0, make_document, make_event

from edo_rules._codec import utc_text
from edo_rules.model import RequestState, Status
from edo_rules.store._sqlite_rows import UPSERT_DOCUMENT, document_params
from edo_rules.store._sqlite_schema import MIGRATIONS, migrate
from edo_rules.store.base import EventQuery, episode_of, event_episode
from edo_rules.store.sqlite import SQLiteStore

_KEYS_FROM_1C = 7  # the migration under test (its number may change at a merge)


def _previous_version_file(path: Path) -> None:
    """A store at the version before the migration, written with that version's SQL."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=_KEYS_FROM_1C - 1)
    doc = make_document("a")
    conn.execute(UPSERT_DOCUMENT, document_params(doc, 1))
    for offset, to in ((2, Status.SIGNED), (1, Status.SENT)):  # stored out of time order
        event = make_event("a", T0 + timedelta(days=offset), to)
        conn.execute(
            "INSERT INTO status_events (document_id, at_utc, at, to_status, to_raw)"
            " VALUES (?, ?, ?, ?, ?)",
            ("a", utc_text(event.at), event.at.isoformat(), to.value, event.to_raw),
        )
    firing = (
        "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
        " playbook_hash) VALUES (?, 'a', ?, ?, ?, ?, 'h')"
    )
    due = (T0 + timedelta(days=2)).isoformat()
    conn.execute(firing, ("pb/on-signed", "event", "1", due, due))  # event id 1: signed
    conn.execute(firing, ("pb/remind", "do", episode_of(T0), due, due))
    conn.execute(
        "INSERT INTO action_requests (firing_id, action, params, idempotency_key, document_id,"
        " rule_key, created_at, state) VALUES (1, 'log', '{}', 'edo-old-key', 'a',"
        " 'pb/on-signed', ?, 'pending')",
        (due,),
    )
    conn.close()


def test_event_firings_are_rekeyed_by_the_1c_record(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    _previous_version_file(path)
    with SQLiteStore(path) as store:
        signed = next(e for e in store.history("a") if e.to_status is Status.SIGNED)
        assert signed.id == 1
        ledger = {(f.rule_key, f.episode) for f in store.firings_for("a")}
        assert ledger == {("pb/on-signed", event_episode(signed)), ("pb/remind", episode_of(T0))}
        # The engine's "not fired yet" check sees the migrated firing.
        query = EventQuery("pb/on-signed", 0, store.max_event_id())
        assert [e.to_status for e, _ in store.event_candidates(query)] == [Status.SENT]
        (request,) = store.requests(list(RequestState))
        assert request.idempotency_key == "edo-old-key"  # what is in flight keeps its key
        assert request.due_at == T0 + timedelta(days=2)
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    assert versions == [m.version for m in MIGRATIONS]
