"""Build the client and the eight Bitrix24 actions from settings (used by the runner)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from edo_rules.actions.base import Action
from edo_rules.actions.bitrix24._bucket import Clock, Sleep
from edo_rules.actions.bitrix24._deadline import WorkingDay, WorkingDaysBetween, weekdays
from edo_rules.actions.bitrix24._redact import Redactor
from edo_rules.actions.bitrix24.adapters import ACTIONS, Context
from edo_rules.actions.bitrix24.binding import CrmBinder
from edo_rules.actions.bitrix24.client import Bitrix24Client, RetryPolicy
from edo_rules.actions.bitrix24.oauth import Auth, OAuthAuth, WebhookAuth
from edo_rules.actions.bitrix24.settings import Bitrix24Settings
from edo_rules.store.base import Store


def _utc_now() -> datetime:
    return datetime.now(UTC)


def make_client(
    settings: Bitrix24Settings,
    *,
    http_client: httpx.Client | None = None,
    retry: RetryPolicy | None = None,
    monotonic: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    wall: Callable[[], float] = time.time,
) -> Bitrix24Client:
    """A client for the configured portal (webhook or OAuth), paced to the configured plan."""
    redactor = Redactor()
    auth: Auth
    if settings.webhook_url is not None:
        auth = WebhookAuth(settings.webhook_url.reveal(), redactor)
    else:
        assert settings.oauth is not None
        auth = OAuthAuth(settings.oauth, redactor)
    return Bitrix24Client(
        auth,
        redactor,
        plan=settings.plan,
        http_client=http_client,
        timeout=settings.timeout,
        request_deadline=settings.request_deadline,
        max_response_mb=settings.max_response_mb,
        retry=retry,
        clock=monotonic,
        sleep=sleep,
        wall=wall,
        in_flight=settings.in_flight,
    )


def build_adapters(
    settings: Bitrix24Settings,
    store: Store,
    *,
    http_client: httpx.Client | None = None,
    clock: Callable[[], datetime] | None = None,
    client: Bitrix24Client | None = None,
    working_day: WorkingDay = weekdays,
    working_days: WorkingDaysBetween | None = None,
) -> dict[str, Action]:
    """The eight Bitrix24 actions by name, sharing one client, binder and bucket.

    ``clock`` gives aware "now" for outcomes, deadlines and the cache (default:
    UTC wall time); ``working_day`` tells working days for deadlines and
    ``working_days`` counts them for the card (pass the production calendar's
    ``is_working_day`` and ``working_days_between``); ``client`` overrides the
    one built from ``settings``.
    """
    now = clock or _utc_now
    shared = client or make_client(settings, http_client=http_client)
    binder = CrmBinder(shared, store, settings, now=now)
    context = Context(shared, binder, store, settings, now, working_day, working_days)
    return {name: cls(context) for name, cls in ACTIONS.items()}
