"""Response bodies exactly as 1C writes them: JSON, Atom XML, XML and HTML errors."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from edo_rules.emulators.onec._errors import ODataError

_ATOM_NS = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)


def json_body(value: Mapping[str, Any]) -> bytes:
    """1C writes UTF-8 JSON with Cyrillic as is."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def envelope(
    service_url: str, set_name: str, rows: Sequence[Mapping[str, Any]], count: int | None
) -> bytes:
    body: dict[str, Any] = {"odata.metadata": f"{service_url}$metadata#{set_name}"}
    if count is not None:
        body["odata.count"] = str(count)  # Int64 travels as a string
    body["value"] = rows
    return json_body(body)


def json_error(error: ODataError) -> bytes:
    if error.platform:
        inner = {"descr": error.message}
        return json_body({"exception": {"descr": "Ошибка при выполнении запроса", "inner": inner}})
    message = {"lang": "ru", "value": error.message}
    return json_body({"odata.error": {"code": error.code, "message": message}})


def xml_error(error: ODataError) -> bytes:
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<m:error xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f"<m:code>{escape(error.code)}</m:code>"
        f'<m:message xml:lang="ru">{escape(error.message)}</m:message></m:error>'
    )
    return text.encode("utf-8")


def html_error(reason: str) -> bytes:
    """The platform's HTML error page (a failure before the OData layer answered)."""
    text = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Ошибка</title></head>"
        "<body><h1>Ошибка при выполнении операции с информационной базой</h1>"
        f"<p>по причине:<br>{escape(reason)}</p></body></html>"
    )
    return text.encode("utf-8")


def atom_feed(service_url: str, set_name: str, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """A minimal, well-formed Atom feed: what 1C answers without ``$format=json``."""
    entries = "".join(_atom_entry(service_url, set_name, row) for row in rows)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<feed {_ATOM_NS} xml:base="{escape(service_url)}">'
        f"<id>{escape(service_url + set_name)}</id>"
        f'<title type="text">{escape(set_name)}</title>'
        f"<updated>0001-01-01T00:00:00Z</updated>{entries}</feed>"
    )
    return text.encode("utf-8")


def _atom_entry(service_url: str, set_name: str, row: Mapping[str, Any]) -> str:
    props = "".join(
        f"<d:{name}>{escape(_scalar(value))}</d:{name}>"
        for name, value in row.items()
        if "@" not in name and not isinstance(value, list | dict)
    )
    return (
        f"<entry><id>{escape(service_url + set_name)}</id>"
        f'<category term="StandardODATA.{escape(set_name)}" '
        'scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"/>'
        f'<content type="application/xml"><m:properties>{props}</m:properties></content></entry>'
    )


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
