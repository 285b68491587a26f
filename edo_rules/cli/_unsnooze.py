"""``edo-rules unsnooze ID``: end a snooze now; what it held back fires at the next tick."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.cli._engine_options import add_store_arg, now_or, open_existing_store, parse_moment
from edo_rules.cli._snooze import render_snoozes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "unsnooze",
        help="end a snooze early (ids: `edo-rules snooze --list`)",
        description="End the snooze now (or at --at). What became due while it was active"
        " fires at the next tick, per each rule's catch_up.",
    )
    parser.add_argument("snooze_id", type=int, metavar="ID", help="the snooze id")
    add_store_arg(parser)
    parser.add_argument(
        "--at", type=parse_moment, metavar="ISO", help="end it at this moment instead of now"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    now = now_or(args.at)
    with open_existing_store(args.store) as store:
        snooze = store.end_snooze(args.snooze_id, now)
    print(render_snoozes([snooze], now))
    if snooze.until < now:
        print("it had already ended")
    else:
        print("ended: what it held back fires at the next tick")
    return 0
