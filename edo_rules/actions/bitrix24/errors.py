"""Bitrix24 error codes → error classes, and the one exception the client raises.

The client decides by the ``error`` code (case-insensitively), never by the
HTTP status: the docs and the SDKs disagree on statuses, not on codes.
"""

from __future__ import annotations

from enum import StrEnum

from edo_rules._messages import Text, msg
from edo_rules.errors import ActionError


class ErrorClass(StrEnum):
    """What the caller may do after an error."""

    RATE_LIMIT = "rate_limit"  # refused before it ran: always safe to send again
    UNREACHABLE = "unreachable"  # no connection: nothing was sent, safe to send again
    METHOD_BLOCKED = "method_blocked"  # OPERATION_TIME_LIMIT: wait for operating_reset_at
    EXPIRED_TOKEN = "expired_token"  # OAuth: refresh once, repeat
    UNCERTAIN = "uncertain"  # 5xx, HTML, timeout: may have run; retry only idempotent calls
    PERMANENT = "permanent"  # sending again will fail the same way


#: Codes with a known remedy: the catalogue's ``b24_hint_<CODE>`` entry.
_HINTS = frozenset(
    {
        "INVALID_CREDENTIALS",
        "NO_AUTH_FOUND",
        "INVALID_TOKEN",
        "EXPIRED_TOKEN",
        "ACCESS_DENIED",
        "ERROR_METHOD_NOT_FOUND",
        "METHOD_NOT_FOUND",
        "PORTAL_DELETED",
        "OVERLOAD_LIMIT",
        "ERROR_BATCH_LENGTH_EXCEEDED",
        "INVALID_GRANT",
        "INVALID_REQUEST",
        "PORTAL_MOVED",
    }
)

_RATE = {"QUERY_LIMIT_EXCEEDED"}
_UNCERTAIN = {"INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER", "HTTP_5XX", "TIMEOUT"}


_REFUSED = (ErrorClass.RATE_LIMIT, ErrorClass.METHOD_BLOCKED, ErrorClass.UNREACHABLE)


def classify(code: str) -> ErrorClass:
    """The class of a Bitrix24 error code (compared case-insensitively)."""
    upper = code.upper()
    if upper in _RATE:
        return ErrorClass.RATE_LIMIT
    if upper == "OPERATION_TIME_LIMIT":
        return ErrorClass.METHOD_BLOCKED
    if upper == "EXPIRED_TOKEN":
        return ErrorClass.EXPIRED_TOKEN
    if upper in _UNCERTAIN:
        return ErrorClass.UNCERTAIN
    return ErrorClass.PERMANENT


def hint_for(code: str, method: str) -> Text | None:
    """What the admin must do about a permanent error, if we know."""
    upper = code.upper()
    if upper == "INSUFFICIENT_SCOPE":
        return msg("b24_hint_scope", scope=scope_of(method))
    return msg(f"b24_hint_{upper}") if upper in _HINTS else None


def scope_of(method: str) -> str:
    """The REST scope a method belongs to (``im.notify.system.add`` → ``im``)."""
    head = method.split(".", 1)[0].lower()
    return {"tasks": "tasks", "lists": "lists", "bizproc": "bizproc"}.get(head, head)


class Bitrix24Error(ActionError):
    """A Bitrix24 call failed. ``error_class`` says whether and when to try again.

    ``retry_after`` (seconds) is set for rate limits and blocked methods. The
    message never contains the webhook secret or a token. ``description`` is
    the portal's own ``error_description`` (or our text for a failure without
    one, in the language in force); ``detail`` keeps it unrendered.
    """

    def __init__(
        self,
        code: str,
        description: str | Text,
        *,
        method: str,
        error_class: ErrorClass | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.error_class = error_class or classify(code)
        self.method = method
        self.detail = description
        self.retry_after = retry_after
        #: Legacy CRM methods answer ``"error": ""`` (e.g. "Not found" from crm.deal.get).
        self.legacy = not code
        retryable = self.error_class is not ErrorClass.PERMANENT
        hint = hint_for(code, method) if not retryable else None
        text: Text | str = msg("b24_call", method=method, description=description)
        if not description:
            text = method
        if self.error_class is ErrorClass.UNCERTAIN:
            text = msg("b24_may_have_run", text=text)
        super().__init__(text, retryable=retryable, code=code or "ERROR", hint=hint)

    @property
    def description(self) -> str:
        return str(self.detail)

    @property
    def refused(self) -> bool:
        """True when the portal refused the call before running it (safe to send again)."""
        return self.error_class in _REFUSED
