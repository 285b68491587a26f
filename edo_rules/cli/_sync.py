"""``edo-rules sync --config edo-rules.yaml``: bring 1C documents and states into the store."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from edo_rules._messages import t
from edo_rules.cli._context import add_context_args, resolve
from edo_rules.cli._runner_args import add_log_args, configured_from
from edo_rules.errors import ConfigError, EdoRulesError, Problem


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="sync EDO documents and their states from 1C into the store",
        description="Read 1С:Бухгалтерия over OData (the onec section of the config) into the "
        "store: the first run loads everything (its events are history), later runs only "
        "what changed. The password comes from the environment variable named in the config.",
    )
    add_context_args(parser, playbooks=False, at=False)
    add_log_args(parser)
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
    # --store may point the sync elsewhere; the warnings of 1C go out as the runner's log
    # lines (level, format, secrets redacted), not as Python's bare last-resort lines.
    with configured_from(resolve(args).effective_config(), args) as config:
        return _sync(config, args)


def _sync(config: Any, args: argparse.Namespace) -> int:
    from edo_rules.runner.wiring import open_store
    from edo_rules.sources.onec import run_sync

    if config.onec is None:
        raise ConfigError(
            [Problem(str(config.file), 1, 1, "onec", "no onec section: nothing to sync from")]
        )
    if args.document or args.inn or args.deal:
        return _refresh(config, args)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = _Bar(sys.stderr) if show else None
    store = open_store(config)
    membership = None
    try:
        membership = _sync_lease(store, config.store.lease)
        report = run_sync(
            config.onec,
            store,
            clock=lambda: datetime.now(UTC),
            full=args.full,
            progress=bar.update if bar else None,
        )
    finally:
        if membership is not None:
            membership.stop()
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
        print(t("error", message=exc), file=sys.stderr)
        return 2
    assert request is not None
    report = refresh_once(config, request)
    print(report.line())
    return 0 if report.ok else 1


def _sync_lease(store: Any, lease: float) -> Any:
    """On a store shared by runners: hold the sync lease while syncing, or refuse."""
    from edo_rules.runner._cluster import Membership
    from edo_rules.store.shared import SharedStore

    if not isinstance(store, SharedStore):
        return None
    membership = Membership(store, lease=lease).start()
    if not membership.holds_sync_lease:
        holder = next((r.id for r in store.runners() if "sync" in r.leases), "another runner")
        membership.stop()
        raise EdoRulesError(
            f"{holder} holds the sync lease and syncs this store already; "
            "`edo-rules runners` shows who, and its next tick brings the changes"
        )
    return membership


def summary(report: Any) -> list[str]:
    """The closing lines: documents, events, requests, unknown states, skipped sets."""
    mode = {"full": t("sync_full"), "incremental": t("sync_incremental")}.get(
        report.mode, report.mode
    )
    lines = [
        t("sync_summary", mode=mode, documents=report.documents, events=report.events_added,
          requests=report.requests)
    ]  # fmt: skip
    if report.unknown_states:
        states = ", ".join(
            f"{name} ×{count}" for name, count in sorted(report.unknown_states.items())
        )
        lines.append(t("sync_unknown", states=states))
    if report.unpublished:
        lines.append(t("sync_unpublished", sets=", ".join(report.unpublished)))
    if report.missing_fields:
        lines.append(t("sync_missing_fields", fields=", ".join(report.missing_fields)))
    for failure, count in sorted(getattr(report, "failures", {}).items()):
        lines.append(t("sync_failed", count=count, failure=failure))
    if report.missing_documents:
        lines.append(t("sync_missing", count=len(report.missing_documents)))
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
        self.stream.write("\r" + t("sync_bar", bar=bar, share=share, done=done, total=total))
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
