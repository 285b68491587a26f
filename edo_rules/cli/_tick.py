"""``edo-rules tick``: evaluate the playbooks against the store once and show the firings.

``--dry-run`` records nothing; without it the firings and their action requests
go to the outbox (the runner's dispatcher carries them out).

``edo-rules tick --config edo-rules.yaml`` runs one whole tick of the service
instead — sync from 1C, evaluate, dispatch to Bitrix24 — and exits (for cron
or a systemd timer); its exit status is 1 when a stage failed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.cli._engine_options import add_engine_args, now_or, open_existing_store
from edo_rules.cli._runner_args import add_log_args, configured
from edo_rules.config import Config
from edo_rules.engine import Engine, EvaluationResult
from edo_rules.playbook.loader import load_playbooks

_HEADERS = ("rule", "document", "step", "due", "actions")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tick",
        help="evaluate the playbooks once and show what fires (--dry-run: record nothing)",
        description="Evaluate every playbook against the store at now (or --at) and print"
        " the firings as a table. With --dry-run nothing is written; otherwise the"
        " firings and their actions are recorded in the outbox.",
    )
    add_engine_args(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="compute the firings without recording them"
    )
    parser.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="run one whole tick of the service from this config: sync → evaluate → dispatch "
        "(with --dry-run: only show what would fire; --store/--playbooks are then ignored)",
    )
    add_log_args(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.config is not None:
        return _tick_service(args)
    playbooks = load_playbooks([args.playbooks])
    with open_existing_store(args.store) as store:
        engine = Engine(store, playbooks, ProductionCalendar.russia())
        result = engine.evaluate(now_or(args.at), dry_run=args.dry_run)
    print(render_result(result))
    return 0


def _tick_service(args: argparse.Namespace) -> int:
    from edo_rules.runner.app import tick_once

    with configured(args) as config:
        if args.dry_run:
            print(render_result(_dry_run(config, now_or(args.at))))
            return 0
        report = tick_once(config)
        print(report.line())
        return 0 if report.ok else 1


def _dry_run(config: Config, now: datetime) -> EvaluationResult:
    """Evaluate the config's playbooks on its store at ``now``, recording nothing."""
    from edo_rules.runner.wiring import open_store

    calendar = ProductionCalendar.russia(overrides=config.calendar_override)
    store = open_store(config)
    try:
        engine = Engine(store, load_playbooks(config.playbooks), calendar, go_live=config.go_live)
        return engine.evaluate(now, dry_run=True)
    finally:
        store.close()


def render_result(result: EvaluationResult) -> str:
    """The firings as an aligned table, then the skipped firings, failures and a summary."""
    rows = [
        (
            p.firing.rule_key,
            p.firing.document_id,
            p.firing.step,
            f"{p.firing.due_at:%Y-%m-%d %H:%M %z}",
            ", ".join(r.action for r in p.requests),
        )
        for p in result.fired
    ]
    lines = _table(rows) if rows else ["nothing is due"]
    lines += [f"skipped (catch-up): {f.rule_key} {f.document_id} {f.step}" for f in result.skipped]
    lines += [f"failed: {f.rule_key} {f.document_id}: {f.message}" for f in result.failures]
    verb = "would fire (dry run, nothing recorded)" if result.dry_run else "fired and recorded"
    lines.append(
        f"at {result.now.isoformat()}: {len(result.fired)} firing(s) {verb},"
        f" {len(result.requests)} action(s), {len(result.skipped)} skipped,"
        f" {len(result.failures)} document(s) failed"
    )
    return "\n".join(lines)


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    rule = tuple("-" * width for width in widths)
    return [line(_HEADERS).rstrip(), line(rule), *(line(row).rstrip() for row in rows)]
