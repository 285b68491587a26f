"""The one way every command finds its store, zone, calendar, playbooks and moment.

A command adds the options with :func:`add_context_args` and calls
:func:`resolve` once; the returned :class:`CliContext` is all it needs:

* the config: ``--config FILE``, else ``./edo-rules.yaml`` when present, else none;
* the store: ``--store PATH`` wins, then the config's ``store``, then ``./edo-rules.db``
  (the same default as the config's ``store.path``);
* the playbooks: ``--playbooks DIR`` wins, then the config's ``playbooks``, then ``./playbooks``;
* the zone: the config's ``timezone`` (Europe/Moscow without a config); a ``--at``
  without an offset is read in it, and every moment is shown in it;
* the calendar: the bundled Russian calendar with the config's ``calendar.override``;
* the go-live moment: the config's ``go_live`` (playbooks may set their own).

So ``tick --dry-run``, ``simulate``, ``explain``, ``agenda`` and the service itself
agree on every due moment. See docs/development.md ("Adding a command").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from edo_rules._display import DEFAULT_ZONE
from edo_rules._messages import msg, t
from edo_rules.calendar import ProductionCalendar
from edo_rules.config import Config, StoreConfig, load_config
from edo_rules.engine import Engine
from edo_rules.errors import EdoRulesError, StoreError
from edo_rules.playbook.rules import Playbook
from edo_rules.store.base import Store

DEFAULT_CONFIG = "edo-rules.yaml"
DEFAULT_STORE = "edo-rules.db"
DEFAULT_PLAYBOOKS = "playbooks"


def add_context_args(
    parser: argparse.ArgumentParser,
    *,
    playbooks: bool = True,
    at: bool = True,
    nested: bool = False,
) -> None:
    """``--config``, ``--store``, ``--playbooks`` (unless ``playbooks=False``), ``--at``.

    ``nested=True`` for a sub-command's own parser whose parent has the options
    too: an option not given there then keeps the parent's value.
    """
    default = argparse.SUPPRESS if nested else None
    parser.add_argument(
        "--config",
        "-c",
        default=default,
        metavar="FILE",
        help=f"the config file (default: ./{DEFAULT_CONFIG} when present); its store,"
        " timezone, calendar override and playbooks are used",
    )
    parser.add_argument(
        "--store",
        default=default,
        metavar="PATH",
        help=f"a SQLite store file instead of the config's (default: ./{DEFAULT_STORE})",
    )
    if playbooks:
        parser.add_argument(
            "--playbooks",
            default=default,
            metavar="DIR",
            help="a playbook file or folder instead of the config's"
            f" (default: ./{DEFAULT_PLAYBOOKS})",
        )
    if at:
        parser.add_argument(
            "--at",
            default=default,
            metavar="ISO",
            help="this moment instead of now, e.g. 2026-12-07T09:30 (without an offset:"
            " in the config's timezone)",
        )


@dataclass(frozen=True, slots=True)
class CliContext:
    """What a command works on, resolved once from the command line and the config."""

    config: Config | None
    store_config: StoreConfig
    playbook_paths: tuple[Path, ...]
    zone: ZoneInfo
    calendar: ProductionCalendar
    at: datetime | None = None
    clock: Callable[[ZoneInfo], datetime] = datetime.now

    def now(self) -> datetime:
        """``--at`` or the wall clock, in the configured zone (the CLI is the edge)."""
        return self.at if self.at is not None else self.clock(self.zone)

    def open_store(self) -> Store:
        """The store, which must already exist: reading commands never create one."""
        path = self.store_config.path
        if path is None:
            from edo_rules.runner.wiring import open_store

            assert self.config is not None  # a DSN comes only from a config
            return open_store(self.effective_config())
        if not path.is_file():
            raise StoreError(t("no_store", path=path))
        from edo_rules.store.sqlite import SQLiteStore

        return SQLiteStore(path)

    def playbooks(self) -> tuple[Playbook, ...]:
        from edo_rules.playbook.loader import load_playbooks

        return tuple(load_playbooks(list(self.playbook_paths)))

    def engine(self, store: Store, *, playbooks: bool = True) -> Engine:
        """An engine on ``store`` with this context's playbooks (or none), calendar and go-live."""
        go_live = self.config.go_live if self.config is not None else None
        return Engine(store, self.playbooks() if playbooks else (), self.calendar, go_live=go_live)

    def effective_config(self) -> Config:
        """The config with the command line's ``--store``/``--playbooks`` applied."""
        if self.config is None:
            raise EdoRulesError(t("no_config", path=DEFAULT_CONFIG))
        return replace(self.config, store=self.store_config, playbooks=self.playbook_paths)


def resolve(args: argparse.Namespace) -> CliContext:
    """Resolve the options of :func:`add_context_args` (missing ones count as not given)."""
    config = config_of(args)
    zone = config.timezone if config is not None else DEFAULT_ZONE
    override = config.calendar_override if config is not None else None
    return CliContext(
        config=config,
        store_config=_store(getattr(args, "store", None), config),
        playbook_paths=_playbooks(getattr(args, "playbooks", None), config),
        zone=zone,
        calendar=ProductionCalendar.russia(overrides=override),
        at=parse_moment(args.at, zone) if getattr(args, "at", None) else None,
    )


def config_of(args: argparse.Namespace) -> Config | None:
    """The config of ``--config``, else ``./edo-rules.yaml`` when present, else ``None``."""
    given = getattr(args, "config", None)
    if given is not None:
        return load_config(given)  # a missing file is a ConfigError saying what to do
    if Path(DEFAULT_CONFIG).is_file():
        return load_config(DEFAULT_CONFIG)
    return None


def _store(given: str | None, config: Config | None) -> StoreConfig:
    if given is not None:
        return StoreConfig(path=Path(given))
    if config is not None:
        return config.store
    return StoreConfig(path=Path(DEFAULT_STORE))


def _playbooks(given: str | None, config: Config | None) -> tuple[Path, ...]:
    if given is not None:
        return (Path(given),)
    if config is not None:
        return config.playbooks
    return (Path(DEFAULT_PLAYBOOKS),)


def parse_moment(text: str, zone: ZoneInfo = DEFAULT_ZONE) -> datetime:
    """An ISO 8601 moment; one without an offset is read in ``zone``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(msg("cli_bad_at", value=text)) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


class UsageError(EdoRulesError):
    """The command line itself is wrong (exit status 2, like argparse's own errors)."""
