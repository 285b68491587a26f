"""``edo-rules simulate``: run the playbooks over a date range on a copy of the store.

Like ``promtool test rules`` / ``elastalert-test-rule --start/--end``: each
moment (every day at 09:00 in the configured zone by default) is a recorded
tick on a temporary copy, so ladders, repeats and catch-up progress as they
would in the service; the real store is only read. Prints a day-by-day timeline.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import t
from edo_rules.cli._context import CliContext, add_context_args, resolve
from edo_rules.cli._documents import resolve_document
from edo_rules.cli._names import Names, document_titles, rule_titles
from edo_rules.cli._tick import firing_json
from edo_rules.engine import Engine, EvaluationResult, PlannedFiring, Simulation
from edo_rules.store.base import Store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="run the playbooks over a date range on a copy of the store (a timeline)",
        description="Evaluate the playbooks at successive moments from --from to --to"
        " (every day at 09:00 in the config's timezone, or --every) on a temporary copy"
        " of the store, as the service would tick, and print what fires day by day. The"
        " store itself is never written.",
    )
    add_context_args(parser, at=False)
    parser.add_argument(
        "--from", dest="start", required=True, type=parse_day, metavar="DATE", help="first day"
    )
    parser.add_argument(
        "--to", dest="end", required=True, type=parse_day, metavar="DATE", help="last day"
    )
    parser.add_argument(
        "--every",
        default="1 day",
        metavar="DURATION",
        help='the step: "1 day" (at 09:00, the default), "1 working day", "1 hour", …',
    )
    parser.add_argument(
        "--document", metavar="DOC", help="show only this document (its number or id)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a timeline")
    parser.set_defaults(func=_run)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(t("cli_bad_day", text=text)) from None


def _run(args: argparse.Namespace) -> int:
    context = resolve(args)
    store = context.open_store()
    try:
        document_id = resolve_document(store, args.document).id if args.document else None
        engine = context.engine(store)
        simulation = engine.simulate(args.start, args.end, every=args.every, zone=context.zone)
        names = simulation_names(simulation, engine, store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(simulation_json(simulation, context, names, document_id),
                         ensure_ascii=False, indent=2, default=str))  # fmt: skip
    else:
        print(render_timeline(simulation, context, names, document_id))
    return 0


def simulation_names(simulation: Simulation, engine: Engine, store: Store) -> Names:
    """Titles of the rules and of every document the simulation touched."""
    ids: set[str] = set()
    for tick in simulation.ticks:
        ids |= {p.firing.document_id for p in tick.fired}
        ids |= {f.document_id for f in tick.skipped} | {f.document_id for f in tick.failures}
    return Names(rule_titles(engine.playbooks), document_titles(store, ids))


def simulation_json(
    simulation: Simulation, context: CliContext, names: Names, document_id: str | None = None
) -> dict[str, Any]:
    return {
        "from": simulation.start.isoformat(),
        "to": simulation.end.isoformat(),
        "moments": [
            {
                "at": show.iso(tick.now, context.zone),
                "fired": [
                    firing_json(p, context, names)
                    for p in tick.fired
                    if document_id in (None, p.firing.document_id)
                ],
            }
            for tick in simulation.ticks
        ],
    }


def render_timeline(
    simulation: Simulation, context: CliContext, names: Names, document_id: str | None = None
) -> str:
    """Moments with something fired, skipped or failed, then a summary line."""
    lines: list[str] = []
    for tick in simulation.ticks:
        block = _moment_lines(tick, context, names, document_id)
        if block:
            lines += [show.moment(tick.now, context.zone), *block]
    if not lines:
        lines.append(t("sim_nothing"))
    total = sum(
        1
        for tick in simulation.ticks
        for planned in tick.fired
        if document_id in (None, planned.firing.document_id)
    )
    scope = "" if document_id is None else t("sim_scope", doc=names.doc(document_id))
    lines.append(
        t("sim_summary", moments=len(simulation.ticks), start=show.day(simulation.start),
          end=show.day(simulation.end), scope=scope, total=total)
    )  # fmt: skip
    return "\n".join(lines)


def _moment_lines(
    tick: EvaluationResult, context: CliContext, names: Names, document_id: str | None
) -> list[str]:
    def mine(doc: str) -> bool:
        return document_id is None or doc == document_id

    lines: list[str] = []
    for planned in tick.fired:
        if mine(planned.firing.document_id):
            lines += firing_lines(planned, context, names)
    lines += [
        f"  {t('sim_skip')}  {names.rule(f.rule_key)}  {names.doc(f.document_id)}"
        f"  {show.step(f.step)}"
        f"  {t('sim_catch_up')}"
        for f in tick.skipped
        if mine(f.document_id)
    ]
    lines += [
        f"  {t('sim_fail')}  {names.rule(f.rule_key)}  {names.doc(f.document_id)}: {f.message}"
        for f in tick.failures
        if mine(f.document_id)
    ]
    return lines


def firing_lines(planned: PlannedFiring, context: CliContext, names: Names) -> list[str]:
    """``fire rule doc step (due …)`` and, under it, each action with its parameters."""
    firing = planned.firing
    due = t("sim_due", due=show.moment(firing.due_at, context.zone))
    head = (
        f"  {t('sim_fire')}  {names.rule(firing.rule_key)}  {names.doc(firing.document_id)}"
        f"  {show.step(firing.step)}  ({due})"
    )
    actions = [
        f"          {request.action} {json.dumps(request.params, ensure_ascii=False, default=str)}"
        for request in planned.requests
    ]
    return [head, *actions]
