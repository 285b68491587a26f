"""Bitrix24 error codes → error classes, and the one exception the client raises.

The client decides by the ``error`` code (case-insensitively), never by the
HTTP status: the docs and the SDKs disagree on statuses, not on codes.
"""

from __future__ import annotations

from enum import StrEnum

from edo_rules.errors import ActionError


class ErrorClass(StrEnum):
    """What the caller may do after an error."""

    RATE_LIMIT = "rate_limit"  # refused before it ran: always safe to send again
    UNREACHABLE = "unreachable"  # no connection: nothing was sent, safe to send again
    METHOD_BLOCKED = "method_blocked"  # OPERATION_TIME_LIMIT: wait for operating_reset_at
    EXPIRED_TOKEN = "expired_token"  # OAuth: refresh once, repeat
    UNCERTAIN = "uncertain"  # 5xx, HTML, timeout: may have run; retry only idempotent calls
    PERMANENT = "permanent"  # sending again will fail the same way


_SCOPE_HINT = (
    "add the scope '{scope}' to the incoming webhook (Разработчикам → Другое → "
    "Входящий вебхук → Настройка прав) or to the OAuth application, then restart"
)

_HINTS: dict[str, str] = {
    "INVALID_CREDENTIALS": "the webhook secret or user is wrong: create a new incoming "
    "webhook and put its URL into the bitrix24 section of the config",
    "NO_AUTH_FOUND": "the webhook secret is wrong or the webhook was deleted: "
    "create a new incoming webhook and update the config",
    "INVALID_TOKEN": "the OAuth token is not valid: reinstall the application and "
    "write the new token pair into the token file",
    "EXPIRED_TOKEN": "the OAuth refresh token expired (180 days): reinstall the application",
    "ACCESS_DENIED": "the webhook's user has no rights for this method, or REST is not "
    "available on the portal's plan: use an administrator's webhook on a paid plan",
    "ERROR_METHOD_NOT_FOUND": "the portal does not know this method: check the module "
    "is enabled on the portal",
    "METHOD_NOT_FOUND": "the portal does not know this method: check the module is enabled",
    "PORTAL_DELETED": "the portal was deleted: check the portal address in the config",
    "OVERLOAD_LIMIT": "Bitrix24 support blocked REST for the portal: contact support",
    "ERROR_BATCH_LENGTH_EXCEEDED": "report a bug: the client sent more than 50 commands",
    "INVALID_GRANT": "the OAuth refresh token was rejected: reinstall the application "
    "and write the new token pair into the token file",
    "INVALID_REQUEST": "use the https:// address of the portal",
    "PORTAL_MOVED": "the portal moved to another address: update the webhook URL",
}

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


def hint_for(code: str, method: str) -> str | None:
    """What the admin must do about a permanent error, if we know."""
    upper = code.upper()
    if upper == "INSUFFICIENT_SCOPE":
        return _SCOPE_HINT.format(scope=scope_of(method))
    return _HINTS.get(upper)


def scope_of(method: str) -> str:
    """The REST scope a method belongs to (``im.notify.system.add`` → ``im``)."""
    head = method.split(".", 1)[0].lower()
    return {"tasks": "tasks", "lists": "lists", "bizproc": "bizproc"}.get(head, head)


class Bitrix24Error(ActionError):
    """A Bitrix24 call failed. ``error_class`` says whether and when to try again.

    ``retry_after`` (seconds) is set for rate limits and blocked methods. The
    message never contains the webhook secret or a token.
    """

    def __init__(
        self,
        code: str,
        description: str,
        *,
        method: str,
        error_class: ErrorClass | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.error_class = error_class or classify(code)
        self.method = method
        self.description = description
        self.retry_after = retry_after
        #: Legacy CRM methods answer ``"error": ""`` (e.g. "Not found" from crm.deal.get).
        self.legacy = not code
        retryable = self.error_class is not ErrorClass.PERMANENT
        hint = hint_for(code, method) if not retryable else None
        text = f"{method}: {description}" if description else method
        if self.error_class is ErrorClass.UNCERTAIN:
            text += "; the call may have run"
        super().__init__(text, retryable=retryable, code=code or "ERROR", hint=hint)

    @property
    def refused(self) -> bool:
        """True when the portal refused the call before running it (safe to send again)."""
        return self.error_class in _REFUSED
