"""The names expressions and templates see at run time, and parameter rendering.

The engine calls :func:`make_names` once per (rule, document, step) and hands
the result to ``Match.where.evaluate`` and to :func:`render_params`. The values
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

from edo_rules.model import Document
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
    rule's time zone with ``calendar``.
    """
    tz = rule.timezone
    functions = _Functions(tz, now, calendar)
    return {
        "doc": doc,
        "now": now,
        "since": since,
        "step": step,
        "rule": RuleInfo(rule.id, rule.key, rule.playbook, rule.description),
        "elapsed": functions.elapsed(since),
        "date": functions.format_date,
        "datetime": functions.format_datetime,
        "money": format_money,
        "working_days_since": functions.working_days_since,
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
        last_full_day = self.local(self.now).date() - timedelta(days=1)
        if last_full_day <= start:
            return 0
        return self.calendar.working_days_between(start, last_full_day)

    def elapsed(self, since: datetime | None) -> Elapsed:
        if since is None:
            return Elapsed(0, 0, 0)
        delta = self.now - since
        hours = max(int(delta.total_seconds() // 3600), 0)
        return Elapsed(self.working_days_since(since), hours // 24, hours)


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
    "RuleInfo",
    "Template",
    "WorkingDayCalendar",
    "format_money",
    "is_template",
    "make_names",
    "render_params",
]
