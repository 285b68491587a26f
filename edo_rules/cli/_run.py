"""``edo-rules run --config edo-rules.yaml``: the long-running service.

Ticks on the configured schedule (sync → evaluate → dispatch) until SIGTERM or
Ctrl-C, which finish the batch in flight first. Only one runner may use a
store; a second one exits with status 1 naming the holder.
"""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.cli._context import add_context_args, resolve
from edo_rules.cli._runner_args import add_log_args, configured_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the service: tick on the schedule until stopped (SIGTERM/Ctrl-C)",
        description="Run edo-rules as a service: every tick syncs documents from 1C, "
        "evaluates the playbooks and carries out the due actions in Bitrix24. Playbooks "
        "are reloaded when their files change (a broken version is refused and the "
        "running one stays). Stop with SIGTERM or Ctrl-C: the batch in flight is finished.",
    )
    add_context_args(parser, at=False)
    add_log_args(parser)
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="serve POST /sync, GET /healthz and GET /metrics here (overrides http.listen)",
    )
    parser.add_argument(
        "--max-ticks",
        type=int,
        metavar="N",
        help="stop after N ticks (for tests and trials; default: run until stopped)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from edo_rules.runner.app import ServeOptions, serve

    with configured_from(resolve(args).effective_config(), args) as config:
        return serve(config, ServeOptions(listen=args.listen, max_ticks=args.max_ticks))
