"""Who may read the dashboard: a read-only token, per-user passwords, or a trusted proxy.

Passwords are stored as hashes only (``scrypt$n$r$p$salt$hash`` or
``pbkdf2_sha256$iterations$salt$hash``, base64 parts); :func:`hash_password`
makes them. A login sets a signed session cookie (HMAC with a key made at
start-up, so a restart logs everyone out). Every comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from edo_rules.errors import EdoRulesError

SESSION_COOKIE = "edo_session"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class Access:
    """The dashboard's access rule; all empty means "open, on loopback only"."""

    token: str | None = field(default=None, repr=False)
    users: Mapping[str, str] = field(default_factory=dict, repr=False)
    proxy_header: str | None = None

    @property
    def open(self) -> bool:
        return not (self.token or self.users or self.proxy_header)


def hash_password(password: str, *, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """A ``scrypt$…`` hash of ``password`` for the config's ``dashboard.users``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; a malformed hash never matches."""
    parts = stored.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            salt, want = _unb64(parts[4]), _unb64(parts[5])
            got = hashlib.scrypt(
                password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(want), maxmem=2**27
            )
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            salt, want = _unb64(parts[2]), _unb64(parts[3])
            got = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(parts[1]))
        else:
            return False
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def check_hash(stored: str, where: str) -> None:
    """Raise :class:`EdoRulesError` when ``stored`` is not a hash (a plain password)."""
    if not (stored.startswith("scrypt$") or stored.startswith("pbkdf2_sha256$")):
        raise EdoRulesError(
            f"{where}: expected a password hash (scrypt$… or pbkdf2_sha256$…), not a password."
            "\nWhat to do: run `edo-rules serve --hash-password` and paste its output."
        )


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class Sessions:
    """Signed, expiring session cookies: ``user|expiry|mac``."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(self, user: str, now: float | None = None) -> str:
        expiry = int((now or time.time()) + SESSION_SECONDS)
        body = f"{_b64(user.encode())}|{expiry}"
        return f"{body}|{self._mac(body)}"

    def user(self, cookie: str | None, now: float | None = None) -> str | None:
        if not cookie or cookie.count("|") != 2:
            return None
        user, expiry, mac = cookie.split("|")
        body = f"{user}|{expiry}"
        if not same(mac, self._mac(body)) or not expiry.isdigit():
            return None
        if int(expiry) < (now or time.time()):
            return None
        try:
            return _unb64(user).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def csrf(self, user: str, purpose: str) -> str:
        """A token a form carries back: tied to the user and the form's purpose."""
        return self._mac(f"csrf|{user}|{purpose}")

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
