"""``edo-rules agenda [--days N]``: what will fire in the next N working days, day by day.

Built on the engine's simulate path: one tick at the end of every calendar day
(23:59:59 in the configured zone) from today (or ``--at``) through the N-th
working day, on a scratch copy of the store, so ladders, repeats, catch-up,
snoozes and the calendar override count exactly as in the service. The store
is only read.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import date, time
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import t
from edo_rules.cli._context import CliContext, add_context_args, resolve
from edo_rules.cli._names import Names
from edo_rules.cli._simulate import firing_lines, simulation_names
from edo_rules.cli._tick import firing_json
from edo_rules.engine import PlannedFiring, Simulation

_END_OF_DAY = time(23, 59, 59)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "agenda",
        help="what will fire in the next N working days, day by day",
        description="Simulate the coming days on a copy of the store (as `simulate` does)"
        " and list, per day, every firing with its due moment and actions. Counts working"
        " days on the production calendar with the config's override.",
    )
    parser.add_argument(
        "--days", type=_positive, default=5, metavar="N", help="working days ahead (default: 5)"
    )
    add_context_args(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=_run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 250:
        raise argparse.ArgumentTypeError(t("cli_days_range", text=text))
    return value


def _run(args: argparse.Namespace) -> int:
    context = resolve(args)
    start = context.now().astimezone(context.zone).date()
    end = last_day(context, start, args.days)
    store = context.open_store()
    try:
        engine = context.engine(store)
        simulation = engine.simulate(start, end, every="1 day", at=_END_OF_DAY, zone=context.zone)
        names = simulation_names(simulation, engine, store)
    finally:
        store.close()
    days = by_day(simulation, context)
    if args.json:
        print(json.dumps(agenda_json(days, context, names, start, end), ensure_ascii=False,
                         indent=2, default=str))  # fmt: skip
    else:
        print("\n".join(_lines(days, context, names, args.days, (start, end))))
    return 0


def last_day(context: CliContext, start: date, working_days: int) -> date:
    """The date of the N-th working day counting ``start`` itself when it is one."""
    first = start if context.calendar.is_working_day(start) else None
    return context.calendar.add_working_days(start, working_days - (1 if first else 0))


def by_day(simulation: Simulation, context: CliContext) -> dict[date, list[PlannedFiring]]:
    days: dict[date, list[PlannedFiring]] = defaultdict(list)
    for tick in simulation.ticks:
        days[tick.now.astimezone(context.zone).date()].extend(tick.fired)
    return {day: fired for day, fired in sorted(days.items()) if fired}


def agenda_json(
    days: dict[date, list[PlannedFiring]],
    context: CliContext,
    names: Names,
    start: date,
    end: date,
) -> dict[str, Any]:
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": [
            {
                "date": day.isoformat(),
                "working": context.calendar.is_working_day(day),
                "fired": [firing_json(p, context, names) for p in fired],
            }
            for day, fired in days.items()
        ],
    }


def _lines(
    days: dict[date, list[PlannedFiring]],
    context: CliContext,
    names: Names,
    n: int,
    span: tuple[date, date],
) -> list[str]:
    start, end = span
    if not days:
        return [t("agenda_nothing", days=n, start=show.day(start))]
    lines: list[str] = []
    for day, fired in days.items():
        lines.append(t("agenda_day", day=show.day(day), count=len(fired)))
        for planned in fired:
            lines += firing_lines(planned, context, names)
    total = sum(len(fired) for fired in days.values())
    lines.append(t("agenda_summary", days=n, start=show.day(start), end=show.day(end), total=total))
    return lines
