"""Referenced catalog objects nested in the rows read by key (``$expand``), not read after them.

A document first seen by an incremental sync, or refreshed by the «Обновить»
button, names its counterparty, contract, organization, responsible user and
EDO kind by key; without ``$expand`` those catalogs are read by key in a
round of requests after the documents. When ``$metadata`` declares the
navigation property (``Контрагент`` beside ``Контрагент_Key``) the rows can
carry the object instead::

    $select=…,Контрагент_Key,Контрагент&$expand=Контрагент

(1C expands a navigation property only when it is also in ``$select``; the
sync selects the whole object, ``$select=…,Контрагент``, see below.) The
nested objects go into the same lookups the catalog requests fill, so the
stored documents are the same either way.

A publication may refuse ``$expand`` (an error answer) or silently return the
plain rows. Either is noticed on the first try: a refused request is sent
again without it, plain rows leave their references to the catalog requests,
and the refusal is kept in the sync state with the hash of ``$metadata`` so
later syncs do not ask again until the publication changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from edo_rules.sources.onec._errors import AnswerError
from edo_rules.sources.onec._reading import Reading
from edo_rules.sources.onec._values import Reader

log = logging.getLogger("edo_rules.sources.onec")

Row = dict[str, Any]
#: Sync state: the ``$metadata`` hash of the publication that refused ``$expand``.
EXPAND_REFUSED = "onec.expand_refused"
#: The navigation properties of an EDO document whose objects the mapping names.
DOCUMENT_NAVIGATIONS = (
    "Контрагент",
    "ДоговорКонтрагента",
    "Организация",
    "Ответственный",
    "ВидДокумента",
)
#: The navigation property of an action of the journal (who did it).
JOURNAL_USER = "Пользователь"
_EMPTY = "00000000-0000-0000-0000-000000000000"
#: Answers that may mean "no $expand here": a bad request, or a platform failure on it.
_REFUSALS = frozenset({400, 500, 501})

#: Reads a set's rows, the given navigation properties selected and expanded.
Fetch = Callable[[tuple[str, ...]], list[Row]]
#: Whether expanding these navigation properties costs no extra request.
Fits = Callable[[tuple[str, ...]], bool]
#: Keeps a catalog object: (its set, a reader over its fields with its Ref_Key).
Keep = Callable[[str, Reader], None]


class Expansion:
    """Whether to ask for ``$expand`` in this sync, and what happened when it was asked."""

    def __init__(self, reading: Reading, fields: Mapping[str, tuple[str, ...]], *, allowed: bool):
        self.reading = reading
        #: Catalog set → the fields the mapping reads from its objects.
        self.fields = fields
        self.allowed = allowed
        #: The publication refused it during this sync (to be written to the sync state).
        self.refused = False

    def rows(
        self,
        entity_set: str,
        navigations: Iterable[str],
        fetch: Fetch,
        keep: Keep,
        fits: Fits,
    ) -> list[Row]:
        """The rows ``fetch`` reads, with the objects of ``navigations`` kept when 1C sends them.

        A navigation property is asked for only when ``fits`` says the longer
        query still needs no more requests than without it.
        """
        expand = self._plan(entity_set, navigations, fits)
        if not expand:
            return fetch(())
        try:
            rows = fetch(expand)
        except AnswerError as exc:
            if exc.status not in _REFUSALS:
                raise
            rows = fetch(())  # its own failure, when the expansion was not the cause
            self._refuse(entity_set, f"1C answered {exc.status}, code {exc.code}")
            return rows
        if not self._absorb(entity_set, rows, expand, keep):
            self._refuse(entity_set, "1C sent the rows without the objects")
        return rows

    def _plan(self, entity_set: str, navigations: Iterable[str], fits: Fits) -> tuple[str, ...]:
        """The navigation properties to expand: declared in ``$metadata``, in order, that fit.

        The whole object is selected (``$select=…,Контрагент``), not its fields one
        by one: Cyrillic names triple when percent-encoded, and a query string
        has at most ``max_query`` characters.
        """
        if not self.allowed:
            return ()
        expand: tuple[str, ...] = ()
        published = self.reading.published
        for nav in navigations:
            target = published.target(entity_set, nav)
            if target not in self.fields or not published.has(entity_set, f"{nav}_Key"):
                continue
            if fits((*expand, nav)):
                expand = (*expand, nav)
        return expand

    def _absorb(
        self, entity_set: str, rows: list[Row], expand: tuple[str, ...], keep: Keep
    ) -> bool:
        """Keep the nested objects; False when a row lacks one its reference points to."""
        complete = True
        published = self.reading.published
        for row in rows:
            for nav in expand:
                key = row.get(f"{nav}_Key")
                named = isinstance(key, str) and key != _EMPTY
                if nav not in row:
                    complete = complete and not named
                    continue
                nested = row.pop(nav)
                if named and isinstance(nested, dict):
                    target = published.target(entity_set, nav) or ""
                    keep(target, Reader(target, {**nested, "Ref_Key": key}))
                # A null object with a key (deleted, or hidden from the user) is read by key.
        return complete

    def _refuse(self, entity_set: str, how: str) -> None:
        if not self.refused:
            log.warning(
                "$expand on %s is not available (%s): the referenced catalogs are read by key "
                "instead, until the publication changes",
                entity_set,
                how,
            )
        self.allowed = False
        self.refused = True
