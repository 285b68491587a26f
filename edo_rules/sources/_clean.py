"""What a source reads, cleaned before it reaches the store (see :mod:`edo_rules._untrusted`).

Fields shown on one line — numbers, names, signers, the contract's number —
lose line breaks, control characters and bidirectional overrides; the
rejection and event comments keep their line breaks but lose the rest. A
counterparty types its name and its comment: neither may start a line of its
own in a task title, the CLI or a log.
"""

from __future__ import annotations

from dataclasses import replace

from edo_rules._untrusted import clean_text, one_line
from edo_rules.model import ContractRef, Counterparty, Document, Signer, StatusEvent

__all__ = ["clean_document", "clean_event"]


def _line(value: str | None) -> str | None:
    return None if value is None else one_line(value)


def _text(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def _counterparty(value: Counterparty) -> Counterparty:
    return replace(value, name=one_line(value.name), inn=_line(value.inn), kpp=_line(value.kpp))


def _contract(value: ContractRef | None) -> ContractRef | None:
    return None if value is None else replace(value, number=one_line(value.number))


def _signer(value: Signer) -> Signer:
    return replace(value, name=one_line(value.name))


def _printable(*texts: str | None) -> bool:
    """True when none of ``texts`` has a character the cleaners change.

    Both cleaners change only non-printable characters (controls, breaks, tabs,
    bidi marks): a printable text is returned as it is, so most documents skip
    the copies below.
    """
    return all(text is None or text.isprintable() for text in texts)


def clean_document(doc: Document) -> Document:
    """``doc`` with its one-line fields on one line and its comment without controls."""
    party, contract = doc.counterparty, doc.contract
    if _printable(
        doc.number,
        party.name,
        party.inn,
        party.kpp,
        doc.organization,
        None if contract is None else contract.number,
        doc.rejection_comment,
        doc.responsible,
        *(signer.name for signer in doc.signers),
    ):
        return doc
    return replace(
        doc,
        number=one_line(doc.number),
        counterparty=_counterparty(doc.counterparty),
        organization=_line(doc.organization),
        contract=_contract(doc.contract),
        rejection_comment=_text(doc.rejection_comment),
        signers=tuple(_signer(s) for s in doc.signers),
        responsible=_line(doc.responsible),
    )


def clean_event(event: StatusEvent) -> StatusEvent:
    """``event`` with its actor on one line and its comment without controls.

    The 1C state names stay as read: the mapping compares them with the stored
    ones to find new events, and the CLI and the templates escape them anyway.
    """
    if _printable(event.comment, event.actor):
        return event
    return replace(
        event,
        comment=_text(event.comment),
        actor=_line(event.actor),
    )
