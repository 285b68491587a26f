"""psycopg errors → a short message and what the admin should do."""

from __future__ import annotations

import psycopg
from psycopg import errors

from edo_rules._messages import Text, msg

_BY_CLASS: tuple[tuple[type[psycopg.Error], str], ...] = (
    (errors.InvalidPassword, "pg_hint_password"),
    (errors.InvalidAuthorizationSpecification, "pg_hint_user"),
    (errors.InvalidCatalogName, "pg_hint_no_database"),
    (errors.InsufficientPrivilege, "pg_hint_privilege"),
    (errors.DiskFull, "pg_hint_disk_full"),
    (errors.QueryCanceled, "pg_hint_timeout"),
    # An OperationalError: it must come before the "unreachable" reading below.
    (errors.LockNotAvailable, "pg_hint_lock_wait"),
    (errors.SerializationFailure, "pg_hint_concurrent"),
    (errors.DeadlockDetected, "pg_hint_concurrent"),
)


_AT_CONNECT = (
    ("does not exist", "pg_hint_no_database"),
    ("password authentication failed", "pg_hint_password"),
    ("no pg_hba.conf entry", "pg_hint_hba"),
)


def describe(exc: psycopg.Error) -> tuple[str, Text]:
    """(the server's message on one line, what to do)."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    for kind, key in _BY_CLASS:
        if isinstance(exc, kind):
            return message, msg(key)
    if isinstance(exc, psycopg.OperationalError):
        # Refusals at connect time carry no SQLSTATE class in psycopg: read the text.
        for needle, key in _AT_CONNECT:
            if needle in message:
                return message, msg(key)
        return message, msg("pg_hint_unreachable")
    return message, msg("pg_hint_default")
