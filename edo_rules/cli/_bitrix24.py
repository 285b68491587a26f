"""``edo-rules bitrix24 setup --config FILE [--dry-run]``: prepare the portal for the card.

Creates (or, with ``--dry-run``, only lists) the user fields, the smart-process
document register with its relations and stages — whatever the config's
``bitrix24`` section needs (see :mod:`edo_rules.actions.bitrix24.setup`).
Exit status: 0 when done (or nothing to do), 1 when ``--dry-run`` found
something to create or a conflict remains, 2 on errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from edo_rules._messages import t
from edo_rules.actions.bitrix24.setup import Mode, SetupReport
from edo_rules.cli._context import DEFAULT_CONFIG


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bitrix24",
        help="prepare the Bitrix24 portal: card fields, the document register",
        description="Bitrix24 portal commands.",
    )
    commands = parser.add_subparsers(dest="bitrix24_command", metavar="COMMAND", required=True)
    setup = commands.add_parser(
        "setup",
        help="create or check the user fields and the smart process the config needs",
        description="Create, idempotently, what bitrix24.card and bitrix24.mirror need in the "
        "portal; print what was created and what already matched. Running it again reports "
        "'nothing to do'.",
    )
    setup.add_argument(
        "--config", "-c", type=Path, metavar="FILE", help="the config (default: ./edo-rules.yaml)"
    )
    setup.add_argument(
        "--dry-run", action="store_true", help="only list what would be created; write nothing"
    )
    setup.set_defaults(func=_setup)


def _setup(args: argparse.Namespace) -> int:
    config = args.config if args.config is not None else Path(DEFAULT_CONFIG)  # as everywhere
    report = run_setup(config, "plan" if args.dry_run else "apply")
    print_report(report, dry_run=args.dry_run)
    return 1 if report.problems else 0


def run_setup(config_path: Path, mode: Mode) -> SetupReport:
    from edo_rules._messages import msg
    from edo_rules.actions.bitrix24 import make_client
    from edo_rules.actions.bitrix24.setup import setup_portal
    from edo_rules.config import load_config
    from edo_rules.errors import ConfigError, Problem

    config = load_config(config_path)
    if config.bitrix24 is None:
        where = str(config_path)
        required = msg("cfg_no_bitrix24_for_setup")
        raise ConfigError([Problem(where, 1, 1, "bitrix24", required)])
    client = make_client(config.bitrix24)
    try:
        return setup_portal(client, config.bitrix24, mode=mode)
    finally:
        client.close()


def print_report(report: SetupReport, *, dry_run: bool) -> None:
    for step in report.steps:
        print(step)
    for note in report.notes:
        print(t("b24_note", note=note))
    if report.nothing_to_do:
        print(t("b24_nothing_to_do"))
    elif dry_run:
        print(t("b24_dry_run", count=len(report.problems)))
