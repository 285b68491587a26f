"""The store's error texts: what it was doing, and what to do about a SQLite error."""

from __future__ import annotations

import sqlite3

from edo_rules._messages import CATALOGUE, Text, msg

_SQLITE_HINTS = (
    ("locked", "store_hint_busy"),
    ("busy", "store_hint_busy"),
    ("readonly", "store_hint_readonly"),
    ("disk", "store_hint_disk"),
    ("not a database", "store_hint_not_db"),
    ("malformed", "store_hint_malformed"),
    ("unable to open", "store_hint_unable_open"),
)


def operation(what: str) -> Text | str:
    """``what`` («reading documents») as a catalogue text; a phrase not listed stays as it is."""
    key = f"store_op:{what}"
    return msg(key) if key in CATALOGUE else what


def sqlite_hint(exc: sqlite3.Error) -> Text:
    """What the admin should do about a SQLite error (read from its message)."""
    text = str(exc).lower()
    for needle, key in _SQLITE_HINTS:
        if needle in text:
            return msg(key)
    return msg("store_hint_sqlite")
