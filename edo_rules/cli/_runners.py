"""``edo-rules runners``: the runners sharing the configured PostgreSQL store."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.cli._runner_args import add_config_args, configured
from edo_rules.errors import EdoRulesError

_HEADERS = ("runner", "host", "pid", "state", "holds", "claims", "last seen")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "runners",
        help="list the runners sharing the PostgreSQL store, what each holds",
        description="The runners that share the store of --config (PostgreSQL): each one's"
        " id, host and process, whether its heartbeat is recent, the leases it holds"
        " (sync) and how many outbox requests it is sending.",
    )
    add_config_args(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from edo_rules.runner.wiring import open_store
    from edo_rules.store.shared import SharedStore

    with configured(args) as config:
        store = open_store(config)
        try:
            if not isinstance(store, SharedStore):
                raise EdoRulesError(
                    "the store is a SQLite file: one runner uses it (see the lock file);"
                    " several runners need store.dsn (PostgreSQL, docs/postgres.md)"
                )
            found = store.runners()
        finally:
            store.close()
    if not found:
        print("no runner is registered in the store")
        return 0
    rows = [
        (
            r.id,
            r.host,
            str(r.pid),
            "alive" if r.alive else "silent",
            ",".join(r.leases) or "-",
            str(r.claims),
            r.seen_at.isoformat(timespec="seconds"),
        )
        for r in found
    ]
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
    for row in [_HEADERS, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0
