"""PostgresStore: the store contract, plus what is specific to PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from store_contract import T0, StoreContract, make_document, make_firing, make_request

from edo_rules._codec import utc_text
from edo_rules.errors import StoreError
from edo_rules.model import ActionRequest, Firing, RequestState, Status
from edo_rules.store import _pg_outbox as pg_outbox
from edo_rules.store import _prune as retention
from edo_rules.store._pg_conn import PgConnection
from edo_rules.store._pg_schema import MIGRATIONS, migrate
from edo_rules.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def make_store(self, pg_database: str, pg_schema: str) -> Callable[[], PostgresStore]:
        return lambda: PostgresStore(pg_database, schema=pg_schema, pool_size=2)


def _open(dsn: str, schema: str, **kwargs: Any) -> PostgresStore:
    return PostgresStore(dsn, schema=schema, pool_size=2, **kwargs)


def _versions(dsn: str, schema: str) -> list[int]:
    with psycopg.connect(dsn, options=f"-c search_path={schema}") as conn:
        return [r[0] for r in conn.execute("SELECT version FROM edo_schema_version ORDER BY 1")]


def test_an_empty_schema_is_set_up_at_the_current_version(pg_database: str, pg_schema: str) -> None:
    with _open(pg_database, pg_schema) as store:
        assert store.count_documents() == 0 and store.document_seq() == 0
    assert _versions(pg_database, pg_schema) == [m.version for m in MIGRATIONS]
    with _open(pg_database, pg_schema) as store:  # reopening migrates nothing
        assert store.max_event_id() == 0
    assert _versions(pg_database, pg_schema) == [m.version for m in MIGRATIONS]


def test_each_migration_applies_on_top_of_the_previous_one(
    pg_database: str, pg_schema: str
) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(pg_schema)))
        # Versions are reserved per change, so they may skip a number.
        for before, migration in zip(
            (0, *(m.version for m in MIGRATIONS)), MIGRATIONS, strict=False
        ):
            assert migrate(conn, target=migration.version) == before
    with _open(pg_database, pg_schema) as store:
        store.upsert_documents([make_document("a")])
        assert store.get_document("a") == make_document("a")


def test_a_newer_schema_is_refused(pg_database: str, pg_schema: str) -> None:
    _open(pg_database, pg_schema).close()
    with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as conn:
        conn.execute("INSERT INTO edo_schema_version (version, description) VALUES (99, 'x')")
    newer = r"(?s)более новой версией edo-rules \(версия схемы 99\).*обновите"
    with pytest.raises(StoreError, match=newer):
        _open(pg_database, pg_schema)


def test_a_foreign_schema_is_refused(pg_database: str, pg_schema: str) -> None:
    with psycopg.connect(pg_database) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
        conn.execute(sql.SQL("CREATE TABLE {}.orders (id int)").format(sql.Identifier(pg_schema)))
    with pytest.raises(StoreError, match=r"не относящиеся к хранилищу edo-rules \(orders\)"):
        _open(pg_database, pg_schema)


def test_a_server_that_does_not_answer_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        PostgresStore("postgresql://edo:s3cret@127.0.0.1:1/edo", connect_timeout=2)
    text = str(caught.value)
    assert "postgresql://edo@127.0.0.1:1/edo" in text and "pg_isready" in text
    assert "s3cret" not in text


def test_a_missing_database_says_to_create_it(pg_database: str) -> None:
    missing = pg_database.replace("dbname=edo_test_", "dbname=edo_missing_")
    with pytest.raises(StoreError, match="createdb"):
        PostgresStore(missing, connect_timeout=2)


def _firing_batch(count: int) -> list[tuple[Firing, list[ActionRequest]]]:
    return [
        (
            make_firing(f"d{i}"),
            [make_request(f"d{i}", f"key-{i}-0"), make_request(f"d{i}", f"key-{i}-1")],
        )
        for i in range(count)
    ]


def test_concurrent_runners_record_each_firing_once(pg_database: str, pg_schema: str) -> None:
    """Four store objects record the same 200 firings at once: the ledger's key decides."""
    with _open(pg_database, pg_schema) as store:
        store.upsert_documents(make_document(f"d{i}") for i in range(200))
    batch = _firing_batch(200)
    stores = [_open(pg_database, pg_schema, runner_id=f"r{i}") for i in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(
                    lambda s: s.record_firings(batch[::-1] if s.runner_id == "r1" else batch),
                    stores,
                )
            )
        assert sum(len(r) for r in results) == 200
        owned = [f.document_id for r in results for f in r]
        assert sorted(owned) == sorted(f"d{i}" for i in range(200))
        requests = stores[0].requests(list(RequestState))
        assert len(requests) == 400 == len({r.idempotency_key for r in requests})
    finally:
        for store in stores:
            store.close()


