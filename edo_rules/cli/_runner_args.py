"""Options shared by the commands that read the config: run, tick, outbox, demo."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from edo_rules.config import Config, LoggingConfig, load_config
from edo_rules.playbook import use_budget
from edo_rules.runner.logs import remove_logging, setup_logging


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        default="edo-rules.yaml",
        metavar="FILE",
        help="the config file (default: edo-rules.yaml)",
    )
    add_log_args(parser)


def add_log_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="log lines as readable text (default) or one JSON object per line",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="the least important level logged (default: info, or logging.level)",
    )


@contextmanager
def configured(args: argparse.Namespace) -> Iterator[Config]:
    """The loaded config, with logging set up from it and the command line (which wins)."""
    with configured_from(load_config(args.config), args) as config:
        yield config


@contextmanager
def configured_from(config: Config, args: argparse.Namespace) -> Iterator[Config]:
    """``config`` with logging set up from it and the command line's --log-* (which win)."""
    logging_config = LoggingConfig(
        level=args.log_level or config.logging.level,
        format=args.log_format or config.logging.format,
    )
    handler = setup_logging(
        level=logging_config.level, fmt=logging_config.format, secrets=config.secrets
    )
    try:
        with use_budget(config.evaluation):  # every evaluation this command runs
            yield replace(config, logging=logging_config)
    finally:
        remove_logging(handler)
