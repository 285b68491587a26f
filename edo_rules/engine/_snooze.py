"""Snoozes: pause one document (for one rule or all) for a while, counted like rule durations.

While a snooze is active the candidate queries leave the document out (see
``DueQuery.snoozed_at``); nothing that became due meanwhile is lost. When it
ends, the engine looks at the document again over the whole ladder (the
incremental ranges moved on while it was left out) and at the status events
passed over meanwhile, so the steps due in between fire per the rule's
``catch_up`` policy, exactly as after downtime. The engine then marks the
snooze released (in the same transaction as the firings).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from edo_rules.engine._due import WorkingCalendar, deadline
from edo_rules.errors import EdoRulesError
from edo_rules.playbook.durations import DurationSyntaxError, parse_duration
from edo_rules.playbook.rules import Duration
from edo_rules.store.base import Snooze

if TYPE_CHECKING:  # the engine module imports this one
    from edo_rules.engine.engine import Engine

#: Without ``rule_key`` a snooze is counted in the playbooks' default zone.
DEFAULT_ZONE = ZoneInfo("Europe/Moscow")


def snooze_until(
    now: datetime, duration: str | Duration, calendar: WorkingCalendar, zone: ZoneInfo
) -> datetime:
    """When a snooze for ``duration`` from ``now`` ends: "5 working days" ends at 00:00
    of the next working day after the 5th, as a rule's ``after`` is due."""
    if isinstance(duration, str):
        try:
            duration = parse_duration(duration)
        except DurationSyntaxError as exc:
            raise EdoRulesError(f"--for: {exc}") from exc
    if duration.amount < 1:
        raise EdoRulesError(f"--for: a snooze of {duration.text!r} ends at once; give at least 1")
    return deadline(now, duration, zone, calendar)


def add_snooze(
    engine: Engine,
    document_id: str,
    duration: str | Duration,
    now: datetime,
    *,
    rule_key: str | None = None,
    reason: str | None = None,
) -> Snooze:
    """Validate the rule key, compute the end and record the snooze in the engine's store."""
    zone = DEFAULT_ZONE
    if rule_key is not None:
        rule = next((r for r in engine.rules if r.key == rule_key), None)
        if rule is None:
            known = ", ".join(sorted(r.key for r in engine.rules)) or "none"
            raise EdoRulesError(
                f"no rule {rule_key!r} in the playbooks (rules: {known})."
                "\nWhat to do: give --rule as PLAYBOOK/RULE, e.g. signing-control/remind-unsigned,"
                " and check --playbooks."
            )
        zone = rule.timezone
    until = snooze_until(now, duration, engine.calendar, zone)
    return engine.store.add_snooze(document_id, rule_key, until, reason=reason, created_at=now)
