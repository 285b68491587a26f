"""Reading 1C wire values: zone-less dates, empty dates and references, composite types.

Every accessor raises :class:`MalformedDataError` (a SourceError) for a value of
the wrong shape, so one bad row rejects its whole page before anything is
written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from edo_rules._messages import msg
from edo_rules.errors import SourceError

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PREFIX = "StandardODATA."

Row = Mapping[str, Any]


class MalformedDataError(SourceError):
    """A row of a page has a value of the wrong shape: the page is rejected whole."""

    def __init__(self, entity_set: str, field: str, value: Any):
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        super().__init__(
            msg("onec_bad_value", set=entity_set, field=field, value=shown),
            retryable=True,
            hint=msg("onec_hint_bad_value"),
        )


class Reader:
    """Typed access to the fields of one row of ``entity_set``."""

    __slots__ = ("entity_set", "row")

    def __init__(self, entity_set: str, row: Row):
        self.entity_set = entity_set
        self.row = row

    def bad(self, field: str) -> MalformedDataError:
        return MalformedDataError(self.entity_set, field, self.row.get(field, "<missing>"))

    def ref(self, field: str, *, required: bool = False) -> str | None:
        """A reference; the empty reference is None."""
        value = self.row.get(field)
        if value is None and not required:
            return None
        checked = _guid(value) if isinstance(value, str) else None
        if checked is None or (required and checked == EMPTY_REF):
            raise self.bad(field)
        return None if checked == EMPTY_REF else checked

    def text(self, field: str) -> str:
        """A string with control characters removed (one can slip into 1C data)."""
        value = self.row.get(field, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.bad(field)
        # A control character is never printable: most texts skip the regex.
        return value if value.isprintable() else _CONTROL.sub("", value)

    def local(self, field: str) -> str | None:
        """A zone-less 1C date-time as its text; the empty date is None."""
        moment = self.moment(field)
        return None if moment is None else str(self.row[field])

    def moment(self, field: str) -> datetime | None:
        """A zone-less 1C date-time as a naive datetime (parsed once); the empty date is None."""
        value = self.row.get(field)
        if value is None or value == EMPTY_DATE:
            return None
        if not isinstance(value, str) or not _DATETIME.match(value):
            raise self.bad(field)
        # Dates near year 1 are empty-date variants; they cannot even be moved to UTC.
        if value < "1900":
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise self.bad(field) from None

    def day(self, field: str) -> date | None:
        value = self.local(field)
        return None if value is None else date.fromisoformat(value[:10])

    def number(self, field: str) -> Decimal | None:
        value = self.row.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.bad(field)
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise self.bad(field) from None
        if not result.is_finite():
            raise self.bad(field)
        return result

    def flag(self, field: str) -> bool:
        value = self.row.get(field, False)
        if not isinstance(value, bool):
            raise self.bad(field)
        return value

    def type_name(self, field: str) -> str | None:
        """A composite reference's type, without the optional ``StandardODATA.`` prefix."""
        value = self.row.get(f"{field}_Type")
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.bad(f"{field}_Type")
        return value[len(_PREFIX) :] if value.startswith(_PREFIX) else value

    def lines(self, field: str) -> list[Reader]:
        """A tabular part's rows."""
        value = self.row.get(field) or []
        if not isinstance(value, list) or not all(isinstance(line, dict) for line in value):
            raise self.bad(field)
        return [Reader(f"{self.entity_set}_{field}", line) for line in value]


@lru_cache(maxsize=8192)
def _guid(value: str) -> str | None:
    """The lower-cased GUID, or None when ``value`` is not one (references repeat a lot)."""
    return value.lower() if _GUID.match(value) else None


def aware(local: str | datetime | None, zone: ZoneInfo) -> datetime | None:
    """A 1C local time (text or naive) in the server's zone as a timezone-aware datetime."""
    if local is None:
        return None
    if isinstance(local, str):
        local = datetime.fromisoformat(local)
    return local.replace(tzinfo=zone)


def naive(local: str | None) -> datetime | None:
    """A checked zone-less 1C time as a naive datetime (compact in memory)."""
    return None if local is None else datetime.fromisoformat(local)


def to_local(moment: datetime, zone: ZoneInfo) -> str:
    """An aware moment as the server's zone-less local time (for ``datetime'…'`` filters)."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")
