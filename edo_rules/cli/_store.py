"""``edo-rules store migrate``: bring a PostgreSQL store's schema up to this version."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.cli._runner_args import add_config_args, configured


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "store",
        help="maintain the store: migrate a PostgreSQL schema",
        description="Store maintenance. `migrate` applies the schema migrations this"
        " edo-rules knows to the configured PostgreSQL store (a SQLite file migrates"
        " itself when opened). Stop the runners first; they refuse a schema newer"
        " than they know.",
    )
    actions = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    migrate = actions.add_parser(
        "migrate",
        help="apply the schema migrations to the configured store",
        description="Apply the schema migrations to the store of --config.",
    )
    add_config_args(migrate)
    migrate.set_defaults(func=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from edo_rules.runner.wiring import migrate_store

    with configured(args) as config:
        print(migrate_store(config))
    return 0
