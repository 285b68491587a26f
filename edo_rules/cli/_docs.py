"""``edo-rules docs``: find documents by number, ИНН, counterparty or status."""

from __future__ import annotations

import argparse
import json
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import t
from edo_rules._untrusted import printable
from edo_rules.cli._context import UsageError, add_context_args, resolve
from edo_rules.cli._documents import DocumentQuery, find_documents
from edo_rules.cli._history import document_json
from edo_rules.cli._tick import table
from edo_rules.model import Status


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "docs",
        help="find documents by number, ИНН, counterparty or status",
        description="List the documents in the store that match every filter given. The"
        " id or the number shown can be given to explain, history, snooze and simulate.",
    )
    parser.add_argument("--number", metavar="N", help="the document number, e.g. 183")
    parser.add_argument("--inn", metavar="ИНН", help="the counterparty's ИНН")
    parser.add_argument(
        "--counterparty", metavar="TEXT", help="part of the counterparty's name (any case)"
    )
    parser.add_argument("--status", choices=[s.value for s in Status], help="the canonical status")
    parser.add_argument("--all", action="store_true", help="every document (no filter)")
    add_context_args(parser, playbooks=False, at=False)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    query = DocumentQuery(
        number=args.number,
        inn=args.inn,
        counterparty=args.counterparty,
        status=Status(args.status) if args.status else None,
    )
    if query == DocumentQuery() and not args.all:
        raise UsageError(t("docs_needs_filter"))
    context = resolve(args)
    store = context.open_store()
    try:
        found = find_documents(store, query)
    finally:
        store.close()
    if args.json:
        print(json.dumps([document_json(d, context) for d in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print(t("docs_none"))
        return 0
    rows = [
        (
            printable(d.id),
            printable(d.number),
            d.kind.value,
            d.date.strftime("%d.%m.%Y") if d.date else "",
            show.status(d.status),
            printable(d.counterparty.name),  # from 1C: one row stays one line
            printable(d.counterparty.inn or ""),
            str(d.amount) if d.amount is not None else "",
        )
        for d in found
    ]
    print(
        "\n".join([*table(t("docs_headers").split("|"), rows), t("docs_count", count=len(found))])
    )
    return 0
