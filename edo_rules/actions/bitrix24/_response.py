"""Turn one HTTP response into a JSON body or a :class:`Bitrix24Error`.

Decides by the ``error`` code, never by the HTTP status; a non-JSON body (an
HTML error page near the limits) or a 5xx without a code is *uncertain*: the
call may have run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from edo_rules._messages import Text, msg
from edo_rules.actions.bitrix24._redact import Redactor
from edo_rules.actions.bitrix24.errors import Bitrix24Error, ErrorClass


def parse_response(
    response: httpx.Response, content: bytes, method: str, redact: Redactor
) -> tuple[dict[str, Any], Bitrix24Error | None]:
    """The decoded body and the error it carries (``None`` on success).

    ``content`` is the body as read (streamed and capped by the client).
    """
    status = response.status_code
    if response.is_redirect:
        return {}, _moved(response, method)
    try:
        body = json.loads(content)
    except ValueError:
        return {}, _uncertain(msg("b24_non_json", status=status), method)
    if isinstance(body, dict) and "error" in body:
        return body, _coded(body, status, method, redact)
    if status >= 500:
        return body, _uncertain(msg("b24_no_error_code", status=status), method)
    if not isinstance(body, dict) or "result" not in body:
        return body, _uncertain(msg("b24_no_result", status=status), method)
    return body, None


def _coded(body: dict[str, Any], status: int, method: str, redact: Redactor) -> Bitrix24Error:
    code = str(body.get("error") or "")
    description: str | Text = redact(str(body.get("error_description") or ""))
    if not code:
        # Legacy CRM methods answer "error": "" with the reason in the description.
        description = description or msg("b24_no_reason", status=status)
    return Bitrix24Error(code, description, method=method)


def _uncertain(text: Text, method: str) -> Bitrix24Error:
    return Bitrix24Error(
        "ERROR_UNEXPECTED_ANSWER",
        text,
        method=method,
        error_class=ErrorClass.UNCERTAIN,
    )


def _moved(response: httpx.Response, method: str) -> Bitrix24Error:
    location = urlsplit(response.headers.get("location", ""))
    target: str | Text = msg("b24_unknown_address")
    if location.netloc:
        target = f"{location.scheme}://{location.netloc}"
    return Bitrix24Error(
        "PORTAL_MOVED",
        msg("b24_moved", status=response.status_code, target=target),
        method=method,
        error_class=ErrorClass.PERMANENT,
    )
