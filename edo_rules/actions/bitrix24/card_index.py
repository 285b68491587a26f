"""Which documents belong to which deal and company card, kept in the store.

``card_status`` records each document's binding here when it writes a card, so
that the card lists every document of the deal, and so that the «Обновить»
endpoint can refresh exactly a deal's documents with
:func:`documents_for` (no Bitrix24 call: the store answers).

The index lives in the store's key-value cache under its own prefix with a
far expiry; the keys are Bitrix24 ids and 1C document refs, never store row
ids, so a rebuilt store refills it on the next card update.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from edo_rules.store.base import Store

Entity = Literal["deal", "company"]
_PREFIX = "bitrix24:card:v1:"
_KEEP = timedelta(days=3650)


def documents_for(
    store: Store, *, now: datetime, deal: int | None = None, company: int | None = None
) -> list[str]:
    """The ids of the documents bound to a Bitrix24 deal or company (give exactly one), sorted.

    Raises :class:`ValueError` when both or neither of ``deal`` and ``company`` are given.
    """
    if (deal is None) == (company is None):
        raise ValueError("give exactly one of deal and company")
    entity: Entity = "deal" if deal is not None else "company"
    record_id = deal if deal is not None else company
    assert record_id is not None
    return sorted(_read_list(store, f"{entity}:{record_id}", now))


def remember(
    store: Store, document_id: str, *, deal: int | None, company: int | None, now: datetime
) -> list[tuple[Entity, int]]:
    """Record the document's current binding; returns the cards it LEFT (to rewrite them too)."""
    key = f"doc:{document_id}"
    raw = store.cache_get(_PREFIX + key, now)
    before = json.loads(raw) if raw else {}
    after = {"deal": deal, "company": company}
    left: list[tuple[Entity, int]] = []
    for entity in ("deal", "company"):
        old, new = before.get(entity), after[entity]
        if old is not None and old != new:
            _discard(store, f"{entity}:{old}", document_id, now)
            left.append((entity, int(old)))
        if new is not None:
            _add(store, f"{entity}:{new}", document_id, now)
    if before != after:
        _write(store, key, after, now)
    return left


def _add(store: Store, key: str, document_id: str, now: datetime) -> None:
    ids = _read_list(store, key, now)
    if document_id not in ids:
        _write(store, key, sorted({*ids, document_id}), now)


def _discard(store: Store, key: str, document_id: str, now: datetime) -> None:
    ids = _read_list(store, key, now)
    if document_id in ids:
        _write(store, key, sorted(set(ids) - {document_id}), now)


def _read_list(store: Store, key: str, now: datetime) -> list[str]:
    raw = store.cache_get(_PREFIX + key, now)
    value = json.loads(raw) if raw else []
    return [str(v) for v in value] if isinstance(value, list) else []


def _write(
    store: Store, key: str, value: dict[str, int | None] | Iterable[str], now: datetime
) -> None:
    data = value if isinstance(value, dict) else list(value)
    store.cache_put(_PREFIX + key, json.dumps(data, ensure_ascii=False), now + _KEEP)
