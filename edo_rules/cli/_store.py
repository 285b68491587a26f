"""``edo-rules store migrate|copy``: a PostgreSQL store's schema; moving from SQLite to it."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.cli._runner_args import add_config_args, configured


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "store",
        help="maintain the store: migrate a PostgreSQL schema, copy SQLite into PostgreSQL",
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
    copy = actions.add_parser(
        "copy",
        help="copy a SQLite store into an empty PostgreSQL database, verified",
        description="Copy every table of a SQLite store (documents, history, ledger,"
        " outbox with its states, outcomes, snoozes, cursors, sync state) into an empty"
        " PostgreSQL database, then compare each table's row count and SHA-256 on both"
        " sides. Stop the runner first. A password is best given in PGPASSWORD or"
        " ~/.pgpass rather than on the command line.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="sqlite:///PATH")
    copy.add_argument("--to", dest="target", required=True, metavar="postgresql://…")
    copy.set_defaults(func=_copy)


def _migrate(args: argparse.Namespace) -> int:
    from edo_rules.runner.wiring import migrate_store

    with configured(args) as config:
        print(migrate_store(config))
    return 0


def _copy(args: argparse.Namespace) -> int:
    from edo_rules.store.copy import copy_store, sqlite_path

    checks = copy_store(sqlite_path(args.source), args.target)
    for check in checks:
        print(f"{check.table:16} {check.rows:>10} rows  sha256 {check.source_sha256[:16]}  same")
    print(
        f"copied {sum(c.rows for c in checks)} rows in {len(checks)} tables; every checksum matches"
    )
    return 0
