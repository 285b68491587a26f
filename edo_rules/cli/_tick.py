"""``edo-rules tick``: one tick of the service, or a dry run of the playbooks.

* ``tick --dry-run [--at ISO]`` evaluates the playbooks on the store at now (or
  ``--at``) and prints the firings; nothing is recorded.
* ``tick`` with a config (``--config`` or ``./edo-rules.yaml``) runs one whole
  tick of the service — sync from 1C, evaluate, dispatch to Bitrix24 — and exits
  (for cron or a systemd timer).
* ``tick --store … --playbooks …`` without a config records the firings in the
  outbox (no 1C, no Bitrix24).

``--at`` without ``--dry-run`` is refused: a real tick runs now. Exit status: 0
all done, 1 a stage or an action failed, 3 some actions wait for a retry.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import CATALOGUE, t
from edo_rules.cli._context import CliContext, UsageError, add_context_args, resolve
from edo_rules.cli._names import Names, document_titles, rule_titles
from edo_rules.cli._runner_args import add_log_args, configured_from
from edo_rules.engine import DocumentFailure, EvaluationResult, PlannedFiring

EXIT_FAILED = 1
EXIT_PARTIAL = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tick",
        help="one tick of the service, or (--dry-run) what would fire now or --at",
        description="With a config: one whole tick (sync → evaluate → dispatch). With"
        " --dry-run: evaluate the playbooks at now (or --at) and print what would fire,"
        " recording nothing. Exit status: 0 all done, 1 failed, 3 retry pending.",
    )
    add_context_args(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="compute the firings without recording them"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_log_args(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.at is not None and not args.dry_run:
        raise UsageError(t("at_needs_dry_run"))
    context = resolve(args)
    if args.dry_run:
        return _print(context, *_evaluate(context, dry_run=True), args.json)
    if context.config is not None:
        return _tick_service(context, args)
    return _print(context, *_evaluate(context, dry_run=False), args.json)


def _evaluate(context: CliContext, *, dry_run: bool) -> tuple[EvaluationResult, Names]:
    store = context.open_store()
    try:
        engine = context.engine(store)
        result = engine.evaluate(context.now(), dry_run=dry_run)
        ids = [p.firing.document_id for p in result.fired]
        ids += [f.document_id for f in result.skipped]
        ids += [f.document_id for f in result.failures]
        return result, Names(rule_titles(engine.playbooks), document_titles(store, ids))
    finally:
        store.close()


def _print(context: CliContext, result: EvaluationResult, names: Names, as_json: bool) -> int:
    if as_json:
        found = result_json(result, context, names)
        print(json.dumps(found, ensure_ascii=False, indent=2, default=str))
    else:
        print(render_result(result, context, names))
    return EXIT_FAILED if result.failures else 0


def _tick_service(context: CliContext, args: argparse.Namespace) -> int:
    from edo_rules.runner.app import tick_once

    with configured_from(context.effective_config(), args) as config:
        report = tick_once(config)
    if args.json:
        print(json.dumps(dict(report.summary()), ensure_ascii=False, indent=2))
    else:
        print(report_line(report))
    status = exit_status(report.ok, report.dispatch.outcomes)
    if not args.json and status == EXIT_FAILED and report.ok:
        print(t("tick_failed"))
    elif not args.json and status == EXIT_PARTIAL:
        print(t("tick_partial"))
    return status


def report_line(report: Any) -> str:
    """The tick's one-line result in the admin's language (the log keeps ``report.line()``)."""
    outcomes = report.dispatch.outcomes
    parts = [
        t(f"outcome_{status}", n=n) if f"outcome_{status}" in CATALOGUE else f"{n} {status}"
        for status, n in sorted(outcomes.items())
    ]
    if getattr(report, "waiting", None):  # "nothing to send" while actions wait would mislead
        parts.append(t("tick_waiting", n=report.waiting))
    actions = ", ".join(parts)
    text = t("tick_report", synced=report.synced, fired=report.fired,
             actions=actions or t("tick_nothing_to_send"), seconds=report.seconds)  # fmt: skip
    failures = getattr(report, "failures", None) or {}
    if failures:  # by rule and reason: the reason is /metrics' machine code (budget:time)
        rules = ", ".join(f"{rule} ({why}) ×{n}" for (rule, why), n in sorted(failures.items()))
        text += t("tick_report_docs_failed", count=sum(failures.values()), rules=rules)
    return text + (
        t("tick_report_failed", stages=", ".join(report.errors)) if report.errors else ""
    )


def exit_status(stages_ok: bool, outcomes: dict[str, int]) -> int:
    """0 all done; 1 a stage failed or an action failed/is in doubt; 3 retries pending."""
    if not stages_ok or outcomes.get("failed") or outcomes.get("in_doubt"):
        return EXIT_FAILED
    return EXIT_PARTIAL if outcomes.get("retry") else 0


def render_result(result: EvaluationResult, context: CliContext, names: Names) -> str:
    """The firings as an aligned table, then the skipped firings, failures and a summary."""
    rows = [_row(p, names, context) for p in result.fired]
    lines = table(t("tick_headers").split("|"), rows) if rows else [t("nothing_due")]
    lines += [
        t("skipped_catch_up", rule=f.rule_key, doc=names.doc(f.document_id), step=show.step(f.step))
        for f in result.skipped
    ]
    lines += _failure_lines(result, names)
    lines.append(
        t(
            "tick_summary_dry" if result.dry_run else "tick_summary_recorded",
            at=show.moment(result.now, context.zone),
            fired=len(result.fired),
            actions=len(result.requests),
            skipped=len(result.skipped),
            failed=len(result.failures),
        )
    )
    return "\n".join(lines)


def _row(planned: PlannedFiring, names: Names, context: CliContext) -> tuple[str, ...]:
    firing = planned.firing
    return (
        names.rule(firing.rule_key),
        names.doc(firing.document_id),
        show.step(firing.step),
        show.moment(firing.due_at, context.zone),
        ", ".join(r.action for r in planned.requests),
    )


def firing_json(
    planned: PlannedFiring, context: CliContext, names: Names | None = None
) -> dict[str, Any]:
    firing = planned.firing
    return {
        "rule": firing.rule_key,
        "document": firing.document_id,
        "title": names.documents.get(firing.document_id) if names else None,
        "step": firing.step,
        "episode": firing.episode,
        "due": show.iso(firing.due_at, context.zone),
        "actions": [
            {"action": r.action, "key": r.idempotency_key, "params": dict(r.params)}
            for r in planned.requests
        ],
    }


def result_json(
    result: EvaluationResult, context: CliContext, names: Names | None = None
) -> dict[str, Any]:
    return {
        "at": show.iso(result.now, context.zone),
        "dry_run": result.dry_run,
        "fired": [firing_json(p, context, names) for p in result.fired],
        "skipped": [
            {"rule": f.rule_key, "document": f.document_id, "step": f.step} for f in result.skipped
        ],
        "failed": [
            {"rule": f.rule_key, "document": f.document_id, "message": f.message}
            for f in result.failures
        ],
    }


def _failure_lines(result: EvaluationResult, names: Names) -> list[str]:
    """One line per failing rule (a rule failing on every document would flood the output)."""
    first: dict[str, DocumentFailure] = {}
    counts: dict[str, int] = {}
    for failure in result.failures:
        first.setdefault(failure.rule_key, failure)
        counts[failure.rule_key] = counts.get(failure.rule_key, 0) + 1
    return [
        t("failed_doc", rule=key, doc=names.doc(f.document_id), message=f.message)
        if counts[key] == 1
        else t(
            "failed_rule",
            rule=key,
            count=counts[key],
            doc=names.doc(f.document_id),
            message=f.message,
        )
        for key, f in first.items()
    ]


def table(headers: Sequence[str], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """An aligned text table: headers, a rule of dashes, the rows."""
    widths = [max(len(row[i]) for row in [tuple(headers), *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    rule = tuple("-" * width for width in widths)
    return [line(headers).rstrip(), line(rule), *(line(row).rstrip() for row in rows)]
