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

from edo_rules.errors import SourceError

_PUBLISH = (
    "publish it: in 1C open «Настройка стандартного интерфейса OData» "
    "(Администрирование → Обслуживание → Корректировка данных, or All functions → "
    "Обработки), tick {what} and press «Сохранить и закрыть»; see docs/1c.md"
)
_HINTS = {
    "14": "1C could not parse the query; this is a bug in edo-rules or an unusual platform "
    "version: report it together with the request shown above",
    "20": "the 1C user may not read some rows: keep allowed_only: true in the onec section "
    "(the default) or grant the user read rights to these data",
    "21": "this 1C platform version does not implement the query; update the platform",
    "9": "the object was deleted in 1C between two requests; the next sync heals it",
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

    def __init__(self, status: int, message: str, *, code: str | None, hint: str | None, url: str):
        super().__init__(
            message, code=code, hint=hint, retryable=status >= 500 or status == 429, url=url
        )
        self.status = status


def error_from_answer(
    status: int, body: bytes, url: str, *, entity_set: str | None = None
) -> AnswerError:
    """The SourceError for a non-2xx answer (retryable when 5xx or 429)."""
    code, message = parse_error_body(body)
    where = f" for {entity_set}" if entity_set else ""
    text = f"1C answered HTTP {status}{where}" + (f": {message}" if message else "")
    hint = _hint(status, code, entity_set)
    if message and "404.15" in message:
        hint = "the web server refused a long query string: lower max_query in the onec section"
    return AnswerError(status, text, code=code, hint=hint, url=url)


def _hint(status: int, code: str | None, entity_set: str | None) -> str | None:
    if code == "6" and entity_set:
        what = describe_set(entity_set)
        return f"the set {entity_set} is not published; " + _PUBLISH.format(what=what)
    if code in _HINTS:
        return _HINTS[code]
    if status == 404 and code is None:
        return (
            "check url and base (the publication name) in the onec section; the web "
            "publication must have «Публиковать стандартный интерфейс OData» ticked"
        )
    return _STATUS_HINTS.get(status, _SERVER_HINT if status >= 500 else None)


_STATUS_HINTS = {
    401: "check user and password in the onec section (the password comes from the "
    "environment variable named there); the 1C user needs the role УдаленныйДоступOData",
    403: "the 1C user lacks rights: give it the role УдаленныйДоступOData",
}
_SERVER_HINT = "1C failed on its side; edo-rules retries, and the next sync heals what was missed"


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
