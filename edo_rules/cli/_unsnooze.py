"""``edo-rules unsnooze ID``: end a snooze now; what it held back fires at the next tick."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules._messages import t
from edo_rules.cli._context import add_context_args, resolve
from edo_rules.cli._snooze import render_snoozes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "unsnooze",
        help="end a snooze early (ids: `edo-rules snooze --list`)",
        description="End the snooze now (or at --at). What became due while it was active"
        " fires at the next tick, per each rule's catch_up.",
    )
    parser.add_argument("snooze_id", type=int, metavar="ID", help="the snooze id")
    add_context_args(parser, playbooks=False)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    context = resolve(args)
    now = context.now()
    store = context.open_store()
    try:
        snooze = store.end_snooze(args.snooze_id, now)
    finally:
        store.close()
    print(render_snoozes([snooze], now, context))
    print(t("unsnooze_was_over") if snooze.until < now else t("unsnoozed"))
    return 0
