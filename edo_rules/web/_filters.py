"""The dashboard's filters: parsed from the query string, turned into one SQL ``WHERE``.

Every page takes the same six filters (period, organisation, manager,
counterparty, kind, status); the SQL uses only standard syntax and ``?``
parameters, so a PostgreSQL read model can reuse it with its own placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from urllib.parse import urlencode

from edo_rules.errors import EdoRulesError
from edo_rules.model import Document, Kind, Status


class FilterError(EdoRulesError):
    """A filter value in the query string cannot be read."""


@dataclass(frozen=True, slots=True)
class Filters:
    """Which documents a page counts. ``period_*`` bound the document's date (inclusive)."""

    period_from: date | None = None
    period_to: date | None = None
    organization: str | None = None
    manager: str | None = None
    counterparty: str | None = None  # a name or an ИНН
    kind: str | None = None
    status: str | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        """Read ``from``, ``to``, ``organization``, ``manager``, ``counterparty``, ``kind``,
        ``status``."""
        return cls(
            period_from=_date(query, "from"),
            period_to=_date(query, "to"),
            organization=_text(query, "organization"),
            manager=_text(query, "manager"),
            counterparty=_text(query, "counterparty"),
            kind=_choice(query, "kind", [k.value for k in Kind]),
            status=_choice(query, "status", [s.value for s in Status]),
        )

    def where(self, prefix: str = "") -> tuple[str, list[object]]:
        """``(clause, params)``: the SQL condition (``1=1`` when no filter is set)."""
        parts: list[str] = []
        params: list[object] = []
        for column, value in self._equalities(prefix):
            parts.append(f"{column} = ?")
            params.append(value)
        if self.counterparty is not None:
            parts.append(f"({prefix}counterparty_inn = ? OR {prefix}counterparty_name = ?)")
            params += [self.counterparty, self.counterparty]
        if self.period_from is not None:
            parts.append(f"{prefix}doc_date >= ?")
            params.append(self.period_from.isoformat())
        if self.period_to is not None:
            parts.append(f"{prefix}doc_date <= ?")
            params.append(self.period_to.isoformat())
        return (" AND ".join(parts) or "1=1"), params

    def _equalities(self, prefix: str) -> list[tuple[str, str]]:
        pairs = [
            ("organization", self.organization),
            ("responsible", self.manager),
            ("kind", self.kind),
            ("status", self.status),
        ]
        return [(prefix + column, value) for column, value in pairs if value is not None]

    def matches(self, doc: Document) -> bool:
        """The same test as :meth:`where`, on a document in memory (the agenda's firings)."""
        wanted = (
            (self.organization, doc.organization),
            (self.manager, doc.responsible),
            (self.kind, doc.kind.value),
            (self.status, doc.status.value),
        )
        if any(want is not None and want != have for want, have in wanted):
            return False
        if self.counterparty is not None and self.counterparty not in {
            doc.counterparty.inn,
            doc.counterparty.name,
        }:
            return False
        return _in_period(doc.date, self.period_from, self.period_to)

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def query(self, **extra: str) -> str:
        """The query string of these filters (plus ``extra``), for links and exports."""
        values = {
            "from": self.period_from,
            "to": self.period_to,
            "organization": self.organization,
            "manager": self.manager,
            "counterparty": self.counterparty,
            "kind": self.kind,
            "status": self.status,
        }
        pairs = {k: str(v) for k, v in values.items() if v is not None}
        pairs.update(extra)
        return urlencode(pairs)

    def with_status(self, status: str | None) -> Filters:
        return replace(self, status=status)


def _text(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name, "").strip()
    return value[:200] or None


def _date(query: Mapping[str, str], name: str) -> date | None:
    value = _text(query, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(
            f"фильтр {name}={value!r}: ожидается дата ГГГГ-ММ-ДД, например 2026-11-02"
        ) from None


def _choice(query: Mapping[str, str], name: str, allowed: list[str]) -> str | None:
    value = _text(query, name)
    if value is not None and value not in allowed:
        raise FilterError(f"фильтр {name}={value!r}: допустимые значения: {', '.join(allowed)}")
    return value


def _in_period(day: date | None, start: date | None, end: date | None) -> bool:
    if start is None and end is None:
        return True
    if day is None:
        return False
    return (start is None or day >= start) and (end is None or day <= end)
