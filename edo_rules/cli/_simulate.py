"""``edo-rules simulate``: run the playbooks over a date range on a copy of the store.

Like ``promtool test rules`` / ``elastalert-test-rule --start/--end``: each
moment (every day at 09:00 Moscow time by default) is a recorded tick on a
temporary copy, so ladders, repeats and catch-up progress as they would in the
service; the real store is only read. Prints a day-by-day timeline.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.cli._engine_options import (
    add_playbooks_arg,
    add_store_arg,
    open_existing_store,
)
from edo_rules.engine import Engine, EvaluationResult, PlannedFiring, Simulation
from edo_rules.playbook.loader import load_playbooks


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="run the playbooks over a date range on a copy of the store (a timeline)",
        description="Evaluate the playbooks at successive moments from --from to --to"
        " (every day at 09:00 Moscow time, or --every) on a temporary copy of the store,"
        " as the service would tick, and print what fires day by day. The store itself"
        " is never written.",
    )
    add_store_arg(parser)
    add_playbooks_arg(parser)
    parser.add_argument(
        "--from", dest="start", required=True, type=_day, metavar="DATE", help="first day"
    )
    parser.add_argument(
        "--to", dest="end", required=True, type=_day, metavar="DATE", help="last day"
    )
    parser.add_argument(
        "--every",
        default="1 day",
        metavar="DURATION",
        help='the step: "1 day" (at 09:00, the default), "1 working day", "1 hour", …',
    )
    parser.add_argument("--document", metavar="DOC_ID", help="show only this document's firings")
    parser.set_defaults(func=_run)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (expected e.g. 2024-04-26)"
        ) from None


def _run(args: argparse.Namespace) -> int:
    playbooks = load_playbooks([args.playbooks])
    with open_existing_store(args.store) as store:
        engine = Engine(store, playbooks, ProductionCalendar.russia())
        simulation = engine.simulate(args.start, args.end, every=args.every)
    print(render_timeline(simulation, args.document))
    return 0


def render_timeline(simulation: Simulation, document_id: str | None = None) -> str:
    """Moments with something fired, skipped or failed, then a summary line."""
    lines: list[str] = []
    for tick in simulation.ticks:
        block = _moment_lines(tick, document_id)
        if block:
            lines += [f"{tick.now:%Y-%m-%d %a %H:%M %z}", *block]
    if not lines:
        lines.append("nothing fires")
    total = sum(
        1
        for tick in simulation.ticks
        for planned in tick.fired
        if document_id in (None, planned.firing.document_id)
    )
    scope = "" if document_id is None else f" for document {document_id}"
    lines.append(
        f"simulated {len(simulation.ticks)} moment(s) from {simulation.start} to"
        f" {simulation.end}{scope}: {total} firing(s); the store was not changed"
    )
    return "\n".join(lines)


def _moment_lines(tick: EvaluationResult, document_id: str | None) -> list[str]:
    def mine(doc: str) -> bool:
        return document_id is None or doc == document_id

    lines: list[str] = []
    for planned in tick.fired:
        if mine(planned.firing.document_id):
            lines += _firing_lines(planned)
    lines += [
        f"  skip  {f.rule_key}  {f.document_id}  {f.step}  (catch-up)"
        for f in tick.skipped
        if mine(f.document_id)
    ]
    lines += [
        f"  fail  {f.rule_key}  {f.document_id}: {f.message}"
        for f in tick.failures
        if mine(f.document_id)
    ]
    return lines


def _firing_lines(planned: PlannedFiring) -> list[str]:
    firing = planned.firing
    head = (
        f"  fire  {firing.rule_key}  {firing.document_id}  {firing.step}"
        f"  (due {firing.due_at:%Y-%m-%d %H:%M})"
    )
    actions = [
        f"          {request.action} {json.dumps(request.params, ensure_ascii=False, default=str)}"
        for request in planned.requests
    ]
    return [head, *actions]
