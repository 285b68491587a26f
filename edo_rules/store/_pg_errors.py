"""psycopg errors → a short message and what the admin should do."""

from __future__ import annotations

import psycopg
from psycopg import errors

_BY_CLASS: tuple[tuple[type[psycopg.Error], str], ...] = (
    (errors.InvalidPassword, "check the user and password in store.dsn"),
    (errors.InvalidAuthorizationSpecification, "check the user in store.dsn and pg_hba.conf"),
    (errors.InvalidCatalogName, "create the database (createdb) or fix its name in store.dsn"),
    (errors.InsufficientPrivilege, "grant the store's user rights on its database and schema"),
    (errors.DiskFull, "free disk space on the database server"),
    (errors.QueryCanceled, "the statement timed out; check the server's load"),
    (
        errors.SerializationFailure,
        "a concurrent runner changed the same rows; the next tick retries",
    ),
    (errors.DeadlockDetected, "a concurrent runner changed the same rows; the next tick retries"),
)


_AT_CONNECT = (
    ("does not exist", "create the database (createdb NAME) or fix its name in store.dsn"),
    ("password authentication failed", "check the user and password in store.dsn"),
    ("no pg_hba.conf entry", "allow this host in the server's pg_hba.conf"),
)


def describe(exc: psycopg.Error) -> tuple[str, str]:
    """(the server's message on one line, what to do)."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    for kind, hint in _BY_CLASS:
        if isinstance(exc, kind):
            return message, hint
    if isinstance(exc, psycopg.OperationalError):
        # Refusals at connect time carry no SQLSTATE class in psycopg: read the text.
        for needle, hint in _AT_CONNECT:
            if needle in message:
                return message, hint
        return message, (
            "check that the PostgreSQL server runs and answers "
            "(pg_isready -h HOST -p PORT) and that store.dsn names it"
        )
    return message, "check the database server's log; the next tick retries"
