"""Benchmark: ProductionCalendar against a competent baseline, side by side in one run.

The baseline is what an engineer would write in an afternoon straight from the
bundled data file (``edo_rules/calendar/data/ru.json``), without our code: the
working days' ordinals precomputed once into a sorted list and a set, then
``bisect`` for adding and counting and set membership for ``is_working_day``.
workalendar's Russia is measured too, labelled with how many answers differ
(its transfers are wrong for most recent years, see the calendar reference).

Every answer of edo-rules is compared with the baseline's on the same dates;
the script exits 1 when any differs. Each phase is timed ``--rounds`` times,
interleaved, and the median is reported.

Run: .venv/bin/python benchmarks/calendar.py [--dates N] [--rounds R] [--no-workalendar]
     [--overrides FILE]
"""

# ruff: noqa: E402 -- the path fix below must run before any import.
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and the file's own
# name would shadow the standard library's ``calendar`` module (used by workalendar).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import bisect
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Callable
from importlib import resources

from edo_rules.calendar import ProductionCalendar

_YEAR = dt.timedelta(days=365)
_Op = Callable[[dt.date], object]


class Baseline:
    """Working days from the data file: a sorted ordinal list and a set."""

    def __init__(self) -> None:
        raw = json.loads(resources.files("edo_rules.calendar").joinpath("data/ru.json").read_text())
        years = sorted(int(y) for y in raw["years"])
        off = {
            dt.date.fromisoformat(n["date"]) for y in raw["years"].values() for n in y["days_off"]
        }
        on = {
            dt.date.fromisoformat(n["date"])
            for y in raw["years"].values()
            for n in y["working_days"]
        }
        first, last = dt.date(years[0], 1, 1).toordinal(), dt.date(years[-1], 12, 31).toordinal()
        days = (dt.date.fromordinal(o) for o in range(first, last + 1))
        self.ords = [d.toordinal() for d in days if d in on or (d.weekday() < 5 and d not in off)]
        self.work = set(self.ords)

    def is_working_day(self, d: dt.date) -> bool:
        return d.toordinal() in self.work

    def add_working_days(self, d: dt.date, n: int) -> dt.date:
        return dt.date.fromordinal(self.ords[bisect.bisect_right(self.ords, d.toordinal()) + n - 1])

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        ords = self.ords
        return bisect.bisect_right(ords, b.toordinal()) - bisect.bisect_right(ords, a.toordinal())


def _dates(count: int) -> list[dt.date]:
    # One year short of the data's end, so that d + 365 stays inside the data.
    rng = random.Random(42)
    first, last = dt.date(2015, 1, 1).toordinal(), dt.date(2026, 12, 31).toordinal()
    return [dt.date.fromordinal(rng.randint(first, last)) for _ in range(count)]


def _seconds(func: _Op, dates: list[dt.date]) -> float:
    start = time.perf_counter()
    for day in dates:
        func(day)
    return time.perf_counter() - start


def _medians(funcs: list[_Op], dates: list[dt.date], rounds: int) -> list[float]:
    """Median ops/s of each function, rounds interleaved so load hits all alike."""
    for func in funcs:
        _seconds(func, dates)  # warm-up: fills every per-year cache
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(rounds):
        for slot, func in zip(times, funcs, strict=True):
            slot.append(_seconds(func, dates))
    return [len(dates) / statistics.median(slot) for slot in times]


def _cases(ours: ProductionCalendar, base: Baseline) -> list[tuple[str, _Op, _Op]]:
    return [
        (
            "add_working_days(d, 3)",
            lambda d: ours.add_working_days(d, 3),
            lambda d: base.add_working_days(d, 3),
        ),
        (
            "working_days_between(d, d+365)",
            lambda d: ours.working_days_between(d, d + _YEAR),
            lambda d: base.working_days_between(d, d + _YEAR),
        ),
        ("is_working_day(d)", ours.is_working_day, base.is_working_day),
    ]


def _workalendar(name: str) -> _Op | None:
    try:
        from workalendar.europe import Russia
    except ImportError:
        return None
    theirs = Russia()
    ops: dict[str, _Op] = {
        "add_working_days(d, 3)": lambda d: theirs.add_working_days(d, 3),
        "working_days_between(d, d+365)": lambda d: theirs.get_working_days_delta(d, d + _YEAR),
        "is_working_day(d)": theirs.is_working_day,
    }
    return ops[name]


def _differ(left: _Op, right: _Op, dates: list[dt.date]) -> int:
    return sum(left(d) != right(d) for d in dates)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dates", type=int, default=2_000, help="random dates per round")
    parser.add_argument("--rounds", type=int, default=7, help="median of this many rounds")
    parser.add_argument("--no-workalendar", action="store_true", help="skip workalendar")
    parser.add_argument(
        "--overrides",
        type=Path,
        help="an override file for edo-rules only (shows that a difference fails the run)",
    )
    args = parser.parse_args()
    ours, base = ProductionCalendar.russia(args.overrides), Baseline()
    dates = _dates(args.dates)
    print(f"{args.dates} random dates 2015-2026, median of {args.rounds} rounds, ops/s")
    head = f"{'operation':<32} {'edo-rules':>11} {'baseline':>11} {'ratio':>7}"
    print(f"{head} {'workalendar':>12} {'ratio':>7}  answers")
    failed = False
    for name, mine, theirs in _cases(ours, base):
        wrong = _differ(mine, theirs, dates)
        failed |= wrong > 0
        other = None if args.no_workalendar else _workalendar(name)
        funcs = [mine, theirs] + ([other] if other else [])
        speeds = _medians(funcs, dates, args.rounds)
        row = f"{name:<32} {speeds[0]:>11,.0f} {speeds[1]:>11,.0f} {speeds[0] / speeds[1]:>6.2f}x"
        if other is not None:
            off = _differ(mine, other, dates)
            row += f" {speeds[2]:>12,.0f} {speeds[0] / speeds[2]:>6.1f}x"
            row += f"  baseline: {wrong} differ; workalendar: {off} differ"
        else:
            row += f" {'-':>12} {'-':>7}  baseline: {wrong} differ"
        print(row)
    if failed:
        print("FAIL: edo-rules and the baseline disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
