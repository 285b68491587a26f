"""The names expressions and templates see at run time, and parameter rendering.

The engine builds the names once per (rule, document, step) — with a
:class:`NamesFactory` per rule and tick, the same values as :func:`make_names` —
and hands them to ``Match.where.evaluate`` and to :func:`render_params`. The values
mirror the tree in :mod:`edo_rules.playbook._names` that the loader checked
against, so a name that passed validation is always there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from edo_rules import ru
from edo_rules.model import Document
from edo_rules.playbook._counterparty import LazyCounterparty, StatsLookup, no_stats
from edo_rules.playbook.rules import Rule, Template


class WorkingDayCalendar(Protocol):
    """What the names need from :class:`edo_rules.calendar.ProductionCalendar`."""

    def working_days_between(self, a: date, b: date, /) -> int:
        """Working days in ``(a, b]`` for ``b >= a``."""
        ...


@dataclass(frozen=True, slots=True)
class Elapsed:
    """Time elapsed since the rule's ``since`` timestamp, at ``now``.

    ``working_days`` counts the working days that have fully passed after the
    date of ``since`` (Russian practice: a term starts the day after the
    event), in the rule's time zone; ``days`` and ``hours`` are whole 24-hour
    days and whole hours.
    """

    working_days: int
    days: int
    hours: int


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a template may know about the rule that fired."""

    id: str
    key: str
    playbook: str
    description: str | None


def make_names(
    doc: Document,
    *,
    now: datetime,
    calendar: WorkingDayCalendar,
    since: datetime | None,
    step: str,
    rule: Rule,
) -> dict[str, Any]:
    """The names visible to ``where`` expressions and templates for one document.

    ``doc`` is the (frozen, read-only) document; ``elapsed`` counts from
    ``since`` (zeros when ``since`` is None, e.g. for event rules); ``date``,
    ``datetime``, ``money`` and ``working_days_since`` format and count in the
    rule's time zone with ``calendar``. For many documents of one rule at one
    ``now``, :class:`NamesFactory` builds the same names for less.
    """
    return NamesFactory(rule, now, calendar).names(doc, since, step)


class NamesFactory:
    """Builds :func:`make_names` for many documents of one rule at one ``now``.

    What does not depend on the document (the rule's info, the bound
    functions) is made once; ``elapsed`` is computed only when read, and the
    working days since a date are counted once per date.
    """

    __slots__ = ("_functions", "_now", "_rule_info", "_stats")

    def __init__(
        self,
        rule: Rule,
        now: datetime,
        calendar: WorkingDayCalendar,
        stats: StatsLookup = no_stats,
    ):
        self._functions = _Functions(rule.timezone, now, calendar)
        self._rule_info = RuleInfo(rule.id, rule.key, rule.playbook, rule.description)
        self._now = now
        self._stats = stats

    def names(self, doc: Document, since: datetime | None, step: str) -> dict[str, Any]:
        """The names for ``doc`` counted from ``since`` at ladder position ``step``."""
        functions = self._functions
        return {
            "doc": doc,
            "now": self._now,
            "since": since,
            "step": step,
            "rule": self._rule_info,
            "elapsed": _LazyElapsed(functions, since),
            "counterparty": LazyCounterparty(doc.counterparty, self._stats),
            "date": functions.format_date,
            "datetime": functions.format_datetime,
            "money": format_money,
            "working_days_since": functions.working_days_since,
            "ru": ru.label,
        }


def render_params(params: Mapping[str, Any], names: Mapping[str, Any]) -> dict[str, Any]:
    """Render every template in ``params`` (at any depth) into plain JSON-ready data.

    Mappings become dicts and tuples become lists; compiled templates (and any
    object with a ``render(names)`` method) become strings; other values pass
    through unchanged. Raises
    :class:`~edo_rules.playbook.expressions.EvaluationError` when a template fails.
    """
    return {str(key): _render(value, names) for key, value in params.items()}


def _render(value: Any, names: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping):
        return render_params(value, names)
    if isinstance(value, tuple | list):
        return [_render(item, names) for item in value]
    if _is_template(value):
        return value.render(names)
    return value


def _is_template(value: Any) -> bool:
    return callable(getattr(value, "render", None)) and isinstance(
        getattr(value, "source", None), str
    )


