"""Navigation properties: ``$expand``, ``Nav/Field`` in ``$select``, ``Set(guid'…')/Nav``.

A reference field ``Контрагент_Key`` comes with the navigation property
``Контрагент`` (the reference's own value is the ``Edm.Guid`` field, the
navigation property reaches the object). What the emulator reproduces:

- ``$expand=Контрагент`` with ``Контрагент`` or ``Контрагент/Поле`` in
  ``$select`` (or no ``$select``) nests the referenced object under
  ``"Контрагент"``, projected to the selected fields; when the navigation
  property is not selected the expansion is silently skipped, as on a live base.
- a selected navigation property that is not expanded gives its
  ``Контрагент@navigationLinkUrl`` (full rows carry one per reference).
- ``Set(guid'…')/Контрагент`` answers the referenced object itself.
- ``$expand`` on a single entity is refused (see the server).
"""

from __future__ import annotations

from typing import Any

from edo_rules.emulators.onec._base import OneCBase
from edo_rules.emulators.onec._errors import (
    entity_not_found,
    not_found_segment,
    not_implemented,
    parse_error,
)
from edo_rules.emulators.onec._query import Query
from edo_rules.emulators.onec._sets import EntitySet
from edo_rules.emulators.onec._wire import EMPTY_REF, nav_link

Row = dict[str, Any]


def navigations(entity_set: EntitySet) -> frozenset[str]:
    """The navigation properties of a set: one per reference field ``X_Key``."""
    return frozenset(
        name[:-4]
        for name in entity_set.fields
        if name.endswith("_Key") and name not in ("Ref_Key", "Parent_Key")
    )


def check(entity_set: EntitySet, query: Query) -> None:
    """Refuse ``$expand`` / ``$select`` paths through properties the set does not have."""
    navs = navigations(entity_set)
    for name in query.expand:
        if "/" in name:
            raise not_implemented(f"многоуровневое раскрытие {name}")
        if name not in navs:
            raise parse_error(f"неизвестное навигационное свойство '{name}'")
    for name in query.select or ():
        head, slash, rest = name.partition("/")
        if not slash and name not in navs:
            continue  # a plain field: checked by the set
        if head not in navs:
            raise parse_error(f"неизвестные поля: {name}")
        if "/" in rest:
            raise not_implemented(f"многоуровневый путь {name}")


def needs_shape(entity_set: EntitySet, query: Query) -> bool:
    """Whether rows need more than the plain projection (the sync's hot path does not)."""
    if query.expand:
        return True
    navs = navigations(entity_set)
    return any(name.split("/")[0] in navs for name in query.select or ())


class Shaper:
    """Adds expanded objects and navigation links to projected rows of one set."""

    def __init__(self, base: OneCBase, entity_set: EntitySet, query: Query):
        self._base = base
        self._set = entity_set
        self._select = query.select if query.select and "*" not in query.select else None
        self._expand = query.expand

    def __call__(self, row: Row, projected: Row) -> Row:
        result = dict(projected)
        for nav in self._selected_navs():
            if nav in self._expand:
                result[nav] = self._expanded(row.get(f"{nav}_Key"), self._sub_select(nav))
            elif self._select is not None and row.get("Ref_Key"):
                # Only an object has an address of its own to navigate from.
                result[f"{nav}@navigationLinkUrl"] = nav_link(
                    self._set.name, str(row["Ref_Key"]), nav
                )
        return result

    def _selected_navs(self) -> list[str]:
        navs = navigations(self._set)
        if self._select is None:
            return sorted(n for n in self._expand if n in navs)
        heads = dict.fromkeys(name.split("/")[0] for name in self._select)
        return [name for name in heads if name in navs]

    def _sub_select(self, nav: str) -> tuple[str, ...] | None:
        if self._select is None or nav in self._select:
            return None
        return tuple(n.split("/", 1)[1] for n in self._select if n.startswith(f"{nav}/"))

    def _expanded(self, key: Any, select: tuple[str, ...] | None) -> Row | None:
        found = referenced(self._base, key)
        if found is None:
            return None
        target_set, target = found
        if select is None:
            return target_set._project(target, None)
        unknown = [name for name in select if name not in target_set.fields]
        if unknown:
            raise parse_error(f"неизвестные поля: {', '.join(unknown)}")
        return {name: target.get(name) for name in select}


def referenced(base: OneCBase, key: Any) -> tuple[EntitySet, Row] | None:
    """The published object a reference points to (an empty reference points nowhere)."""
    if not isinstance(key, str) or key == EMPTY_REF:
        return None
    for name in sorted(base.published):
        entity_set = base.sets.get(name)
        if entity_set is None or entity_set.key_field != "Ref_Key":
            continue
        row = entity_set.get(key)
        if row is not None:
            return entity_set, row
    return None


def navigate(base: OneCBase, set_name: str, key: str, nav: str) -> tuple[str, Row]:
    """``Set(guid'key')/Nav``: the referenced object and its set's name."""
    with base.lock:
        entity_set = base.entity_set(set_name)
        if nav not in navigations(entity_set):
            raise not_found_segment(nav)
        row = base.entity(set_name, key)
        found = referenced(base, row.get(f"{nav}_Key"))
        if found is None:
            raise entity_not_found()
        return found[0].name, found[0]._project(found[1], None)
