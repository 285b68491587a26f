"""Turning 1C error answers into one :class:`SourceError` with a hint for the admin.

1C answers errors in several shapes: a JSON ``odata.error`` with a string
code, a JSON ``exception/inner/descr`` chain (platform failures), an XML
``m:error`` (without ``$format=json``) and an HTML page from the platform or
the web server. All are read here, once.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from edo_rules._messages import Text, msg
from edo_rules.errors import SourceError

_HINTS = {
    "14": "onec_hint_code_14",
    "20": "onec_hint_code_20",
    "21": "onec_hint_code_21",
    "9": "onec_hint_code_9",
}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def describe_set(name: str) -> str:
    """«Регистр сведений "СостоянияДокументовЭДО"» style name for the publishing hint."""
    kinds = {
        "Catalog_": "Справочник",
        "Document_": "Документ",
        "InformationRegister_": "Регистр сведений",
        "AccumulationRegister_": "Регистр накопления",
    }
    for prefix, title in kinds.items():
        if name.startswith(prefix):
            return f"{title} «{name[len(prefix) :]}» ({name})"
    return name


class AnswerError(SourceError):
    """A non-2xx answer of 1C; ``status`` is the HTTP status (5xx halves the page)."""

    def __init__(
        self, status: int, message: str | Text, *, code: str | None, hint: Text | None, url: str
    ):
        super().__init__(
            message, code=code, hint=hint, retryable=status >= 500 or status == 429, url=url
        )
        self.status = status


def error_from_answer(
    status: int, body: bytes, url: str, *, entity_set: str | None = None
) -> AnswerError:
    """The SourceError for a non-2xx answer (retryable when 5xx or 429)."""
    code, message = parse_error_body(body)
    text = msg(
        "onec_answer",
        status=status,
        where=msg("onec_for_set", set=entity_set) if entity_set else "",
        details=msg("onec_details", message=message) if message else "",
    )
    hint = _hint(status, code, entity_set)
    if message and "404.15" in message:
        hint = msg("onec_hint_long_query")
    return AnswerError(status, text, code=code, hint=hint, url=url)


def _hint(status: int, code: str | None, entity_set: str | None) -> Text | None:
    if code == "6" and entity_set:
        return msg("onec_hint_publish_set", set=entity_set, what=describe_set(entity_set))
    if code in _HINTS:
        return msg(_HINTS[code])
    if status == 404 and code is None:
        return msg("onec_hint_not_found")
    if status in (401, 403):
        return msg(f"onec_hint_{status}")
    return msg("onec_hint_server") if status >= 500 else None


def parse_error_body(body: bytes) -> tuple[str | None, str | None]:
    """(1C code, message) from any error shape 1C sends; (None, None) when empty."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None
    if text.startswith("{"):
        return _from_json(text)
    if text.startswith("<?xml") or "<m:error" in text[:300] or "<error" in text[:300]:
        return _from_xml(text)
    return None, _from_html(text)


def _from_json(text: str) -> tuple[str | None, str | None]:
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        return None, _shorten(text)
    if not isinstance(data, dict):
        return None, _shorten(text)
    error = data.get("odata.error") or data.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        if isinstance(message, dict):
            message = message.get("value")
        return (None if code is None else str(code)), _shorten(str(message or ""))
    return None, _chain(data.get("exception", data))


def _chain(node: Any) -> str | None:
    parts: list[str] = []
    while isinstance(node, dict) and len(parts) < 10:
        descr = node.get("descr")
        if isinstance(descr, str) and descr and descr not in parts:
            parts.append(descr)
        node = node.get("inner")
    return _shorten(": ".join(parts)) if parts else None


def _from_xml(text: str) -> tuple[str | None, str | None]:
    code = re.search(r"<(?:\w+:)?code>(.*?)</(?:\w+:)?code>", text, re.DOTALL)
    message = re.search(r"<(?:\w+:)?message[^>]*>(.*?)</(?:\w+:)?message>", text, re.DOTALL)
    return (
        html.unescape(code.group(1)).strip() if code else None,
        _shorten(html.unescape(message.group(1))) if message else _from_html(text),
    )


def _from_html(text: str) -> str | None:
    plain = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
    return _shorten(plain) if plain else None


def _shorten(text: str, limit: int = 500) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
