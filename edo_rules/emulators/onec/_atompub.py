"""The service root: an AtomPub service document, or its JSON form with ``$format=json``.

Without ``$format`` the root of ``standard.odata`` answers an AtomPub
``<service>`` document whose workspace lists one ``app:collection`` per
published set, its name as the collection's first child ``atom:title`` — the
shape odata1c 0.0.2, written against real bases, parses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from edo_rules.emulators.onec._render import json_body


def service_document(service_url: str, names: Iterable[str]) -> bytes:
    collections = "".join(
        f"<collection href={quoteattr(name)}><atom:title>{escape(name)}</atom:title></collection>"
        for name in names
    )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<service xmlns="http://www.w3.org/2007/app" xmlns:atom="http://www.w3.org/2005/Atom" '
        f"xml:base={quoteattr(service_url)}>"
        f"<workspace><atom:title>Default</atom:title>{collections}</workspace></service>"
    )
    return text.encode("utf-8")


def service_json(service_url: str, names: Iterable[str]) -> bytes:
    value: list[dict[str, Any]] = [{"name": name, "url": name} for name in names]
    return json_body({"odata.metadata": f"{service_url}$metadata", "value": value})
