"""Older option helpers, kept for commands not yet moved to :mod:`edo_rules.cli._context`.

New commands use ``add_context_args``/``resolve`` from ``edo_rules.cli._context``:
they read the config (``--config`` or ``./edo-rules.yaml``) and its calendar
override and zone, which these helpers do not. The default store is the same.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from edo_rules.errors import StoreError
from edo_rules.store.sqlite import SQLiteStore

DEFAULT_STORE = "edo-rules.db"  # the config's store.path default, as in _context
DEFAULT_PLAYBOOKS = "playbooks"
#: A time given without an offset is read in this zone (the playbooks' default).
DEFAULT_ZONE = ZoneInfo("Europe/Moscow")


def add_store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="PATH",
        help=f"the SQLite store file (default: ./{DEFAULT_STORE})",
    )


def add_playbooks_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--playbooks",
        default=DEFAULT_PLAYBOOKS,
        metavar="DIR",
        help=f"a playbook file or folder (default: ./{DEFAULT_PLAYBOOKS})",
    )


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    add_store_arg(parser)
    add_playbooks_arg(parser)
    parser.add_argument(
        "--at",
        type=parse_moment,
        metavar="ISO",
        help="evaluate at this moment instead of now, e.g. 2024-05-06T10:00+03:00"
        " (without an offset: Moscow time)",
    )


def parse_moment(text: str) -> datetime:
    """``--at`` values: ISO 8601; a value without an offset is Moscow time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date-time (expected e.g. 2024-05-06T10:00+03:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=DEFAULT_ZONE)


def now_or(at: datetime | None) -> datetime:
    """The moment to evaluate at: ``--at`` or the wall clock (the CLI is the edge)."""
    return at if at is not None else datetime.now(DEFAULT_ZONE)


def open_existing_store(path: str) -> SQLiteStore:
    """Open a store that must already exist (reading commands never create one)."""
    if not Path(path).is_file():
        raise StoreError(
            f"no store at {path}.\nWhat to do: pass --store PATH, or run a sync first"
            " (it creates the store)."
        )
    return SQLiteStore(path)
