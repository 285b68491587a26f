"""Links that open a document: the 1C web client's navigation link and a PDF/page template.

A 1C navigation link names the object by its metadata name and its
reference: ``e1cib/data/Документ.ЭлектронныйДокументИсходящийЭДО?ref=<32 hex>``.
The 32 hex digits are the GUID's groups reordered, 4th and 5th first, then
the 3rd, 2nd and 1st, without dashes: GUID ``51012ccc-397d-11de-b595-00055d80a2b9``
is ``ref=b59500055d80a2b911de397d51012ccc`` (the platform stores the
time-based UUID with its node and clock sequence first, so references sort by
creation time). Source: docs/1c.md, «Ссылки на документ».
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import quote

from edo_rules._messages import Text, msg
from edo_rules.errors import SourceError
from edo_rules.model import Document

_GUID = re.compile(r"^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$")
_REF = re.compile(r"^[0-9a-f]{32}$")
#: OData set prefix → the metadata class name a navigation link uses.
_CLASSES = {
    "Document_": "Документ",
    "Catalog_": "Справочник",
    "InformationRegister_": "РегистрСведений",
}
#: Fields a ``pdf_url`` template may use.
TEMPLATE_FIELDS = ("id", "ref", "number", "date", "inn", "kind", "direction", "onec_url")


def e1cib_ref(guid: str) -> str:
    """The ``ref=`` value of a navigation link for a 1C reference GUID."""
    match = _GUID.match(guid.lower())
    if match is None:
        raise ValueError(f"not a 1C reference GUID: {guid!r}")
    g1, g2, g3, g4, g5 = match.groups()
    return f"{g4}{g5}{g3}{g2}{g1}"


def guid_of_ref(ref: str) -> str:
    """The GUID a navigation link's ``ref=`` names (the inverse of :func:`e1cib_ref`)."""
    ref = ref.lower()
    if _REF.match(ref) is None:
        raise ValueError(f"not a navigation link reference: {ref!r}")
    return f"{ref[24:32]}-{ref[20:24]}-{ref[16:20]}-{ref[0:4]}-{ref[4:16]}"


def navigation_link(entity_set: str, guid: str) -> str:
    """``e1cib/data/Документ.Имя?ref=…`` for an object of an OData set."""
    for prefix, cls in _CLASSES.items():
        if entity_set.startswith(prefix):
            return f"e1cib/data/{cls}.{entity_set[len(prefix) :]}?ref={e1cib_ref(guid)}"
    raise ValueError(f"no navigation link for set {entity_set!r}")


def web_client_url(web_url: str, entity_set: str, guid: str) -> str:
    """The web client's address that opens the object (Cyrillic percent-encoded)."""
    link = quote(navigation_link(entity_set, guid), safe="/?=.")
    return f"{web_url.rstrip('/')}/#{link}"


def check_template(template: str) -> Text | None:
    """A problem with a ``pdf_url`` template, or None when it is usable."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:  # Python's own text, as it is
        return msg("onec_pdf_template_syntax", error=str(exc))
    unknown = sorted({name for name in names if name not in TEMPLATE_FIELDS})
    if unknown:
        return msg(
            "onec_pdf_template_fields", unknown=", ".join(unknown), known=", ".join(TEMPLATE_FIELDS)
        )
    return None


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with its fields, each percent-encoded for a URL (a checked template)."""
    encoded = {name: quote(values.get(name, ""), safe="") for name in TEMPLATE_FIELDS}
    encoded["onec_url"] = values.get("onec_url", "")  # a URL already
    try:
        return template.format_map(encoded)
    except (KeyError, ValueError, IndexError) as exc:  # pragma: no cover - checked at load
        raise SourceError(msg("onec_pdf_url", error=str(exc))) from exc


class Links:
    """Fills ``onec_url`` and (with a template) ``pdf_url`` of mapped documents."""

    def __init__(self, web_url: str, pdf_template: str = ""):
        self.web_url = web_url
        self.pdf_template = pdf_template

    def complete(self, document: Document, entity_set: str) -> Document:
        onec_url = web_client_url(self.web_url, entity_set, document.id)
        pdf_url = document.pdf_url
        if self.pdf_template:
            values = {
                "id": document.id,
                "ref": e1cib_ref(document.id),
                "number": document.number,
                "date": "" if document.date is None else document.date.isoformat(),
                "inn": document.counterparty.inn or "",
                "kind": document.kind.value,
                "direction": document.direction.value,
                "onec_url": onec_url,
            }
            pdf_url = fill(self.pdf_template, values)
        return replace(document, onec_url=onec_url, pdf_url=pdf_url)
