"""Simulation: evaluate the playbooks at successive fake moments over a date range.

The simulation records into a *scratch* store (normally a temporary copy of
the real one, see :meth:`Store.scratch_copy`), so ladders, repeats and
catch-up progress exactly as the runner would progress them tick after tick,
while the real store is never written. Nothing new is synced: the documents
stay as they are in the copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from edo_rules.engine._due import WorkingCalendar
from edo_rules.errors import EdoRulesError
from edo_rules.playbook.durations import DurationSyntaxError, parse_duration
from edo_rules.playbook.rules import Duration

if TYPE_CHECKING:  # the engine module imports this one
    from edo_rules.engine.engine import Engine, EvaluationResult

#: The playbooks' default time zone: moments are laid out in it.
DEFAULT_ZONE = ZoneInfo("Europe/Moscow")
#: A simulation evaluates at most this many moments (a typo in --every must not run for hours).
MAX_MOMENTS = 20_000

_STEP_UNITS = {"hours": timedelta(hours=1), "minutes": timedelta(minutes=1)}


class SimulationError(EdoRulesError):
    """A simulation was asked for an impossible range or step."""


@dataclass(frozen=True, slots=True)
class Simulation:
    """What a simulation fired, moment by moment (each tick an :class:`EvaluationResult`)."""

    start: date
    end: date
    ticks: tuple[EvaluationResult, ...]

    @property
    def moments(self) -> tuple[datetime, ...]:
        return tuple(tick.now for tick in self.ticks)

    @property
    def fired_count(self) -> int:
        return sum(len(tick.fired) for tick in self.ticks)


def step_of(every: str | Duration) -> Duration:
    """``every`` as a :class:`Duration` ("1 day", "2 hours", "1 working day")."""
    if not isinstance(every, str):
        return every
    try:
        return parse_duration(every)
    except DurationSyntaxError as exc:
        raise SimulationError(f"--every: {exc}") from exc


def moments(
    start: date,
    end: date,
    every: Duration,
    calendar: WorkingCalendar,
    *,
    at: time = time(9),
    zone: ZoneInfo = DEFAULT_ZONE,
) -> list[datetime]:
    """The moments of a simulation from ``start`` to ``end`` (both dates included).

    Steps in days (or working days: working days only) fall at ``at`` local
    time; steps in hours or minutes start at 00:00 of ``start``. Raises
    :class:`SimulationError` for an empty range, a zero step or too many moments.
    """
    if end < start:
        raise SimulationError(
            f"the range {start} … {end} ends before it starts."
            "\nWhat to do: give --from a date on or before --to."
        )
    if every.amount < 1:
        raise SimulationError(f"the step {every.text!r} must be at least 1 (e.g. '1 day').")
    # Stop counting past the limit: a year by the minute must fail at once.
    found = list(islice(_moments(start, end, every, calendar, at=at, zone=zone), MAX_MOMENTS + 1))
    if len(found) > MAX_MOMENTS:
        raise SimulationError(
            f"{start} … {end} every {every.text} is more than {MAX_MOMENTS} moments."
            "\nWhat to do: shorten the range or take a longer step."
        )
    return found


def _moments(
    start: date, end: date, every: Duration, cal: WorkingCalendar, *, at: time, zone: ZoneInfo
) -> Iterator[datetime]:
    if every.unit == "working_days":
        day = start if cal.is_working_day(start) else cal.add_working_days(start, 1)
        while day <= end:
            yield datetime.combine(day, at, zone)
            day = cal.add_working_days(day, every.amount)
        return
    if every.unit == "days":
        # Whole days step in local wall time: 09:00 stays 09:00 across offset changes.
        for k in range(0, (end - start).days + 1, every.amount):
            yield datetime.combine(start + timedelta(days=k), at, zone)
        return
    step = _STEP_UNITS[every.unit] * every.amount
    moment, last = datetime.combine(start, time(), zone), datetime.combine(end, time.max, zone)
    while moment <= last:
        yield moment
        # Elapsed-time steps count real time (UTC), not local wall time.
        moment = (moment.astimezone(UTC) + step).astimezone(zone)


def run_ticks(
    engine: Engine, at: Sequence[datetime], stop: Callable[[], bool] | None = None
) -> tuple[EvaluationResult, ...]:
    """Evaluate (recorded) at each moment of ``at`` in order, on ``engine``'s store.

    The store **is written**: give it a scratch copy, never the real store.
    ``stop`` is asked before each tick; when it answers True,
    :class:`SimulationError` is raised (the scratch copy is then removed as usual).
    """
    results = []
    for moment in sorted(at):
        if stop is not None and stop():
            raise SimulationError("the simulation was stopped before its next tick")
        results.append(engine.evaluate(moment))
    return tuple(results)
