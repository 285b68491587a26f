"""Due moments of ladder steps, and their inversion into one threshold per step per tick.

Forward (used for ``due_at``, explain and the naive check): a step's due moment
as a function of the rule's ``since`` timestamp T, in the rule's time zone:

* ``N working days``: the term starts the day after T's date and elapses at the
  end of the N-th working day; the step is due at the start (00:00) of the
  next working day, i.e. at midnight of ``add_working_days(date(T), N + 1)``;
* ``N days``: the same convention with calendar days: midnight of date(T) + N + 1;
* ``N hours`` / ``N minutes``: plain elapsed time, T + N.

Repeat k of the last step is due at ``shift(due(last), k × every)``, where the
shift of an instant x by m working days is midnight of
``add_working_days(date(x), m)``, by m days midnight of date(x) + m, and by
hours or minutes plain elapsed time.

A working-hours window delays a due moment to the next window opening on a
working day (:func:`deliver`).

Inverse (used for the store query): every forward function is monotone in T,
so "the step is delivered by ``now``" is equivalent to "T < bound" for one
instant ``bound`` computed once per (rule, step) per tick. :func:`step_bound`
composes the inverses; a property test checks it against the forward path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from edo_rules.playbook.rules import ActionSpec, Duration, Repeat, Step, WorkingHours

_TICK = timedelta(microseconds=1)


class WorkingCalendar(Protocol):
    """What the engine needs from :class:`edo_rules.calendar.ProductionCalendar`."""

    def is_working_day(self, day: date, /) -> bool: ...

    def add_working_days(self, day: date, n: int, /) -> date:
        """n ≥ 1: the n-th working day after ``day``; n ≤ -1: the |n|-th one before it."""
        ...

    def working_days_between(self, a: date, b: date, /) -> int:
        """Working days in ``(a, b]`` for ``b >= a`` (used by expressions and templates)."""
        ...


@dataclass(frozen=True, slots=True)
class LadderStep:
    """One position of a time rule's ladder: a step, or the k-th repeat of a step."""

    name: str  # "do", "escalate[1]", "do.repeat[1]", "repeat[2]"
    step: Step  # the step itself, or the repeated step for a repeat
    repeat_index: int = 0  # k for "repeat[k]"
    repeat: Repeat | None = None  # the repeat this position belongs to (None: the rule's)

    @property
    def actions(self) -> tuple[ActionSpec, ...]:
        """What firing this position does: the step's actions, or its repeat's."""
        if self.repeat_index and self.repeat is not None and self.repeat.actions is not None:
            return self.repeat.actions
        return self.step.actions


def ladder(steps: Sequence[Step], repeat: Repeat | None) -> tuple[LadderStep, ...]:
    """Every position in order: each step, then its repeats ("repeat[k]" for the last one).

    The compiler makes sure an earlier step's repeats all come before the next
    step (same unit, ``after + times × every`` < the next ``after``), so the
    order holds for every document.
    """
    positions: list[LadderStep] = []
    for index, step in enumerate(steps):
        positions.append(LadderStep(step.name, step))
        last = index == len(steps) - 1
        own = (step.repeat or repeat) if last else step.repeat
        if own is None:
            continue
        prefix = "repeat" if last else f"{step.name}.repeat"
        positions += [LadderStep(f"{prefix}[{k}]", step, k, own) for k in range(1, own.times + 1)]
    return tuple(positions)


# -- local-time helpers ---------------------------------------------------------------


def midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _at_minute(day: date, minute: int, tz: ZoneInfo) -> datetime:
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=tz)


def _latest_working_day(day: date, cal: WorkingCalendar) -> date:
    return day if cal.is_working_day(day) else cal.add_working_days(day, -1)


def _elapsed(duration: Duration, times: int = 1) -> timedelta:
    unit = timedelta(hours=1) if duration.unit == "hours" else timedelta(minutes=1)
    return unit * duration.amount * times


# -- forward ------------------------------------------------------------------------------


def shift(
    moment: datetime, duration: Duration, times: int, tz: ZoneInfo, cal: WorkingCalendar
) -> datetime:
    """``moment`` moved by ``times × duration`` (working days and days land on a midnight)."""
    m = duration.amount * times
    if duration.unit == "working_days":
        day = local_date(moment, tz)
        return midnight(cal.add_working_days(day, m) if m else day, tz)
    if duration.unit == "days":
        return midnight(local_date(moment, tz) + timedelta(days=m), tz)
    return moment.astimezone(UTC) + _elapsed(duration, times)


