"""``edo-rules store migrate|copy``: a PostgreSQL store's schema; moving from SQLite to it."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from edo_rules._config_build import RETENTION_DAYS
from edo_rules._messages import t
from edo_rules.cli._context import UsageError
from edo_rules.cli._runner_args import add_config_args, configured


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "store",
        help="maintain the store: migrate a PostgreSQL schema, prune old documents, copy"
        " SQLite into PostgreSQL",
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
    prune = actions.add_parser(
        "prune",
        help="remove closed documents older than the retention, with their history",
        description="Remove the closed documents (signed, revoked, closed) whose last state"
        " is older than --older-than (default store.retention, 365 days), with their status"
        " history, firings, requests and outcomes; a small tombstone per document keeps"
        " any of them from being acted on again. Documents with an action still pending,"
        " in flight or in doubt are kept. Refuses a retention shorter than the longest rule"
        " ladder or the 1C healing window (plus 7 days). A SQLite file is compacted"
        " (VACUUM) when no runner uses it; otherwise its free pages are reused.",
    )
    add_config_args(prune)
    prune.add_argument(
        "--older-than",
        metavar="DAYS",
        help='the horizon in days (365, 365d, "365 дней"); default store.retention',
    )
    prune.add_argument("--dry-run", action="store_true", help="count, remove nothing")
    prune.set_defaults(func=_prune)
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


def _prune(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from edo_rules.runner.retention import prune_store

    with configured(args) as config:
        older_than = None
        if args.older_than is not None:
            older_than = _days(args.older_than)
        report, before = prune_store(
            config, now=datetime.now(UTC), older_than=older_than, dry_run=args.dry_run
        )
    counts = {name: getattr(report, name) for name in _COUNTED}
    key = "prune_dry" if report.dry_run else "prune_done"
    print(t(key, before=f"{before:%Y-%m-%d}", **counts))
    return 0


_COUNTED = ("documents", "events", "firings", "requests", "outcomes")


def _days(text: str) -> timedelta:
    found = RETENTION_DAYS.match(text)
    if found is None:
        raise UsageError(t("prune_bad_days", text=text))
    return timedelta(days=int(found.group(1)))


def _copy(args: argparse.Namespace) -> int:
    from edo_rules.store.copy import copy_store, sqlite_path

    checks = copy_store(sqlite_path(args.source), args.target)
    for check in checks:
        print(t("copy_table", table=check.table, rows=check.rows, sha=check.source_sha256[:16]))
    print(t("copy_done", rows=sum(c.rows for c in checks), tables=len(checks)))
    return 0
