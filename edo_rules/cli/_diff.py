"""``edo-rules diff OLD NEW``: what a playbook edit changes for the documents in the store.

Both versions are simulated over the coming working days on scratch copies of
the store; the report lists the rules that changed, the actions added, removed,
moved in time or sent with other parameters, per rule and per recipient, and
the firings a renamed rule would replay. Exit status: 0 when nothing changes,
1 when something does.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.cli._engine_options import (
    add_store_arg,
    now_or,
    open_existing_store,
    parse_moment,
)
from edo_rules.engine import Engine
from edo_rules.playbook.loader import load_playbooks
from edo_rules.store.base import Store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="what a playbook edit changes: both versions simulated over the store",
        description="Compare two versions of the playbooks (files or folders) over the"
        " documents in the store: both are simulated now and every day at 09:00 for the"
        " next --days working days on scratch copies (the store is not written).",
    )
    parser.add_argument("old", metavar="OLD", help="the running playbooks (a file or a folder)")
    parser.add_argument("new", metavar="NEW", help="the edited playbooks (a file or a folder)")
    parser.add_argument(
        "--config", "-c", type=Path, metavar="FILE", help="store and calendar from this config"
    )
    add_store_arg(parser)
    parser.add_argument(
        "--days", type=int, default=10, metavar="N", help="working days ahead (default 10)"
    )
    parser.add_argument(
        "--at", type=parse_moment, metavar="ISO", help="start at this moment instead of now"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    old, new = load_playbooks([args.old]), load_playbooks([args.new])
    store, calendar = _store_and_calendar(args)
    try:
        diff = Engine(store, old, calendar).diff(new, now_or(args.at), working_days=args.days)
    finally:
        store.close()
    print(diff.render())
    return 0 if diff.unchanged else 1


def _store_and_calendar(args: argparse.Namespace) -> tuple[Store, ProductionCalendar]:
    if args.config is None:
        return open_existing_store(args.store), ProductionCalendar.russia()
    from edo_rules.config import load_config
    from edo_rules.runner.wiring import open_store

    config = load_config(args.config)
    return open_store(config), ProductionCalendar.russia(overrides=config.calendar_override)
