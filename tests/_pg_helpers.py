"""A private PostgreSQL database per test session on 127.0.0.1:5432, dropped at the end.

Several engineers run the tests on one machine at once, so each session
creates ``edo_test_<pid>_<random>`` and each test gets its own schema in it.
``EDO_TEST_PG`` overrides the server's DSN (its database is only used to
create and drop the session's database).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

SERVER = os.environ.get("EDO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def server_answers() -> bool:
    try:
        with psycopg.connect(SERVER, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _dsn_for(database: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(SERVER)
    info["dbname"] = database
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items() if v is not None})


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The DSN of this session's own database."""
    if not server_answers():
        pytest.fail(
            f"PostgreSQL does not answer at {SERVER}: start it "
            "(systemctl start postgresql, or pg_ctlcluster 15 main start) "
            "or point EDO_TEST_PG at a server"
        )
    name = f"edo_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _dsn_for(name)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def pg_schema(pg_database: str) -> str:
    """A fresh schema name for one test (the store creates it)."""
    return f"t_{secrets.token_hex(6)}"
