"""``edo-rules history DOC_ID``: a document's full status history and its firings."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.cli._engine_options import add_store_arg, open_existing_store
from edo_rules.errors import StoreError
from edo_rules.model import StatusEvent


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="show a document's status history and what fired for it",
        description="Print the document's status events, oldest first (events of the"
        " first sync are marked as history), and every firing recorded for it.",
    )
    parser.add_argument("document_id", metavar="DOC_ID", help="the document id (1C Ref_Key)")
    add_store_arg(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    with open_existing_store(args.store) as store:
        doc = store.get_document(args.document_id)
        if doc is None:
            raise StoreError(
                f"no document with id {args.document_id!r} in {args.store}."
                "\nWhat to do: check the id (1C Ref_Key); run a sync if it is new."
            )
        events = store.history(doc.id)
        firings = store.firings_for(doc.id)
    print(f"{doc.title} (id {doc.id}): {doc.status.value} ({doc.status_1c})")
    print(
        f"counterparty: {doc.counterparty.name}"
        + (f", INN {doc.counterparty.inn}" if doc.counterparty.inn else "")
    )
    print("status history:" if events else "status history: none recorded")
    for event in events:
        print(f"  {_event(event)}")
    for firing in firings:
        verb = "skipped" if firing.skipped else "fired"
        print(
            f"  {verb} {firing.rule_key} {firing.step} at {firing.fired_at.isoformat()}"
            f" (due {firing.due_at.isoformat()})"
        )
    return 0


def _event(event: StatusEvent) -> str:
    source = f"{event.from_status.value} → " if event.from_status is not None else ""
    raw = f" [{event.from_raw or '—'} → {event.to_raw}]"
    text = f"{event.at.isoformat()}  {source}{event.to_status.value}{raw}"
    if event.comment:
        text += f"  «{event.comment}»"
    if event.actor:
        text += f"  by {event.actor}"
    if event.historical:
        text += "  (history from the first sync)"
    return text