class _Functions:
    """Date and working-day helpers bound to a time zone, a calendar and ``now``."""

    def __init__(self, tz: ZoneInfo, now: datetime, calendar: WorkingDayCalendar):
        self.tz = tz
        self.now = now
        self.calendar = calendar
        self.last_full_day = self.local(now).date() - timedelta(days=1)
        # Many documents share a date: count the working days once per date.
        self._by_date: dict[date, int] = {}

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.tz) if value.tzinfo is not None else value

    def format_date(self, value: date | datetime | None, style: str = "short") -> str:
        """«26.04.2024», or «26 апреля 2024 г.» with ``style="long"`` (in the rule's zone)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = self.local(value)
        if style == "long":
            return f"{value.day} {_MONTHS[value.month - 1]} {value.year} г."
        if style != "short":
            raise ValueError(f"date(): style must be 'short' or 'long', not {style!r}")
        return f"{value:%d.%m.%Y}"

    def format_datetime(self, value: date | datetime | None, style: str = "short") -> str:
        """«26.04.2024 14:30» (or «26 апреля 2024 г. 14:30») in the rule's time zone."""
        if value is None:
            return ""
        if not isinstance(value, datetime):
            return self.format_date(value, style)
        local = self.local(value)
        return f"{self.format_date(local, style)} {local:%H:%M}"

    def working_days_since(self, value: date | datetime | None) -> int:
        """Working days fully passed after ``value``'s date up to ``now`` (0 for None)."""
        if value is None:
            return 0
        start = self.local(value).date() if isinstance(value, datetime) else value
        counted = self._by_date.get(start)
        if counted is None:
            counted = 0
            if self.last_full_day > start:
                counted = self.calendar.working_days_between(start, self.last_full_day)
            self._by_date[start] = counted
        return counted

    def elapsed(self, since: datetime | None) -> Elapsed:
        if since is None:
            return Elapsed(0, 0, 0)
        delta = self.now - since
        hours = max(int(delta.total_seconds() // 3600), 0)
        return Elapsed(self.working_days_since(since), hours // 24, hours)


class _LazyElapsed:
    """:class:`Elapsed`, counted on first read: most rules never read it.

    Read-only like :class:`Elapsed`; prints and compares as the counted value.
    """

    __slots__ = ("_functions", "_since", "_value")
    _functions: _Functions
    _since: datetime | None
    _value: Elapsed | None

    def __init__(self, functions: _Functions, since: datetime | None):
        object.__setattr__(self, "_functions", functions)
        object.__setattr__(self, "_since", since)
        object.__setattr__(self, "_value", None)

    def _counted(self) -> Elapsed:
        value: Elapsed | None = self._value
        if value is None:
            value = self._functions.elapsed(self._since)
            object.__setattr__(self, "_value", value)
        return value

    @property
    def working_days(self) -> int:
        return self._counted().working_days

    @property
    def days(self) -> int:
        return self._counted().days

    @property
    def hours(self) -> int:
        return self._counted().hours

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"elapsed.{name} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"elapsed.{name} is read-only")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _LazyElapsed):
            other = other._counted()
        return self._counted() == other

    def __hash__(self) -> int:
        return hash(self._counted())

    def __repr__(self) -> str:
        return repr(self._counted())


def format_money(amount: Decimal | float | int | str | None, currency: str = "RUB") -> str:
    """«12 500,00 ₽»: thousands by spaces, a decimal comma, the currency sign."""
    if amount is None:
        return ""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"money(): {amount!r} is not an amount") from exc
    sign = "-" if value < 0 else ""
    whole, _, cents = f"{abs(value):.2f}".partition(".")
    groups = f"{int(whole):,}".replace(",", " ")
    symbol = _CURRENCY_SIGNS.get(currency.upper(), currency)
    return f"{sign}{groups},{cents} {symbol}"


_MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_CURRENCY_SIGNS = MappingProxyType({"RUB": "₽", "RUR": "₽", "USD": "$", "EUR": "€", "CNY": "¥"})


def is_template(value: Any) -> bool:
    """True for a compiled template (anything with ``source`` and ``render``)."""
    return _is_template(value)


__all__ = [
    "Elapsed",
    "NamesFactory",
    "RuleInfo",
    "Template",
    "WorkingDayCalendar",
    "format_money",
    "is_template",
    "make_names",
    "render_params",
]
