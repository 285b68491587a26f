"""Authentication: an incoming webhook, or an OAuth application with token refresh.

The refreshed token pair is persisted to a token file (never to the store):
Bitrix24 returns a NEW refresh token with every renewal and invalidates the
old one, so losing the pair means reinstalling the application.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from edo_rules._bounds import LimitExceededError, read_capped
from edo_rules._messages import msg
from edo_rules.actions.bitrix24._redact import Redactor
from edo_rules.actions.bitrix24.errors import Bitrix24Error, ErrorClass
from edo_rules.actions.bitrix24.settings import OAuthSettings
from edo_rules.errors import ConfigError, Problem

#: A token answer is a few hundred bytes; anything near this is not one.
_TOKEN_CAP = 64 * 1024


class Auth(Protocol):
    """Where a method is sent and how the request is signed."""

    def url(self, method: str) -> str: ...

    def sign(self, params: Mapping[str, Any]) -> dict[str, Any]: ...

    def refresh(self, http: httpx.Client, stale: Any) -> bool:
        """Renew the expired token ``stale``; False when this kind of auth cannot."""
        ...

    def describe(self) -> str:
        """A safe, secret-free description for messages."""
        ...


class WebhookAuth:
    """``https://PORTAL/rest/{user_id}/{secret}/{method}``; the secret stays in the URL only."""

    def __init__(self, webhook_url: str, redactor: Redactor) -> None:
        self._base = webhook_url.rstrip("/") + "/"
        parts = urlsplit(self._base)
        segments = [s for s in parts.path.split("/") if s]
        redactor.add(segments[-1] if segments else None)
        user = segments[-2] if len(segments) > 1 else "?"
        self._shown = f"{parts.scheme}://{parts.netloc}/rest/{user}/***/"

    def url(self, method: str) -> str:
        return self._base + method

    def sign(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return dict(params)

    def refresh(self, http: httpx.Client, stale: Any) -> bool:
        return False

    def describe(self) -> str:
        return f"webhook {self._shown}"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str


class TokenFile:
    """The OAuth token pair as a small JSON file, replaced atomically with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> TokenPair:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return TokenPair(str(data["access_token"]), str(data["refresh_token"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problem = Problem(
                str(self.path),
                0,
                0,
                "",
                msg("b24_set_token_file", error=type(exc).__name__),
            )
            raise ConfigError([problem]) from exc

    def save(self, pair: TokenPair) -> None:
        text = json.dumps({"access_token": pair.access_token, "refresh_token": pair.refresh_token})
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class OAuthAuth:
    """``https://PORTAL/rest/{method}`` with ``auth=<access token>``; refreshes on expiry."""

    def __init__(self, settings: OAuthSettings, redactor: Redactor) -> None:
        self._settings = settings
        self._file = TokenFile(settings.token_file)
        self._redactor = redactor
        self._lock = threading.Lock()
        self._pair = self._file.load()
        redactor.add(settings.client_secret.reveal())
        self._remember(self._pair)

    def url(self, method: str) -> str:
        return f"{self._settings.portal_url}/rest/{method}"

    def sign(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {**params, "auth": self._pair.access_token}

    def refresh(self, http: httpx.Client, stale: Any) -> bool:
        """Renew the pair at the OAuth server and persist both tokens before using them.

        Several threads may see the same token expire: only the first renews
        (the refresh token is single-use), the others just use the new pair.
        """
        with self._lock:
            if stale != self._pair.access_token:
                return True
            pair = self._request_pair(http)
            self._remember(pair)
            self._file.save(pair)
            self._pair = pair
        return True

    def describe(self) -> str:
        return f"OAuth application {self._settings.client_id} at {self._settings.portal_url}"

    def _remember(self, pair: TokenPair) -> None:
        self._redactor.add(pair.access_token)
        self._redactor.add(pair.refresh_token)

    def _request_pair(self, http: httpx.Client) -> TokenPair:
        params = {
            "grant_type": "refresh_token",
            "client_id": self._settings.client_id,
            "client_secret": self._settings.client_secret.reveal(),
            "refresh_token": self._pair.refresh_token,
        }
        url = f"{self._settings.server_url}/oauth/token/"
        try:
            with http.stream("GET", url, params=params) as response:
                data = json.loads(read_capped(response, _TOKEN_CAP, "the OAuth answer's size"))
        except (httpx.HTTPError, ValueError, LimitExceededError) as exc:
            raise Bitrix24Error(
                "TOKEN_REFRESH_FAILED",
                msg("b24_oauth_unreachable", error=type(exc).__name__),
                method="oauth/token",
                error_class=ErrorClass.UNREACHABLE,
            ) from None
        if not isinstance(data, dict) or "access_token" not in data:
            code = (
                str(data.get("error", "INVALID_GRANT"))
                if isinstance(data, dict)
                else "INVALID_GRANT"
            )
            raise Bitrix24Error(
                code,
                msg("b24_oauth_refused"),
                method="oauth/token",
                error_class=ErrorClass.PERMANENT,
            )
        return TokenPair(str(data["access_token"]), str(data["refresh_token"]))
