"""``edo-rules snooze``: pause one document (for one rule or all) for a while; ``--list``.

The end is counted like a rule's duration ("5 working days" with the
production calendar and the config's override). Nothing that becomes due
meanwhile is lost: it fires when the snooze ends, per the rule's ``catch_up``.
``edo-rules unsnooze ID`` ends a snooze early.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import t
from edo_rules.cli._context import CliContext, add_context_args, resolve
from edo_rules.cli._documents import resolve_document
from edo_rules.cli._names import document_titles
from edo_rules.cli._tick import table
from edo_rules.errors import EdoRulesError
from edo_rules.store.base import Snooze


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "snooze",
        help="pause a document (for one rule or all) for N working days; --list the snoozes",
        description="While a snooze is active the engine fires nothing for the document"
        " (for --rule only, or for every rule). What becomes due meanwhile fires when the"
        " snooze ends, per the rule's catch_up, as after downtime. `edo-rules unsnooze ID`"
        " ends a snooze early.",
    )
    parser.add_argument("document", nargs="?", metavar="DOC", help="the document: its number or id")
    parser.add_argument(
        "--for",
        dest="duration",
        metavar="DURATION",
        help='how long: "5 working days", "3 рабочих дня", "2 days", "4 hours"',
    )
    parser.add_argument("--rule", metavar="PLAYBOOK/RULE", help="snooze only this rule")
    parser.add_argument("--reason", metavar="TEXT", help="why (shown by --list and explain)")
    parser.add_argument(
        "--list", action="store_true", help="list the active snoozes instead (--all: every one)"
    )
    parser.add_argument("--all", action="store_true", help="with --list: ended snoozes too")
    parser.add_argument("--json", action="store_true", help="with --list: print JSON")
    add_context_args(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    context = resolve(args)
    now = context.now()
    if args.list:
        return _list(args, context, now)
    if args.document is None or args.duration is None:
        raise EdoRulesError(t("snooze_needs"))
    store = context.open_store()
    try:
        doc = resolve_document(store, args.document)
        engine = context.engine(store, playbooks=bool(args.rule))
        snooze = engine.snooze(doc.id, args.duration, now, rule_key=args.rule, reason=args.reason)
    finally:
        store.close()
    print(
        t("snoozed", doc=f"{doc.title} ({doc.id})", scope=_scope(snooze),
          until=show.moment(snooze.until, context.zone), id=snooze.id)
    )  # fmt: skip
    return 0


def _list(args: argparse.Namespace, context: CliContext, now: datetime) -> int:
    store = context.open_store()
    try:
        found = store.snoozes(active_at=None if args.all else now)
        titles = document_titles(store, [s.document_id for s in found])
    finally:
        store.close()
    if args.json:
        print(json.dumps([snooze_json(s, now, context) for s in found], ensure_ascii=False,
                         indent=2))  # fmt: skip
        return 0
    empty = t("snooze_none") if args.all else t("snooze_none_active")
    print(render_snoozes(found, now, context, empty=empty, titles=titles))
    return 0


def _scope(snooze: Snooze) -> str:
    if snooze.rule_key is None:
        return t("snooze_scope_all")
    return t("snooze_scope_rule", rule=snooze.rule_key)


def snooze_json(snooze: Snooze, now: datetime, context: CliContext) -> dict[str, Any]:
    return {
        "id": snooze.id,
        "document": snooze.document_id,
        "rule": snooze.rule_key,
        "until": show.iso(snooze.until, context.zone),
        "active": snooze.active_at(now),
        "reason": snooze.reason,
    }


def render_snoozes(
    snoozes: list[Snooze],
    now: datetime,
    context: CliContext,
    empty: str | None = None,
    titles: dict[str, str] | None = None,
) -> str:
    """The snoozes as an aligned table (or ``empty`` when there is none)."""
    if not snoozes:
        return empty or t("snooze_none")
    rows = [
        (
            str(s.id),
            (titles or {}).get(s.document_id, s.document_id),
            s.rule_key or t("snooze_every_rule"),
            show.moment(s.until, context.zone),
            t("snooze_active") if s.active_at(now) else t("snooze_ended"),
            s.reason or "",
        )
        for s in snoozes
    ]
    return "\n".join(table(t("snooze_headers").split("|"), rows))
