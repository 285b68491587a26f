"""An entity set of the emulated base: rows in wire format, kept in natural order.

Rows are plain dicts already encoded as 1C sends them (dates as zone-less
strings, references as GUID strings), so a response is a projection and one
``json.dumps``. Rows are never mutated in place: a change replaces the dict,
so a page being serialized on another thread stays consistent.

The natural order (``sort_fields``) plus hash indexes let a page be answered
without scanning the whole set: a range on the first sort field is a bisect,
an ``eq … or eq …`` chunk on an indexed field is a dictionary lookup.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edo_rules.emulators.onec._errors import access_denied, unknown_property
from edo_rules.emulators.onec._filter import (
    BoolOp,
    Call,
    Compare,
    Lambda,
    Literal,
    Member,
    Node,
    Not,
    compile_filter,
)
from edo_rules.emulators.onec._query import Query

Row = dict[str, Any]
#: Resolves a reference to its presentation: 1C orders references by it, not by GUID.
Presenter = Callable[[str], str]


@dataclass(eq=False)
class EntitySet:
    """One published (or publishable) entity set."""

    name: str
    fields: frozenset[str]
    sort_fields: tuple[str, ...]
    index_fields: tuple[str, ...] = ()
    key_field: str | None = "Ref_Key"
    rows: list[Row] = field(default_factory=list)
    _keys: list[tuple[Any, ...]] = field(default_factory=list)
    _index: dict[str, dict[Any, list[Row]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (*self.index_fields, *(k for k in [self.key_field] if k)):
            self._index.setdefault(name, {})

    # -- maintenance ---------------------------------------------------------
    def _sort_key(self, row: Row) -> tuple[Any, ...]:
        return tuple(row.get(name) for name in self.sort_fields)

    def load(self, rows: Iterable[Row]) -> None:
        """Add many rows at once (the generator), then sort and index once."""
        self.rows.extend(rows)
        self.rows.sort(key=self._sort_key)
        self._keys = [self._sort_key(row) for row in self.rows]
        for name, index in self._index.items():
            index.clear()
            for row in self.rows:
                index.setdefault(row.get(name), []).append(row)

    def insert(self, row: Row) -> None:
        key = self._sort_key(row)
        position = bisect.bisect_right(self._keys, key)
        self._keys.insert(position, key)
        self.rows.insert(position, row)
        for name, index in self._index.items():
            index.setdefault(row.get(name), []).append(row)

    def remove(self, row: Row) -> None:
        key = self._sort_key(row)
        position = bisect.bisect_left(self._keys, key)
        while self.rows[position] is not row:
            position += 1
        del self.rows[position]
        del self._keys[position]
        for name, index in self._index.items():
            bucket = index[row.get(name)]
            bucket.remove(row)

    def replace(self, old: Row, new: Row) -> None:
        self.remove(old)
        self.insert(new)

    def find(self, field_name: str, value: Any) -> list[Row]:
        """Rows whose indexed field equals ``value``."""
        return list(self._index[field_name].get(value, ()))

    def get(self, key: str) -> Row | None:
        """The row with this key (Ref_Key for objects, the dimension for a unique register)."""
        assert self.key_field is not None
        bucket = self._index[self.key_field].get(key)
        return bucket[0] if bucket else None

    # -- queries -------------------------------------------------------------
    def execute(
        self,
        query: Query,
        present: Presenter,
        restricted: Callable[[Mapping[str, Any]], bool] | None,
        shape: Callable[[Row, Row], Row] | None = None,
    ) -> tuple[list[Row], int | None]:
        """Answer a query: the page of projected rows and the total count if asked.

        ``shape(row, projected)`` adds what the projection alone cannot: expanded
        navigation properties and their links (see :mod:`._navigation`).
        """
        self._check_names(query)
        candidates, natural, consumed = self._plan(query.filter)
        predicate = None
        if query.filter is not None and not consumed:
            predicate = compile_filter(query.filter, self.fields)
        matches: Iterable[Row] = candidates
        if predicate is not None:
            matches = (row for row in candidates if predicate(row))
        ordered = self._ordered(matches, query, natural, present)
        count = None
        if query.inlinecount:
            ordered = list(ordered)
            count = len(ordered)
        page = self._page(ordered, query, restricted)
        if shape is not None:
            return [shape(row, self._project(row, query.select)) for row in page], count
        return [self._project(row, query.select) for row in page], count

    def _check_names(self, query: Query) -> None:
        """Every property a query names must exist in the set, as in ``$metadata``.

        A navigation property in ``$select`` (``Контрагент``, ``Контрагент/Description``)
        is checked by the navigation module, which knows the referenced sets.
        """
        select = [n for n in query.select or () if "/" not in n and f"{n}_Key" not in self.fields]
        options = (
            ("$select", tuple(select)),
            ("$orderby", tuple(name for name, _ in query.orderby)),
            ("$filter", _members(query.filter)),
        )
        for option, names in options:
            for name in names:
                if name != "*" and not self._known(name):
                    raise unknown_property(option, name)

    def _known(self, path: str) -> bool:
        """A field, or a navigation path whose first step is a reference field."""
        first = path.split("/", 1)[0]
        return first in self.fields or ("/" in path and f"{first}_Key" in self.fields)

    def _plan(self, node: Node | None) -> tuple[Iterable[Row], bool, bool]:
        """Candidates, whether they are in natural order, whether the filter is fully used."""
        if node is None:
            return self.rows, True, True
        keys = _key_chunk(node)
        if keys is not None and keys[0] in self._index:
            index = self._index[keys[0]]
            rows = [row for value in dict.fromkeys(keys[1]) for row in index.get(value, ())]
            return rows, False, True
        bounds = _range(node, self.sort_fields[0] if self.sort_fields else "")
        if bounds is None:
            return self.rows, True, False
        lo, hi, consumed = self._bounds(*bounds)
        return self.rows[lo:hi], True, consumed

    def _bounds(self, op: str, value: Any, consumed: bool) -> tuple[int, int, bool]:
        keys, first = self._keys, _first
        lo, hi = 0, len(keys)
        if op in ("ge", "eq"):
            lo = bisect.bisect_left(keys, value, key=first)
        if op == "gt":
            lo = bisect.bisect_right(keys, value, key=first)
        if op in ("le", "eq"):
            hi = bisect.bisect_right(keys, value, key=first)
        if op == "lt":
            hi = bisect.bisect_left(keys, value, key=first)
        return lo, hi, consumed

    def _ordered(
        self, rows: Iterable[Row], query: Query, natural: bool, present: Presenter
    ) -> Iterable[Row]:
        wanted = tuple(name for name, _ in query.orderby)
        descending = any(desc for _, desc in query.orderby)
        if not wanted or (natural and not descending and wanted == self.sort_fields[: len(wanted)]):
            return rows
        result = list(rows)
        for name, desc in reversed(query.orderby):
            result.sort(key=self._order_key(name, present), reverse=desc)
        return result

    def _order_key(self, name: str, present: Presenter) -> Callable[[Row], Any]:
        is_ref = name == "Ref_Key" or name.endswith("_Key") or f"{name}_Type" in self.fields

        def key(row: Row) -> Any:
            value = row.get(name)
            if is_ref and isinstance(value, str):
                return (0, present(value))
            return (0, value) if value is not None else (-1, "")

        return key

    @staticmethod
    def _page(
        rows: Iterable[Row],
        query: Query,
        restricted: Callable[[Mapping[str, Any]], bool] | None,
    ) -> list[Row]:
        if isinstance(rows, list) and restricted is None:
            end = None if query.top is None else query.skip + query.top
            return rows[query.skip : end]
        page: list[Row] = []
        skipped = 0
        for row in rows:
            if restricted is not None and restricted(row):
                if not query.allowed_only:
                    raise access_denied()
                continue
            if skipped < query.skip:
                skipped += 1
                continue
            if query.top is not None and len(page) >= query.top:
                break
            page.append(row)
        return page

    def _project(self, row: Row, select: tuple[str, ...] | None) -> Row:
        if select is None or "*" in select:
            return _with_links(self.name, row)
        result: Row = {}
        for name in select:
            if name not in self.fields:
                continue  # a navigation property: added by the shape hook
            result[name] = row.get(name)
            if f"{name}_Type" in row:
                result[f"{name}_Type"] = row[f"{name}_Type"]
        return result


def _with_links(set_name: str, row: Row) -> Row:
    key = row.get("Ref_Key")
    if not isinstance(key, str):
        return row
    result = dict(row)
    for name in row:
        if name.endswith("_Key") and name not in ("Ref_Key", "Parent_Key"):
            base = name[:-4]
            result[f"{base}@navigationLinkUrl"] = f"{set_name}(guid'{key}')/{base}"
    return result


def _members(node: Node | None) -> tuple[str, ...]:
    """The properties a filter names (a lambda's collection, not its variable's paths)."""
    children: tuple[Node, ...] = ()
    if isinstance(node, Member):
        return (node.path,)
    if isinstance(node, Lambda):
        return (node.collection,)
    if isinstance(node, Compare | BoolOp):
        children = (node.left, node.right)
    elif isinstance(node, Not):
        children = (node.operand,)
    elif isinstance(node, Call):
        children = node.args
    return tuple(name for child in children for name in _members(child))


def _first(key: tuple[Any, ...]) -> Any:
    return key[0]


def _key_chunk(node: Node) -> tuple[str, list[Any]] | None:
    """``F eq v1 or F eq v2 …`` on one field → (F, [v1, v2, …]); else None."""
    if isinstance(node, Compare) and node.op == "eq":
        if isinstance(node.left, Member) and isinstance(node.right, Literal):
            return node.left.path, [node.right.value]
        return None
    if isinstance(node, BoolOp) and node.op == "or":
        left, right = _key_chunk(node.left), _key_chunk(node.right)
        if left is not None and right is not None and left[0] == right[0]:
            return left[0], left[1] + right[1]
    return None


def _range(node: Node, first_field: str) -> tuple[str, Any, bool] | None:
    """A usable ``first_field op literal`` conjunct: (op, value, whether it is the whole filter)."""
    if isinstance(node, Compare) and node.op in ("ge", "gt", "eq", "le", "lt"):
        left, right = node.left, node.right
        usable = isinstance(left, Member) and isinstance(right, Literal)
        if usable and left.path == first_field and isinstance(right.value, str):  # type: ignore[union-attr]
            return node.op, right.value, True  # type: ignore[union-attr]
        return None
    if isinstance(node, BoolOp) and node.op == "and":
        found = _range(node.left, first_field) or _range(node.right, first_field)
        if found is not None:
            return found[0], found[1], False
    return None
