"""``edo-rules golive``: what the first real tick would send, before it sends anything.

Evaluates the config's playbooks on its store at now (or ``--at``) without
recording anything and prints the messages per recipient and per rule, the
first examples, and the documents the go-live moment keeps quiet.
``--go-live`` tries a moment before writing it into the config.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.cli._engine_options import now_or, open_existing_store, parse_moment
from edo_rules.cli._runner_args import add_log_args, configured
from edo_rules.config import Config
from edo_rules.engine import Engine
from edo_rules.playbook.loader import load_playbooks
from edo_rules.runner._recipients import bitrix24_recipients
from edo_rules.store.base import Store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "golive",
        help="preview what the first real tick would send (nothing is recorded)",
        description="Evaluate the config's playbooks on its store without recording anything"
        " and show the messages per recipient and per rule, the first examples and the"
        " documents left alone because they started before go_live.",
    )
    parser.add_argument("--config", "-c", required=True, metavar="FILE", help="edo-rules.yaml")
    parser.add_argument(
        "--at", type=parse_moment, metavar="ISO", help="preview at this moment instead of now"
    )
    parser.add_argument(
        "--go-live",
        type=parse_moment,
        metavar="ISO",
        help="try this go-live moment instead of the config's go_live",
    )
    parser.add_argument(
        "--examples", type=int, default=10, metavar="N", help="how many examples to list"
    )
    parser.add_argument(
        "--as-written",
        action="store_true",
        help="show recipients as the playbooks name them instead of asking Bitrix24 who they are",
    )
    add_log_args(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    with configured(args) as loaded:
        config = loaded if args.go_live is None else replace(loaded, go_live=args.go_live)
        calendar = ProductionCalendar.russia(overrides=config.calendar_override)
        playbooks = load_playbooks(config.playbooks)
        store = _existing_store(config)
        closers = [store.close]
        try:
            namer = None
            if config.bitrix24 is not None and not args.as_written:
                namer, close = bitrix24_recipients(config.bitrix24, store, now=_utc_now)
                closers.append(close)
            engine = Engine(store, playbooks, calendar, go_live=config.go_live)
            at = now_or(args.at).astimezone(config.timezone)
            result = engine.preview(at, examples=args.examples, recipients=namer)
        finally:
            for close in reversed(closers):
                close()
    print(result.render(limit=args.examples))
    return 0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _existing_store(config: Config) -> Store:
    """The config's store, which must exist: a preview never creates one."""
    from edo_rules.runner.wiring import open_store

    if config.store.path is not None:
        return open_existing_store(str(config.store.path))
    return open_store(config)
