"""``edo-rules report --by manager|company|kind``: the dashboard's tables in the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edo_rules._messages import msg
from edo_rules.cli._runner_args import add_config_args, configured
from edo_rules.errors import EdoRulesError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="print unsigned/overdue/time-to-sign by manager, company or kind",
        description="Print the dashboard's breakdown (documents, unsigned, overdue, median and "
        "90th percentile working days to signature, rejections) for cron e-mails and scripts.",
    )
    add_config_args(parser)
    parser.add_argument("--by", choices=("manager", "company", "kind"), default="manager")
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text")
    parser.add_argument("--manager", help="only this manager's documents")
    parser.add_argument("--from", dest="period_from", metavar="YYYY-MM-DD")
    parser.add_argument("--to", dest="period_to", metavar="YYYY-MM-DD")
    parser.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from edo_rules.calendar import ProductionCalendar
    from edo_rules.runner.app import wall_clock
    from edo_rules.web._dashboard import context
    from edo_rules.web._filters import Filters
    from edo_rules.web._pages import breakdown_table
    from edo_rules.web._sql import SQLiteReader, dialect_for
    from edo_rules.web._tables import text_table

    with configured(args) as config:
        if config.store.path is None:
            raise EdoRulesError(msg("report_needs_sqlite", file=config.file))
        now = wall_clock()
        overdue = config.dashboard.overdue_after if config.dashboard else 3
        calendar = ProductionCalendar.russia(overrides=config.calendar_override)
        ctx = context(
            SQLiteReader(config.store.path, calendar),
            dialect_for(config.timezone, now),
            calendar,
            now,
            config.timezone,
            overdue,
        )
        query = {
            "manager": args.manager or "",
            "from": args.period_from or "",
            "to": args.period_to or "",
        }
        table = breakdown_table(ctx, Filters.parse(query), args.by)
    if args.format == "json":
        print(json.dumps(table.as_json(), ensure_ascii=False, default=str, indent=1))
    elif args.format == "csv":
        sys.stdout.write(table.csv().lstrip("\ufeff"))
    else:
        print(text_table(table))
    return 0
