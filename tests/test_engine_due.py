"""The threshold inversion: "T < bound(now)" must agree with the forward due computation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from _engine_helpers import CALENDAR, MSK
from hypothesis import example, given, settings
from hypothesis import strategies as st

from edo_rules.engine._due import LadderStep, cutoff, deliver, raw_due, since_bound
from edo_rules.playbook.rules import Duration, Repeat, Step, WorkingHours

_ZONES = [
    MSK,
    ZoneInfo("Asia/Vladivostok"),
    ZoneInfo("Europe/Kaliningrad"),
    ZoneInfo("Europe/Berlin"),
    UTC,
]
_UNITS = ["working_days", "days", "hours", "minutes"]

zones = st.sampled_from(_ZONES)
moments = st.builds(
    lambda naive, tz: naive.replace(tzinfo=UTC).astimezone(tz),
    st.datetimes(min_value=datetime(2016, 1, 1), max_value=datetime(2026, 6, 1)),
    zones,
)
durations = st.builds(
    lambda amount, unit: Duration(amount, unit, f"{amount} {unit}"),
    st.integers(min_value=0, max_value=25),
    st.sampled_from(_UNITS),
)
repeats = st.none() | st.builds(
    lambda every, times: Repeat(Duration(max(every.amount, 1), every.unit, every.text), times),
    durations,
    st.integers(min_value=1, max_value=3),
)
windows = st.none() | st.builds(
    lambda start, length: WorkingHours(start * 15, min(start * 15 + length * 15, 24 * 60)),
    st.integers(min_value=24, max_value=50),  # 06:00–12:30, clear of DST switches
    st.integers(min_value=1, max_value=60),
)


@dataclass(frozen=True)
class Case:
    """One rule position, a ``since`` value, the zone and an optional window."""

    since: datetime
    after: Duration
    repeat: Repeat | None
    k: int
    window: WorkingHours | None
    tz: ZoneInfo

    @property
    def position(self) -> LadderStep:
        step = Step("do", self.after, ())
        if self.repeat is None or self.k == 0:
            return LadderStep("do", step)
        return LadderStep(f"repeat[{self.k}]", step, min(self.k, self.repeat.times))

    def delivered(self) -> datetime:
        raw = raw_due(self.since, self.position, self.repeat, self.tz, CALENDAR)
        return deliver(raw, self.window, self.tz, CALENDAR)

    def due_by_bound(self, now: datetime) -> bool:
        limit = cutoff(now, self.window, self.tz, CALENDAR)
        return self.since < since_bound(limit, self.position, self.repeat, self.tz, CALENDAR)


cases = st.builds(
    Case,
    since=moments,
    after=durations,
    repeat=repeats,
    k=st.integers(min_value=0, max_value=3),
    window=windows,
    tz=zones,
)
_EXAMPLE = Case(  # the design's example: Fri 26.04.2024 + 3 working days → Mon 06.05 00:00
    since=datetime(2024, 4, 26, 15, 30, tzinfo=MSK),
    after=Duration(3, "working_days", "3 working days"),
    repeat=None,
    k=0,
    window=None,
    tz=MSK,
)


@settings(max_examples=600, deadline=None)
@given(case=cases, offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)))
@example(case=_EXAMPLE, offset=timedelta(days=9, hours=8, minutes=30))
def test_bound_agrees_with_the_forward_due_moment(case: Case, offset: timedelta) -> None:
    now = case.since + offset
    assert (case.delivered() <= now) == case.due_by_bound(now)


@settings(max_examples=600, deadline=None)
@given(case=cases)
def test_bound_flips_exactly_at_the_delivery_moment(case: Case) -> None:
    delivered = case.delivered()
    assert case.due_by_bound(delivered)
    assert not case.due_by_bound(delivered - timedelta(microseconds=1))


def _naive_working_days_due(since: datetime, n: int, tz: ZoneInfo) -> datetime:
    """Count day by day: the term starts the day after; due at the next working day's start."""
    day, counted = since.astimezone(tz).date(), 0
    while counted < n:
        day += timedelta(days=1)
        counted += CALENDAR.is_working_day(day)
    day += timedelta(days=1)
    while not CALENDAR.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=tz)


@settings(max_examples=300, deadline=None)
@given(since=moments, n=st.integers(min_value=0, max_value=30), tz=zones)
def test_working_days_match_a_day_by_day_count(since: datetime, n: int, tz: ZoneInfo) -> None:
    position = LadderStep("do", Step("do", Duration(n, "working_days", "n"), ()))
    assert raw_due(since, position, None, tz, CALENDAR) == _naive_working_days_due(since, n, tz)


def test_the_may_holidays_of_2024() -> None:
    position = LadderStep("do", Step("do", Duration(3, "working_days", "3 рабочих дня"), ()))
    due = raw_due(datetime(2024, 4, 26, 15, 30, tzinfo=MSK), position, None, MSK, CALENDAR)
    assert due == datetime(2024, 5, 6, tzinfo=MSK)
    assert due.date() == date(2024, 5, 6)


def test_the_window_cutoff_outside_hours() -> None:
    window = WorkingHours(9 * 60, 18 * 60)
    # Sunday 28.04.2024 is a day off: the last window closed on the working Saturday.
    now = datetime(2024, 4, 28, 12, 0, tzinfo=MSK)
    assert cutoff(now, window, MSK, CALENDAR) == datetime(
        2024, 4, 27, 18, 0, tzinfo=MSK
    ) - timedelta(microseconds=1)
