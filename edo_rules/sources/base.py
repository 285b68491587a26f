"""The Source protocol: where documents and their status events come from.

A source reads an external system (1C over OData, a JSON Lines file) and
yields :class:`SyncPage` objects; :func:`sync` writes each page to a store
atomically with its cursor, so an interrupted sync resumes after the last
page written and re-reading a page is harmless (the store ignores events it
already has).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from edo_rules.model import Document, StatusEvent
from edo_rules.store.base import Store


@dataclass(frozen=True, slots=True)
class SyncPage:
    """One bounded page: documents, their new status events and the cursor after it.

    Every event's document is in ``documents`` or already in the store.
    ``state`` is merged into the store's sync state with the page. ``initial``
    marks a page of an initial load that a later page of the same read closes
    (the store may then write it as a bulk load, see ``Store.write_sync_page``).
    """

    documents: tuple[Document, ...]
    events: tuple[StatusEvent, ...]
    state: Mapping[str, str] = field(default_factory=dict)
    initial: bool = False


@runtime_checkable
class Source(Protocol):
    """A document source.

    ``pages(state)`` yields the pages after the cursor found in ``state`` (the
    store's sync state, as the source itself wrote it with earlier pages);
    with no cursor it reads everything, and the events of that first, initial
    read are marked ``historical`` (history, not triggers). It raises
    :class:`~edo_rules.errors.SourceError` and nothing else for a failure of
    the external system or bad data — before yielding the page concerned, so a
    malformed page is never written.
    """

    #: A short name for logs and errors, e.g. "1c" or the file name.
    name: str

    def pages(self, state: Mapping[str, str]) -> Iterator[SyncPage]: ...


@dataclass(frozen=True, slots=True)
class SyncSummary:
    pages: int
    documents: int
    events_added: int


def sync(source: Source, store: Store) -> SyncSummary:
    """Read every new page of ``source`` into ``store``, one transaction per page."""
    pages = documents = events = 0
    for page in source.pages(store.get_sync_state()):
        added = store.write_sync_page(page.documents, page.events, page.state, initial=page.initial)
        pages, documents, events = pages + 1, documents + len(page.documents), events + len(added)
    if documents:
        store.checkpoint()  # a large sync leaves the WAL at its high-water mark otherwise
    return SyncSummary(pages, documents, events)
