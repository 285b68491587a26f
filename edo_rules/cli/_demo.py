"""``edo-rules demo``: a simulated month on the bundled emulators (nothing leaves 127.0.0.1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edo_rules._messages import t


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="watch a simulated month: 1C and Bitrix24 emulators, the bundled playbooks",
        description="Start the 1C and Bitrix24 emulators on 127.0.0.1, seed a company "
        "(managers in departments, customers with ИНН and deals), and run the bundled "
        "playbooks over simulated working days: every day 1C sends documents and customers "
        "sign, reject or stay silent; the timeline shows which rules fired and what was done "
        "in Bitrix24. Takes well under a minute; nothing leaves this machine.",
    )
    parser.add_argument(
        "--days", type=_positive_int, default=22, help="working days to simulate (default: 22)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="random seed: the same seed replays the same month"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=0.0,
        metavar="DAYS_PER_SECOND",
        help="simulated days per second, to watch it unfold (default: 0, as fast as possible)",
    )
    parser.add_argument(
        "--store",
        type=Path,
        metavar="PATH",
        help="keep the SQLite store (and the demo's config) here instead of a temporary folder",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="error",
        help="also log the runner's own messages at this level (default: error)",
    )
    parser.add_argument(
        "--serve",
        nargs="?",
        const="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="after the month, keep the web dashboard open on the demo's data and print its "
        "URL (default 127.0.0.1:8080; stop with Ctrl-C)",
    )
    parser.set_defaults(func=_run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(t("cli_at_least_one", text=text))
    return value


def _run(args: argparse.Namespace) -> int:
    from edo_rules.demo import DemoOptions, run_demo
    from edo_rules.runner.logs import remove_logging, setup_logging

    handler = setup_logging(level=args.log_level)
    try:
        options = DemoOptions(
            days=args.days, seed=args.seed, speed=args.speed, store=args.store, serve=args.serve
        )
        result = run_demo(options, sys.stdout)
    finally:
        remove_logging(handler)
    return 0 if result.actions_failed == 0 else 1
