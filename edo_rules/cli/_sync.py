"""``edo-rules sync --config edo-rules.yaml``: bring 1C documents and states into the store."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from edo_rules.errors import ConfigError, Problem


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="sync EDO documents and their states from 1C into the store",
        description="Read 1С:Бухгалтерия over OData (the onec section of the config) into the "
        "store: the first run loads everything (its events are history), later runs only "
        "what changed. The password comes from the environment variable named in the config.",
    )
    parser.add_argument("--config", default="edo-rules.yaml", help="the config file")
    parser.add_argument(
        "--full", action="store_true", help="re-read everything (changes found become history)"
    )
    parser.add_argument(
        "--document",
        action="append",
        default=[],
        metavar="REF",
        help="re-read just this 1C document (its Ref_Key; repeatable), then evaluate and "
        "dispatch as a tick does",
    )
    parser.add_argument(
        "--inn", help="re-read the documents of the counterparty with this INN, then a tick"
    )
    parser.add_argument(
        "--deal", help="re-read the documents bound to this Bitrix24 deal, then a tick"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar for the full load (default: only on a terminal)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from edo_rules.config import load_config
    from edo_rules.runner.wiring import open_store
    from edo_rules.sources.onec import run_sync

    config = load_config(args.config)
    if config.onec is None:
        raise ConfigError(
            [Problem(str(args.config), 1, 1, "onec", "no onec section: nothing to sync from")]
        )
    if args.document or args.inn or args.deal:
        return _refresh(config, args)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = _Bar(sys.stderr) if show else None
    store = open_store(config)
    try:
        report = run_sync(
            config.onec,
            store,
            clock=lambda: datetime.now(UTC),
            full=args.full,
            progress=bar.update if bar else None,
        )
    finally:
        store.close()
        if bar is not None:
            bar.finish()
    for line in summary(report):
        print(line)
    return 0


def _refresh(config: Any, args: argparse.Namespace) -> int:
    """``--document/--inn/--deal``: re-read those documents, then evaluate and dispatch."""
    from edo_rules.runner.refresh import parse_refresh, refresh_once

    query = {"document": args.document}
    query.update({name: [value] for name in ("inn", "deal") if (value := getattr(args, name))})
    try:
        request = parse_refresh(query)
    except ValueError as exc:
        print(f"edo-rules: error: {exc}", file=sys.stderr)
        return 2
    assert request is not None
    report = refresh_once(config, request)
    print(report.line())
    return 0 if report.ok else 1


def summary(report: Any) -> list[str]:
    """The closing lines: documents, events, requests, unknown states, skipped sets."""
    lines = [
        f"1C sync ({report.mode}): {report.documents} documents, "
        f"{report.events_added} new status events, {report.requests} requests"
    ]
    if report.unknown_states:
        states = ", ".join(
            f"{name} ×{count}" for name, count in sorted(report.unknown_states.items())
        )
        lines.append(
            f"unknown 1C states (stored as 'unknown'; map them under onec.states): {states}"
        )
    if report.unpublished:
        lines.append(f"not published in 1C (skipped): {', '.join(report.unpublished)}")
    if report.missing_fields:
        shown = ", ".join(report.missing_fields)
        lines.append(f"not in this 1C publication (left empty): {shown}")
    for failure, count in sorted(getattr(report, "failures", {}).items()):
        lines.append(f"1C failed {count}× (retried): {failure}")
    if report.missing_documents:
        lines.append(
            f"documents in the state register but not readable: {len(report.missing_documents)}"
        )
    return lines


class _Bar:
    """A one-line progress bar on stderr for the initial full load."""

    width = 30

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.shown = False

    def update(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r1C: [{bar}] {share:4.0%} {done}/{total} documents")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
