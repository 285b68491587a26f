"""Webhooks and OAuth applications of the emulated portal, and their tokens."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ALL_SCOPES = frozenset(
    {"im", "tasks", "crm", "lists", "bizproc", "user", "department", "userfieldconfig"}
)


@dataclass(frozen=True, slots=True)
class Webhook:
    user_id: int
    secret: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class App:
    client_id: str
    client_secret: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Token:
    app: App
    user_id: int
    expires_at: float


class AuthRegistry:
    """Webhooks by (user, secret), apps by client id, access and refresh tokens."""

    def __init__(self, clock: Callable[[], float], token_lifetime: float) -> None:
        self._clock = clock
        self._lifetime = token_lifetime
        self._webhooks: dict[tuple[int, str], Webhook] = {}
        self._apps: dict[str, App] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, tuple[App, int]] = {}
        self._lock = threading.Lock()

    def add_webhook(self, user_id: int, scopes: Iterable[str]) -> Webhook:
        hook = Webhook(user_id, secrets.token_hex(8), frozenset(scopes))
        with self._lock:
            self._webhooks[(user_id, hook.secret)] = hook
        return hook

    def webhook(self, user_id: int, secret: str) -> Webhook | None:
        with self._lock:
            return self._webhooks.get((user_id, secret))

    def add_app(self, client_id: str, client_secret: str, scopes: Iterable[str]) -> App:
        app = App(client_id, client_secret, frozenset(scopes))
        with self._lock:
            self._apps[client_id] = app
        return app

    def issue(self, client_id: str, user_id: int) -> tuple[str, str]:
        """A fresh (access, refresh) pair for an installed app."""
        with self._lock:
            return self._issue(self._apps[client_id], user_id)

    def _issue(self, app: App, user_id: int) -> tuple[str, str]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self._access[access] = _Token(app, user_id, self._clock() + self._lifetime)
        self._refresh[refresh] = (app, user_id)
        return access, refresh

    def access(self, token: str) -> tuple[str, App | None, int]:
        """("ok" | "expired" | "invalid", app, user)."""
        with self._lock:
            found = self._access.get(token)
        if found is None:
            return "invalid", None, 0
        if found.expires_at <= self._clock():
            return "expired", found.app, found.user_id
        return "ok", found.app, found.user_id

    def expire_all(self) -> None:
        """Make every access token expired now (tests of the refresh path)."""
        with self._lock:
            self._access = {
                k: _Token(t.app, t.user_id, self._clock()) for k, t in self._access.items()
            }

    def renew(self, client_id: str, client_secret: str, refresh: str) -> tuple[str, str] | None:
        """Exchange a refresh token (single use) for a new pair; None when anything is wrong."""
        with self._lock:
            app = self._apps.get(client_id)
            found = self._refresh.get(refresh)
            if (
                app is None
                or app.client_secret != client_secret
                or found is None
                or found[0] != app
            ):
                return None
            del self._refresh[refresh]
            return self._issue(app, found[1])