def test_concurrent_claims_are_disjoint_and_marked(pg_database: str, pg_schema: str) -> None:
    with _open(pg_database, pg_schema) as store:
        store.upsert_documents(make_document(f"d{i}") for i in range(150))
        store.record_firings(_firing_batch(150))
    stores = [_open(pg_database, pg_schema, runner_id=f"r{i}") for i in range(3)]
    now = T0 + timedelta(days=4)
    try:
        with ThreadPoolExecutor(3) as pool:
            claims = list(pool.map(lambda s: [s.claim_requests(now, 40) for _ in range(4)], stores))
        ids = [r.id for per_store in claims for batch in per_store for r in batch]
        assert len(ids) == len(set(ids)) == 300
        with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as conn:
            rows = conn.execute(
                "SELECT claimed_by, COUNT(*) FROM action_requests GROUP BY 1 ORDER BY 1"
            ).fetchall()
        mine = {f"r{i}": sum(len(b) for b in claims[i]) for i in range(3)}
        assert dict(rows) == {k: v for k, v in mine.items() if v}
    finally:
        for store in stores:
            store.close()


def test_a_scratch_copy_is_consistent_and_private(pg_database: str, pg_schema: str) -> None:
    with _open(pg_database, pg_schema) as store:
        store.upsert_documents([make_document("a")])
        store.record_firings([(make_firing("a"), [make_request("a", "k")])])
        with store.scratch_copy() as copy:
            assert copy.get_document("a") == make_document("a")
            assert [r.idempotency_key for r in copy.requests(list(RequestState))] == ["k"]
            copy.upsert_documents([make_document("b")])
            copy.record_firings([(make_firing("b"), [make_request("b", "k2")])])
            schema = copy.schema
        assert store.get_document("b") is None and store.count_documents() == 1
    with psycopg.connect(pg_database) as conn:
        left = conn.execute(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert left == (0,)


def test_the_requests_of_a_firing_are_found_by_an_index(pg_database: str, pg_schema: str) -> None:
    # Deleting a firing cascades to its requests: on 1M rows, minutes without it.
    with _open(pg_database, pg_schema):
        pass
    with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as conn:
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute("EXPLAIN SELECT id FROM action_requests WHERE firing_id = 1").fetchall()
    assert any("action_requests_firing" in row[0] for row in plan), plan


def _before_the_rule_index_drop() -> int:
    (drop,) = [m.version for m in MIGRATIONS if m.description.startswith("drop firings_rule")]
    return drop - 1


def test_the_ledger_has_no_index_by_rule_alone_its_unique_key_serves_it(
    pg_database: str, pg_schema: str
) -> None:
    # Each recorded firing paid one more index entry for nothing: the ledger's unique
    # key leads with the rule. A schema of the previous version loses the index too.
    with _at_version(pg_database, pg_schema, _before_the_rule_index_drop()) as conn:
        assert conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'firings_rule'"
                            " AND schemaname = %s", (pg_schema,)).fetchone()  # fmt: skip
    with _open(pg_database, pg_schema, migrate=True):
        pass
    with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as conn:
        found = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'firings' AND schemaname = %s",
            (pg_schema,),
        ).fetchall()
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT document_id, episode, step FROM firings WHERE rule_key = 'r'"
            " AND document_id = ANY(ARRAY['a', 'b'])"
        ).fetchall()
    assert "firings_rule" not in {name for (name,) in found}
    assert any("firings_rule_key_document_id_step_episode_key" in row[0] for row in plan), plan


def _at_version(dsn: str, schema: str, version: int) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    migrate(conn, target=version)
    return conn


def _no_key_version() -> int:
    (version,) = [m.version for m in MIGRATIONS if m.description.startswith("firings without")]
    return version


def test_the_ledger_has_no_foreign_key_to_documents_and_keeps_its_indexes(
    pg_database: str, pg_schema: str
) -> None:
    """A schema of the previous version keeps its firings and loses the tick's per-row
    foreign key check; every lookup of the ledger still finds an index."""
    with _at_version(pg_database, pg_schema, _no_key_version() - 1) as conn:
        conn.execute("INSERT INTO documents (id, kind, status, direction, json)"
                     " VALUES ('a', 'k', 's', 'd', '{}')")  # fmt: skip
        conn.execute(
            "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
            " playbook_hash) VALUES ('pb/rule', 'a', 'do', 'e', '2024-01-01T00:00:00+00:00',"
            " '2024-01-01T00:00:00+00:00', 'h')"
        )
    with _open(pg_database, pg_schema, migrate=True) as store:
        assert [f.rule_key for f in store.firings_for("a")] == ["pb/rule"]
    with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as conn:
        keys = conn.execute(
            "SELECT contype FROM pg_constraint WHERE conrelid = 'firings'::regclass"
        ).fetchall()
        conn.execute("SET enable_seqscan = off")
        plans = [
            str(conn.execute(f"EXPLAIN {query}").fetchall())
            for query in (
                "SELECT step FROM firings WHERE document_id = 'a'",
                "SELECT 1 FROM firings f WHERE f.document_id = 'a' AND f.fired_at >= 'x'",
                "SELECT document_id FROM firings WHERE rule_key = 'r' AND step = 's'",
            )
        ]
    assert sorted(kind for (kind,) in keys) == ["p", "u"]  # no "f" any more
    assert "firings_document" in plans[0] and "firings_document" in plans[1], plans
    assert "firings_rule_key_document_id_step_episode_key" in plans[2], plans


