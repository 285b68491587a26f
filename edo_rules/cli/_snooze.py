"""``edo-rules snooze``: pause one document (for one rule or all) for a while; ``--list``.

The end is counted like a rule's duration ("5 working days" with the
production calendar). Nothing that becomes due meanwhile is lost: it fires
when the snooze ends, per the rule's ``catch_up``. ``edo-rules unsnooze ID``
ends a snooze early.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.cli._engine_options import (
    DEFAULT_ZONE,
    add_engine_args,
    now_or,
    open_existing_store,
)
from edo_rules.engine import Engine
from edo_rules.errors import EdoRulesError
from edo_rules.playbook.loader import load_playbooks
from edo_rules.store.base import Snooze

_HEADERS = ("id", "document", "rule", "until", "state", "reason")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "snooze",
        help="pause a document (for one rule or all) for N working days; --list the snoozes",
        description="While a snooze is active the engine fires nothing for the document"
        " (for --rule only, or for every rule). What becomes due meanwhile fires when the"
        " snooze ends, per the rule's catch_up, as after downtime. `edo-rules unsnooze ID`"
        " ends a snooze early.",
    )
    parser.add_argument("document_id", nargs="?", metavar="DOC_ID", help="the document id")
    parser.add_argument(
        "--for",
        dest="duration",
        metavar="DURATION",
        help='how long: "5 working days", "3 рабочих дня", "2 days", "4 hours"',
    )
    parser.add_argument("--rule", metavar="PLAYBOOK/RULE", help="snooze only this rule")
    parser.add_argument("--reason", metavar="TEXT", help="why (shown by --list and explain)")
    parser.add_argument(
        "--list", action="store_true", help="list the active snoozes instead (--all: every one)"
    )
    parser.add_argument("--all", action="store_true", help="with --list: ended snoozes too")
    add_engine_args(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    now = now_or(args.at)
    if args.list:
        with open_existing_store(args.store) as store:
            found = store.snoozes(active_at=None if args.all else now)
        print(render_snoozes(found, now, empty="no snoozes" if args.all else "no active snoozes"))
        return 0
    if args.document_id is None or args.duration is None:
        raise EdoRulesError(
            "snooze needs a document and a duration, e.g."
            ' `edo-rules snooze DOC_ID --for "5 working days"` (or --list).'
        )
    playbooks = load_playbooks([args.playbooks]) if args.rule else ()
    with open_existing_store(args.store) as store:
        engine = Engine(store, playbooks, ProductionCalendar.russia())
        snooze = engine.snooze(
            args.document_id, args.duration, now, rule_key=args.rule, reason=args.reason
        )
    print(
        f"snoozed {snooze.document_id} ({_scope(snooze)}) until {_moment(snooze.until)}"
        f" (snooze #{snooze.id}); what becomes due meanwhile fires when it ends"
    )
    return 0


def _scope(snooze: Snooze) -> str:
    return "every rule" if snooze.rule_key is None else f"rule {snooze.rule_key}"


def _moment(moment: datetime) -> str:
    return f"{moment.astimezone(DEFAULT_ZONE):%a %d.%m.%Y %H:%M %z}"


def render_snoozes(snoozes: list[Snooze], now: datetime, empty: str = "no snoozes") -> str:
    """The snoozes as an aligned table (or ``empty`` when there is none)."""
    if not snoozes:
        return empty
    rows = [
        (
            str(s.id),
            s.document_id,
            s.rule_key or "(every rule)",
            _moment(s.until),
            "active" if s.active_at(now) else "ended",
            s.reason or "",
        )
        for s in snoozes
    ]
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(_HEADERS), line(tuple("-" * w for w in widths)), *map(line, rows)])
