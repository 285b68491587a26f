"""Keep the webhook secret and OAuth tokens out of logs, errors and reprs.

Two layers: :class:`Redactor` replaces the known secret values in any text we
build ourselves, and :func:`install_log_filter` masks URL-shaped secrets in
records that httpx logs on its own (it logs every request URL at INFO, and a
webhook URL carries its secret in the path).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"

_URL_SECRETS = (
    re.compile(r"(/rest/\d+/)[^/\s\"']+"),
    re.compile(r"((?:auth|access_token|refresh_token|client_secret|code)=)[^&\s\"']+"),
)


def mask_urls(text: str) -> str:
    """Mask a webhook secret in a ``/rest/<user>/<secret>/`` path and token query parameters."""
    for pattern in _URL_SECRETS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class Redactor:
    """Replaces every registered secret value by ``***`` (values shorter than 4 are ignored)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Register one more secret (e.g. a freshly refreshed token)."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return mask_urls(text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


class _MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_urls(record.getMessage())
        record.args = None
        return True


_FILTER = _MaskingFilter()
_HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def install_log_filter() -> None:
    """Attach the URL-masking filter to the httpx and httpcore loggers (idempotent).

    httpcore logs response headers at DEBUG, so a redirect's ``Location``
    (which repeats the webhook path) is masked too.
    """
    # Filters do not propagate to child loggers: name each one httpcore uses.
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
