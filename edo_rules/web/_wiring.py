"""Building the app from the config: for the runner (control + dashboard) and for ``serve``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.config import Config
from edo_rules.engine import Engine
from edo_rules.errors import EdoRulesError
from edo_rules.store.base import Store
from edo_rules.web._access import Access
from edo_rules.web._dashboard import Dashboard, DocumentSource, Links
from edo_rules.web._documents import simulate_agenda
from edo_rules.web._filters import Filters
from edo_rules.web._server import Endpoint
from edo_rules.web._sql import SQLiteReader, dialect_for


def dashboard_for(config: Config, clock: Callable[[], datetime]) -> Dashboard | None:
    """The dashboard over the config's store file; None without a ``dashboard:`` section."""
    settings = config.dashboard
    if settings is None:
        return None
    if config.store.path is None:
        raise EdoRulesError(
            f"{config.file}: the dashboard needs a store file (store.path), not an in-memory store"
        )
    calendar = ProductionCalendar.russia(overrides=config.calendar_override)
    path = config.store.path

    @contextmanager
    def open_store() -> Iterator[Store]:
        from edo_rules.store.sqlite import SQLiteStore

        store = SQLiteStore(path)
        try:
            yield store
        finally:
            store.close()

    def engine(store: Store) -> Engine:
        from edo_rules.playbook import load_playbooks

        return Engine(store, load_playbooks(config.playbooks), calendar)

    def agenda(days: int, filters: Filters) -> list[dict[str, Any]]:
        with open_store() as store:
            return simulate_agenda(
                engine(store), clock(), calendar, days, config.timezone, filters=filters
            )

    portal = _portal(config)
    return Dashboard(
        reader=SQLiteReader(path, calendar),
        dialect=dialect_for(config.timezone, clock()),
        calendar=calendar,
        zone=config.timezone,
        clock=clock,
        access=Access(settings.token, settings.users, settings.proxy_header),
        overdue_after=settings.overdue_after,
        frame_ancestors=settings.frame_ancestors,
        documents=DocumentSource(open_store, engine),
        agenda=agenda,
        links=Links(portal=portal, onec=settings.onec_url),
    )


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
