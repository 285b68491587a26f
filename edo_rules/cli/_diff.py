"""``edo-rules diff OLD NEW``: what a playbook edit changes for the documents in the store.

Both versions are simulated over the coming working days on scratch copies of
the store; the report lists the rules that changed, the actions added, removed,
moved in time or sent with other parameters, per rule and per recipient, and
the firings a renamed rule would replay. Exit status: 0 when nothing changes,
1 when something does.
"""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.cli._context import add_context_args, resolve
from edo_rules.engine import Engine
from edo_rules.playbook.loader import load_playbooks


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
    add_context_args(parser, playbooks=False)
    parser.add_argument(
        "--days", type=int, default=10, metavar="N", help="working days ahead (default 10)"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    old, new = load_playbooks([args.old]), load_playbooks([args.new])
    context = resolve(args)  # store, calendar (with the override), zone and --at as everywhere
    store = context.open_store()
    try:
        go_live = context.config.go_live if context.config is not None else None
        engine = Engine(store, old, context.calendar, go_live=go_live)
        diff = engine.diff(new, context.now(), working_days=args.days)
    finally:
        store.close()
    print(diff.render())
    return 0 if diff.unchanged else 1
