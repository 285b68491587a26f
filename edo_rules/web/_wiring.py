"""Building the app from the config: for the runner (control + dashboard) and for ``serve``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from edo_rules._messages import msg
from edo_rules.calendar import ProductionCalendar
from edo_rules.config import Config
from edo_rules.engine import Engine
from edo_rules.errors import EdoRulesError
from edo_rules.store.base import Store
from edo_rules.web._access import Access
from edo_rules.web._agenda import (
    PG_VERSION,
    sqlite_version,
)
from edo_rules.web._agenda_process import SimulationJob, agenda_in_process
from edo_rules.web._dashboard import Dashboard, DocumentSource, Links, StoreOpener
from edo_rules.web._queries import Reader
from edo_rules.web._server import Endpoint
from edo_rules.web._sql import SQLiteReader, dialect_for

if TYPE_CHECKING:
    from edo_rules.store.sqlite import SQLiteStore


def dashboard_for(config: Config, clock: Callable[[], datetime]) -> Dashboard | None:
    """The dashboard over the config's store (a SQLite file or PostgreSQL);
    None without a ``dashboard:`` section."""
    settings = config.dashboard
    if settings is None:
        return None
    calendar = ProductionCalendar.russia(overrides=config.calendar_override)
    reader, open_store, postgres = _store_access(config, calendar)
    version = _store_version(config, reader)

    def engine(store: Store) -> Engine:
        from edo_rules.playbook import load_playbooks

        return Engine(store, load_playbooks(config.playbooks), calendar)

    portal = _portal(config)
    return Dashboard(
        reader=reader,
        dialect=dialect_for(config.timezone, clock(), postgres=postgres),
        calendar=calendar,
        zone=config.timezone,
        clock=clock,
        access=Access(settings.token, settings.users, settings.proxy_header),
        overdue_after=settings.overdue_after,
        frame_ancestors=settings.frame_ancestors,
        documents=DocumentSource(open_store, engine),
        # Simulated in a process of its own: the pages keep the interpreter to themselves.
        agenda=agenda_in_process(version, lambda days: _job(config, clock(), days)),
        links=Links(portal=portal, onec=settings.onec_url),
    )


def _job(config: Config, now: datetime, days: int) -> SimulationJob:
    return SimulationJob(
        playbooks=tuple(config.playbooks),
        zone=config.timezone.key,
        now=now,
        days=days,
        store_path=config.store.path if config.store.dsn is None else None,
        store_dsn=config.store.dsn,
        lease=config.store.lease,
        calendar_override=config.calendar_override,
    )


class StoreReader(Reader, Protocol):
    def close(self) -> None: ...


def reader_for(config: Config, calendar: ProductionCalendar) -> tuple[StoreReader, bool]:
    """The read-only reader of the config's store, and whether it is PostgreSQL."""
    if config.store.dsn is not None:
        try:
            from edo_rules.web._pg_sql import PostgresReader
        except ImportError as exc:
            raise EdoRulesError(msg("store_no_driver", name=exc.name)) from exc
        return PostgresReader(config.store.dsn, calendar), True
    if config.store.path is None:
        raise EdoRulesError(msg("dashboard_no_store", file=config.file))
    return SQLiteReader(config.store.path, calendar), False


def _store_access(config: Config, calendar: ProductionCalendar) -> tuple[Reader, StoreOpener, bool]:
    """(the pages' reader, how a document page opens the store, whether it is PostgreSQL)."""
    reader, postgres = reader_for(config, calendar)
    dsn, path = config.store.dsn, config.store.path
    if dsn is not None:
        return reader, _postgres_opener(dsn, config.store.lease), postgres
    assert path is not None  # reader_for refused a config with neither

    def open_store() -> SQLiteStore:  # closes itself when its `with` ends
        from edo_rules.store.sqlite import SQLiteStore

        return SQLiteStore(path)

    return reader, open_store, postgres


def _store_version(config: Config, reader: Reader) -> Callable[[], Hashable]:
    """What changes with every commit to the store (the agenda's cache key)."""
    if config.store.path is not None and config.store.dsn is None:
        return sqlite_version(config.store.path)
    return lambda: reader.rows(PG_VERSION)[0][0]


def _postgres_opener(dsn: str, lease: float) -> StoreOpener:
    from edo_rules.runner.wiring import open_postgres

    shared: list[Store] = []
    lock = threading.Lock()

    @contextmanager
    def open_store() -> Iterator[Store]:
        # One pooled store for every document page (opening one costs a connection
        # and a schema check); it is thread-safe and lives as long as the server.
        with lock:
            if not shared:
                shared.append(open_postgres(dsn, lease=lease))
        yield shared[0]

    return open_store


def check_exposure(
    endpoint: Endpoint,
    dashboard: Dashboard | None,
    *,
    control: bool = True,
    control_token: str | None = None,
) -> None:
    """Refuse open control endpoints or an open dashboard beyond loopback."""
    if endpoint.is_loopback:
        return
    if control and not control_token:
        raise EdoRulesError(
            f"refusing to listen on {endpoint.host}:{endpoint.port} without a token: "
            "set http.token in the config (e.g. token: ${EDO_RULES_HTTP_TOKEN}) "
            "or listen on 127.0.0.1"
        )
    if dashboard is not None and dashboard.access.open:
        raise EdoRulesError(
            f"refusing to serve the dashboard on {endpoint.host}:{endpoint.port} to anyone: "
            "set dashboard.token, dashboard.users or dashboard.proxy_header in the config, "
            "or listen on 127.0.0.1"
        )


def guards_loopback(
    endpoint: Endpoint,
    dashboard: Dashboard | None,
    *,
    control: bool = True,
    control_token: str | None = None,
) -> bool:
    """Whether the endpoint is open on loopback: any page in a local browser could use it."""
    if not endpoint.is_loopback:
        return False
    return (control and not control_token) or (dashboard is not None and dashboard.access.open)


def _portal(config: Config) -> str | None:
    """The portal's origin for links: never the webhook's path, which holds its secret."""
    from urllib.parse import urlsplit

    settings = config.bitrix24
    if settings is None:
        return None
    if settings.oauth is not None:
        return settings.oauth.portal_url
    if settings.webhook_url is None:
        return None
    parts = urlsplit(settings.webhook_url.reveal())
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
