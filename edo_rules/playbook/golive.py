"""The go-live moment: what happened before it is history, never a reason to act.

``go_live`` is written in the config (for every playbook) or in a playbook
(for its rules) as a date or a date-time; a value without an offset is read
in the playbook's (or the config's) time zone, a bare date means its 00:00.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from edo_rules._messages import msg


class GoLiveError(ValueError):
    """The text is not a date or a date-time."""


def parse_go_live(value: object, zone: ZoneInfo) -> datetime:
    """``2026-12-01`` / ``2026-12-01 09:00`` / ``2026-12-01T09:00+03:00`` → an aware datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        moment = _parse_text(value.strip())
    else:
        raise GoLiveError(msg("golive_type", got=type(value).__name__))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _parse_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.combine(date.fromisoformat(text), time())
    except ValueError:
        raise GoLiveError(msg("golive_syntax", text=text)) from None
