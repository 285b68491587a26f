"""``edo-rules history DOC``: a document's full status history and its firings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import t
from edo_rules._untrusted import printable
from edo_rules.cli._context import CliContext, add_context_args, resolve
from edo_rules.cli._documents import resolve_document
from edo_rules.cli._names import Names, rule_titles
from edo_rules.errors import PlaybookError
from edo_rules.model import Document, Firing, StatusEvent


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="show a document's status history and what fired for it",
        description="Print the document's status events, oldest first (events of the"
        " first sync are marked as history), and every firing recorded for it.",
    )
    parser.add_argument(
        "document", metavar="DOC", help="the document: its number («Договор № 183», 183) or id"
    )
    add_context_args(parser, at=False)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    context = resolve(args)
    store = context.open_store()
    try:
        doc = resolve_document(store, args.document)
        events = store.history(doc.id)
        firings = store.firings_for(doc.id)
    finally:
        store.close()
    if args.json:
        print(json.dumps(history_json(doc, events, firings, context), ensure_ascii=False, indent=2))
    else:
        print("\n".join(_lines(doc, events, firings, context, _rule_names(context))))
    return 0


def _rule_names(context: CliContext) -> Names:
    """Rule titles when the playbooks load; history itself never depends on them."""
    if not all(path.exists() for path in context.playbook_paths):
        return Names()
    try:
        return Names(rule_titles(context.playbooks()))
    except PlaybookError as exc:
        print(t("history_no_titles", count=len(exc.problems)), file=sys.stderr)
        return Names()


def _lines(
    doc: Document,
    events: list[StatusEvent],
    firings: list[Firing],
    context: CliContext,
    names: Names,
) -> list[str]:
    inn = t("history_inn", inn=printable(doc.counterparty.inn)) if doc.counterparty.inn else ""
    lines = [
        t("history_head", title=printable(doc.title), id=printable(doc.id),
          status=show.status(doc.status), status_1c=printable(doc.status_1c)),
        t("history_counterparty", name=printable(doc.counterparty.name)) + inn,
        t("history_events") if events else t("history_no_events"),
    ]  # fmt: skip
    lines += [f"  {_event(event, context)}" for event in events]
    lines += [f"  {_firing(firing, context, names)}" for firing in firings]
    return lines


def _firing(firing: Firing, context: CliContext, names: Names) -> str:
    return t(
        "history_firing",
        verb=t("skipped" if firing.skipped else "fired"),
        rule=names.rule(firing.rule_key),
        step=show.step(firing.step),
        at=show.moment(firing.fired_at, context.zone),
        due=show.moment(firing.due_at, context.zone),
    )


def _event(event: StatusEvent, context: CliContext) -> str:
    source = f"{show.status(event.from_status)} → " if event.from_status is not None else ""
    # What 1C wrote is escaped: a comment's line break must not print a line of its own.
    raw = f" [{printable(event.from_raw or '—')} → {printable(event.to_raw)}]"
    text = f"{show.moment(event.at, context.zone)}  {source}{show.status(event.to_status)}{raw}"
    if event.comment:
        text += f"  «{printable(event.comment)}»"
    if event.actor:
        text += t("event_by", actor=printable(event.actor))
    if event.historical:
        text += t("event_history")
    return text


def history_json(
    doc: Document, events: list[StatusEvent], firings: list[Firing], context: CliContext
) -> dict[str, Any]:
    return {
        "document": document_json(doc, context),
        "events": [
            {
                "at": show.iso(e.at, context.zone),
                "from": e.from_status.value if e.from_status else None,
                "to": e.to_status.value,
                "from_1c": e.from_raw,
                "to_1c": e.to_raw,
                "comment": e.comment,
                "actor": e.actor,
                "historical": e.historical,
            }
            for e in events
        ],
        "firings": [
            {
                "rule": f.rule_key,
                "step": f.step,
                "episode": f.episode,
                "skipped": f.skipped,
                "fired_at": show.iso(f.fired_at, context.zone),
                "due": show.iso(f.due_at, context.zone),
            }
            for f in firings
        ],
    }


def document_json(doc: Document, context: CliContext) -> dict[str, Any]:
    """One document as ``docs --json`` and ``history --json`` print it."""
    return {
        "id": doc.id,
        "title": doc.title,
        "kind": doc.kind.value,
        "number": doc.number,
        "date": doc.date.isoformat() if doc.date else None,
        "status": doc.status.value,
        "status_1c": doc.status_1c,
        "counterparty": {"name": doc.counterparty.name, "inn": doc.counterparty.inn},
        "amount": str(doc.amount) if doc.amount is not None else None,
        "sent_at": show.iso(doc.sent_at, context.zone) if doc.sent_at else None,
    }
