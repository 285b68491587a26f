"""Finding documents the way an admin names them: an id, «Договор № 183», ``183``.

Every command that takes a document takes either its id (the 1C Ref_Key) or
its number, optionally with the kind and date as printed in the title
(«Договор № 183 от 26.04.2024», «УПД №183», ``183``). A number that fits
several documents is an error listing them, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from edo_rules._messages import t
from edo_rules._untrusted import printable
from edo_rules.errors import EdoRulesError
from edo_rules.model import Document, Kind, Status
from edo_rules.store.base import Store

_KIND_WORDS = {
    "договор": Kind.CONTRACT,
    "акт": Kind.ACT,
    "упд": Kind.UPD,
    "счёт": Kind.INVOICE,
    "счет": Kind.INVOICE,
    "документ": Kind.OTHER,
}
_REF = re.compile(
    rf"^\s*(?:(?P<kind>{'|'.join(_KIND_WORDS)})(?=[\s№])\s*)?(?:№\s*)?(?P<number>\S+?)"
    r"(?:\s+от\s+(?P<date>\d{2}\.\d{2}\.\d{4}))?\s*$",
    re.IGNORECASE,
)


class DocumentNotFoundError(EdoRulesError):
    """No document has this id or number."""


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    """What ``edo-rules docs`` filters on; ``None`` fields match everything."""

    number: str | None = None
    inn: str | None = None
    counterparty: str | None = None
    status: Status | None = None

    def matches(self, doc: Document) -> bool:
        return (
            (self.number is None or _same_number(doc.number, self.number))
            and (self.inn is None or doc.counterparty.inn == self.inn.strip())
            and (
                self.counterparty is None
                or self.counterparty.casefold() in doc.counterparty.name.casefold()
            )
            and (self.status is None or doc.status == self.status)
        )


def find_documents(store: Store, query: DocumentQuery) -> list[Document]:
    """Every document matching ``query``, by date then number.

    A number or an ИНН is found through the store's indexes: the distinct numbers
    are compared as :func:`_same_number` does (spaces around, letter case), then
    only the documents with those numbers are read, so a million documents are
    not decoded to find one, and a number written two ways is still ambiguous.
    A name or a status alone reads the documents one by one.
    """
    inn = query.inn.strip() if query.inn is not None else None
    candidates: Iterable[Document]
    if query.number is not None:
        wanted = _bare_number(query.number).casefold()
        numbers = [n for n in store.document_numbers() if n.strip().casefold() == wanted]
        candidates = store.documents_with(numbers=numbers, inn=inn) if numbers else []
    elif inn is not None:
        candidates = store.documents_with(inn=inn)
    else:
        candidates = store.iter_documents()
    found = [doc for doc in candidates if query.matches(doc)]
    return sorted(found, key=lambda d: (d.date or date.min, d.number, d.id))


def resolve_document(store: Store, ref: str) -> Document:
    """The document whose id is ``ref``, else the one whose number (kind, date) it names."""
    doc = store.get_document(ref)
    if doc is not None:
        return doc
    parsed = _REF.match(ref)
    if parsed is None:
        raise DocumentNotFoundError(t("doc_not_found", ref=ref))
    kind = _KIND_WORDS.get((parsed["kind"] or "").casefold())
    on = datetime.strptime(parsed["date"], "%d.%m.%Y").date() if parsed["date"] else None
    found = [
        d
        for d in find_documents(store, DocumentQuery(number=parsed["number"]))
        if (kind is None or d.kind == kind) and (on is None or d.date == on)
    ]
    if not found:
        raise DocumentNotFoundError(t("doc_not_found", ref=ref))
    if len(found) > 1:
        raise EdoRulesError(t("doc_ambiguous", ref=ref, found="\n".join(_lines(found))))
    return found[0]


def _same_number(have: str, wanted: str) -> bool:
    return have.strip().casefold() == _bare_number(wanted).casefold()


def _bare_number(typed: str) -> str:
    return typed.strip().lstrip("№").strip()


def _lines(documents: Iterable[Document]) -> list[str]:
    return [f"  {d.id}  {printable(d.title)}  {printable(d.counterparty.name)}" for d in documents]
