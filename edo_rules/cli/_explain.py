"""``edo-rules explain DOC``: why each rule fires or not for one document (id or number)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from edo_rules import _display as show
from edo_rules.cli._context import CliContext, add_context_args, resolve
from edo_rules.cli._documents import resolve_document
from edo_rules.cli._explain_text import render
from edo_rules.engine import Explanation, RuleExplanation


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain, for one document, why each rule fires or not",
        description="For every rule: whether the document matches (and which condition"
        " fails, with the values), each step's due moment with the working-day"
        " arithmetic, and what already fired. Reads only; records nothing.",
    )
    parser.add_argument(
        "document", metavar="DOC", help="the document: its number («Договор № 183», 183) or id"
    )
    add_context_args(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    context = resolve(args)
    store = context.open_store()
    try:
        doc = resolve_document(store, args.document)
        explanation = context.engine(store).explain(doc.id, context.now())
    finally:
        store.close()
    if args.json:
        print(json.dumps(explanation_json(explanation, context), ensure_ascii=False, indent=2))
    else:
        print(render(explanation, context.zone))
    return 0


def explanation_json(explanation: Explanation, context: CliContext) -> dict[str, Any]:
    doc = explanation.document
    return {
        "document": {"id": doc.id, "title": doc.title, "status": doc.status.value},
        "at": show.iso(explanation.now, context.zone),
        "rules": [_rule_json(rule, context) for rule in explanation.rules],
        "counterparty_stats": _stats_json(getattr(explanation, "counterparty", None)),
    }


def _stats_json(stats: Any) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {
        "inn": stats.inn,
        "signed": stats.signed,
        "median_working_days": stats.median_working_days,
        "p90_working_days": stats.p90_working_days,
        "rejections": stats.rejections,
    }


def _rule_json(rule: RuleExplanation, context: CliContext) -> dict[str, Any]:
    return {
        "rule": rule.rule_key,
        "description": rule.description,
        "matches": rule.matches,
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in rule.checks],
        "note": rule.note,
        "steps": [
            {
                "step": step.name,
                "due": show.iso(step.due_at, context.zone),
                "state": step.state,
                "arithmetic": step.arithmetic,
            }
            for step in rule.steps
        ],
        "events": [{"event": item.event.id, "state": item.state} for item in rule.events],
        "fired": [
            {
                "step": f.step,
                "episode": f.episode,
                "skipped": f.skipped,
                "fired_at": show.iso(f.fired_at, context.zone),
                "due": show.iso(f.due_at, context.zone),
            }
            for f in rule.fired
        ],
        "snoozed_until": show.iso(rule.snooze.until, context.zone) if rule.snooze else None,
    }