def _after(since: datetime, after: Duration, tz: ZoneInfo, cal: WorkingCalendar) -> datetime:
    if after.unit in ("working_days", "days"):
        # "after N (working) days": due at the start of the (N+1)-th (working) day.
        plus_one = Duration(after.amount + 1, after.unit, after.text)
        return shift(since, plus_one, 1, tz, cal)
    return since.astimezone(UTC) + _elapsed(after)


def deadline(start: datetime, duration: Duration, tz: ZoneInfo, cal: WorkingCalendar) -> datetime:
    """When ``duration`` counted from ``start`` has elapsed, as a rule's ``after`` is due."""
    return _after(start, duration, tz, cal)


def raw_due(
    since: datetime,
    position: LadderStep,
    repeat: Repeat | None,
    tz: ZoneInfo,
    cal: WorkingCalendar,
) -> datetime:
    """When ``position`` becomes due for a document whose ``since`` value is ``since``."""
    due = _after(since, position.step.after, tz, cal)
    repeat = position.repeat or repeat
    if position.repeat_index and repeat is not None:
        due = shift(due, repeat.every, position.repeat_index, tz, cal)
    return due


def deliver(
    due: datetime, window: WorkingHours | None, tz: ZoneInfo, cal: WorkingCalendar
) -> datetime:
    """``due`` delayed to the next opening of the working-hours window on a working day."""
    if window is None:
        return due
    local = due.astimezone(tz)
    day = local.date()
    minute = local.hour * 60 + local.minute
    if cal.is_working_day(day):
        if window.start_minute <= minute < window.end_minute:
            return due
        if minute < window.start_minute:
            return _at_minute(day, window.start_minute, tz)
    return _at_minute(cal.add_working_days(day, 1), window.start_minute, tz)


# -- inverse ------------------------------------------------------------------------------


def cutoff(
    now: datetime, window: WorkingHours | None, tz: ZoneInfo, cal: WorkingCalendar
) -> datetime:
    """The latest raw due moment delivered by ``now``: ``deliver(d) <= now  ⇔  d <= cutoff``."""
    if window is None:
        return now
    local = now.astimezone(tz)
    day = local.date()
    minute = local.hour * 60 + local.minute
    working = cal.is_working_day(day)
    if working and window.start_minute <= minute < window.end_minute:
        return now
    if not (working and minute >= window.end_minute):
        day = cal.add_working_days(day, -1)
    # Anything due before the last window closed was delivered in it.
    return _at_minute(day, window.end_minute, tz).astimezone(UTC) - _TICK


def _shift_bound(
    limit: datetime, duration: Duration, times: int, tz: ZoneInfo, cal: WorkingCalendar
) -> datetime:
    """The exclusive bound B with ``shift(x, duration, times) <= limit  ⇔  x < B``."""
    m = duration.amount * times
    if duration.unit == "working_days":
        if m == 0:
            return midnight(local_date(limit, tz) + timedelta(days=1), tz)
        # add_working_days(d, m) <= D  ⇔  d < the m-th working day counted back from
        # the latest working day W <= D, W itself being the first.
        latest = _latest_working_day(local_date(limit, tz), cal)
        first = cal.add_working_days(latest, -(m - 1)) if m > 1 else latest
        return midnight(first, tz)
    if duration.unit == "days":
        return midnight(local_date(limit, tz) - timedelta(days=m - 1), tz)
    return limit.astimezone(UTC) - _elapsed(duration, times) + _TICK


def _after_bound(limit: datetime, after: Duration, tz: ZoneInfo, cal: WorkingCalendar) -> datetime:
    if after.unit in ("working_days", "days"):
        return _shift_bound(limit, Duration(after.amount + 1, after.unit, after.text), 1, tz, cal)
    return limit.astimezone(UTC) - _elapsed(after) + _TICK


def since_bound(
    limit: datetime,
    position: LadderStep,
    repeat: Repeat | None,
    tz: ZoneInfo,
    cal: WorkingCalendar,
) -> datetime:
    """The exclusive bound B with ``raw_due(T, position) <= limit  ⇔  T < B``."""
    repeat = position.repeat or repeat
    if position.repeat_index and repeat is not None:
        bound = _shift_bound(limit, repeat.every, position.repeat_index, tz, cal)
        limit = bound.astimezone(UTC) - _TICK
    return _after_bound(limit, position.step.after, tz, cal)
