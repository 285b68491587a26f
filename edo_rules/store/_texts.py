"""The store's error texts: what it was doing, and what to do about a SQLite error."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial

from edo_rules._messages import CATALOGUE, Text, msg
from edo_rules.errors import StoreError
from edo_rules.model import Document
from edo_rules.store._sqlite_rows import document_from_json

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


def document_loader(
    get: Callable[[str], Document | None], doc_id: str, text: str | None
) -> Callable[[], Document]:
    """A due candidate's document: the selected JSON decoded, or read by id when the
    query did not select it (a rule that never reads the document pays nothing)."""
    if text is not None:
        return partial(document_from_json, text)
    return partial(_required, get, doc_id)


def _required(get: Callable[[str], Document | None], doc_id: str) -> Document:
    found = get(doc_id)
    if found is None:
        raise StoreError(msg("store_document_vanished", document=doc_id))
    return found
