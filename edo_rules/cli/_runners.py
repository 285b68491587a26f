"""``edo-rules runners``: the runners sharing the configured PostgreSQL store."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import msg, t
from edo_rules.cli._runner_args import add_config_args, configured
from edo_rules.errors import EdoRulesError


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
                raise EdoRulesError(msg("runners_sqlite"))
            found = store.runners()
        finally:
            store.close()
    if not found:
        print(t("runners_none"))
        return 0
    headers = tuple(t("runners_headers").split("|"))
    rows = [
        (
            r.id,
            r.host,
            str(r.pid),
            t("runners_alive" if r.alive else "runners_silent"),
            ",".join(r.leases) or "-",
            str(r.claims),
            show.moment(r.seen_at, config.timezone),
        )
        for r in found
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0