def test_a_firing_whose_document_is_gone_is_not_recorded(pg_database: str, pg_schema: str) -> None:
    # No foreign key: the insert itself leaves out a document pruned after the tick read it.
    with _open(pg_database, pg_schema) as store:
        store.upsert_documents([make_document("here")])
        added = store.record_firings(
            [
                (make_firing("here"), [make_request("here", "k-here")]),
                (make_firing("gone"), [make_request("gone", "k-gone")]),
            ]
        )
        assert [f.document_id for f in added] == ["here"]
        assert store.firings_for("gone") == []
        assert [r.idempotency_key for r in store.requests(list(RequestState))] == ["k-here"]


def _signed_long_ago(doc_id: str) -> Any:
    old = T0 - timedelta(days=400)
    return make_document(doc_id, status=Status.SIGNED, status_changed_at=old)


def _orphans(dsn: str, schema: str) -> tuple[int, int]:
    with psycopg.connect(dsn, options=f"-c search_path={schema}") as conn:
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM firings f WHERE NOT EXISTS (SELECT 1 FROM documents d"
            " WHERE d.id = f.document_id)), (SELECT COUNT(*) FROM action_requests r WHERE NOT"
            " EXISTS (SELECT 1 FROM documents d WHERE d.id = r.document_id))"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_tick_recording_while_a_prune_deletes_its_document_waits_and_skips_it(
    pg_database: str, pg_schema: str
) -> None:
    """The prune's transaction (the real deletion, held open) has removed the document;
    a tick that read it before records meanwhile: it waits for the prune, then writes
    neither the firing nor its requests."""
    horizon, now = T0 - timedelta(days=30), T0 + timedelta(days=1)
    with _open(pg_database, pg_schema) as store, _open(pg_database, pg_schema) as ticker:
        store.upsert_documents([_signed_long_ago("old"), make_document("live")])
        with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as raw:
            conn = PgConnection(raw)
            pg_outbox.hold_documents(conn, exclusive=True)
            found = retention.candidates(conn, utc_text(horizon), utc_text(now))
            assert [doc for doc, _ in found] == ["old"]
            retention.prune(conn, found, utc_text(now), dry_run=False)
            with ThreadPoolExecutor(1) as pool:
                tick = pool.submit(
                    ticker.record_firings,
                    [
                        (make_firing("old"), [make_request("old", "k-old")]),
                        (make_firing("live"), [make_request("live", "k-live")]),
                    ],
                )
                time.sleep(0.5)
                assert not tick.done()  # waiting for the prune, not writing beside it
                raw.commit()
                added = tick.result(timeout=30)
        assert [f.document_id for f in added] == ["live"]
        assert [r.document_id for r in store.requests(list(RequestState))] == ["live"]
    assert _orphans(pg_database, pg_schema) == (0, 0)


def test_a_prune_while_a_tick_records_waits_and_keeps_the_document_just_fired(
    pg_database: str, pg_schema: str
) -> None:
    """The tick's transaction (the real insert, held open) fires for an old closed
    document; a prune meanwhile waits, then sees the fresh firing and keeps it."""
    horizon, now = T0 - timedelta(days=30), T0 + timedelta(days=1)
    fired = make_firing("old", fired_at=T0, due_at=T0)
    with _open(pg_database, pg_schema) as store:
        store.upsert_documents([_signed_long_ago("old"), _signed_long_ago("older")])
        with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as raw:
            added = pg_outbox.insert_firings(
                PgConnection(raw), [(fired, [make_request("old", "k-old")])]
            )
            assert [f.document_id for f in added] == ["old"]
            with ThreadPoolExecutor(1) as pool:
                pruning = pool.submit(store.prune, horizon, now)
                time.sleep(0.5)
                assert not pruning.done()  # waiting for the tick to commit
                raw.commit()
                report = pruning.result(timeout=30)
        assert report.documents == 1 and store.get_document("older") is None
        assert [f.document_id for f in store.firings_for("old")] == ["old"]
        assert [r.document_id for r in store.requests(list(RequestState))] == ["old"]
    assert _orphans(pg_database, pg_schema) == (0, 0)


def test_a_prune_gives_up_rather_than_hold_every_tick_behind_a_hung_one(
    pg_database: str, pg_schema: str
) -> None:
    # Ticks asking after the prune queue behind it: a tick hung in its transaction
    # must cost a failed prune (run again later), not every runner's recording.
    horizon, now = T0 - timedelta(days=30), T0 + timedelta(days=1)
    with _open(pg_database, pg_schema, prune_wait=timedelta(seconds=0.3)) as store:
        store.upsert_documents([_signed_long_ago("old"), make_document("live")])
        with psycopg.connect(pg_database, options=f"-c search_path={pg_schema}") as raw:
            pg_outbox.insert_firings(PgConnection(raw), [(make_firing("live"), [])])
            with pytest.raises(StoreError, match="очистка не дождалась"):
                store.prune(horizon, now)
            raw.commit()
        assert store.get_document("old") is not None  # nothing pruned by the failed prune
        assert store.prune(horizon, now).documents == 1
