"""Model ↔ JSON-ready dicts: an exact, strict round trip for stores and file sources.

Decimals travel as strings, dates and aware datetimes as ISO text (the UTC
offset kept as written), enums by value, tuples as lists. Decoding is strict:
a missing field, a wrong type, an unknown enum value or a naive datetime raises
:class:`CodecError` naming the field, so a file source can report the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from edo_rules.model import (
    ContractRef,
    Counterparty,
    CrmBinding,
    Direction,
    Document,
    Kind,
    Side,
    Signer,
    Status,
    StatusEvent,
)

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")


class CodecError(ValueError):
    """A value cannot be decoded; ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


# -- scalar helpers -----------------------------------------------------------


def utc_text(value: datetime) -> str:
    """The normalised, sortable UTC text of an aware datetime (used in indexes and episodes).

    ``isoformat`` omits a zero fraction, and ``'+' < '.'`` in ASCII, so the
    texts still sort chronologically.
    """
    return value.astimezone(UTC).isoformat()


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _d(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _opt(data: Mapping[str, Any], key: str, decode: Callable[[str, Any], _T]) -> _T | None:
    value = data.get(key)
    return None if value is None else decode(key, value)


def _str(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise CodecError(field, f"expected a string, got {type(value).__name__} {value!r}")
    return value


def _int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(field, f"expected an integer, got {value!r}")
    return value


def _bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise CodecError(field, f"expected true or false, got {value!r}")
    return value


def _decimal(field: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CodecError(field, f"expected a number, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise CodecError(field, f"{value!r} is not a number") from None
    if not result.is_finite():
        raise CodecError(field, f"{value!r} is not a finite number")
    return result


def _date(field: str, value: Any) -> date:
    try:
        return date.fromisoformat(_str(field, value))
    except ValueError:
        raise CodecError(field, f"{value!r} is not a date (expected YYYY-MM-DD)") from None


def _datetime(field: str, value: Any) -> datetime:
    try:
        result = datetime.fromisoformat(_str(field, value))
    except ValueError:
        raise CodecError(
            field, f"{value!r} is not a date-time (expected e.g. 2024-04-26T10:30:00+03:00)"
        ) from None
    if result.tzinfo is None or result.utcoffset() is None:
        raise CodecError(field, f"{value!r} has no UTC offset (add e.g. +03:00)")
    return result


def _enum(cls: type[_E]) -> Callable[[str, Any], _E]:
    def decode(field: str, value: Any) -> _E:
        try:
            return cls(_str(field, value))
        except ValueError:
            allowed = ", ".join(member.value for member in cls)
            raise CodecError(field, f"{value!r} is not one of: {allowed}") from None

    return decode


def _mapping(field: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CodecError(field, f"expected an object, got {value!r}")
    return value


def _nested(field: str, value: Any, decode: Callable[[Mapping[str, Any]], _T]) -> _T:
    try:
        return decode(_mapping(field, value))
    except CodecError as exc:
        raise CodecError(f"{field}.{exc.field}", str(exc).split(": ", 1)[1]) from None


def _required(data: Mapping[str, Any], key: str) -> Any:
    if key not in data or data[key] is None:
        raise CodecError(key, "is required")
    return data[key]


# -- documents ----------------------------------------------------------------


def document_to_dict(doc: Document) -> dict[str, Any]:
    """A JSON-ready dict of every field of ``doc``."""
    return {
        "id": doc.id,
        "kind": doc.kind.value,
        "number": doc.number,
        "date": _d(doc.date),
        "direction": doc.direction.value,
        "status": doc.status.value,
        "status_1c": doc.status_1c,
        "counterparty": {
            "name": doc.counterparty.name,
            "inn": doc.counterparty.inn,
            "kpp": doc.counterparty.kpp,
        },
        "amount": None if doc.amount is None else str(doc.amount),
        "currency": doc.currency,
        "organization": doc.organization,
        "contract": None
        if doc.contract is None
        else {"number": doc.contract.number, "date": _d(doc.contract.date)},
        "basis": doc.basis,
        "status_changed_at": _dt(doc.status_changed_at),
        "sent_at": _dt(doc.sent_at),
        "our_signed_at": _dt(doc.our_signed_at),
        "counterparty_signed_at": _dt(doc.counterparty_signed_at),
        "rejected_at": _dt(doc.rejected_at),
        "revoked_at": _dt(doc.revoked_at),
        "rejection_comment": doc.rejection_comment,
        "signers": [
            {"side": s.side.value, "name": s.name, "signed_at": _dt(s.signed_at)}
            | ({"organization": True} if s.organization else {})
            for s in doc.signers
        ],
        "responsible": doc.responsible,
        "crm": {
            "company_id": doc.crm.company_id,
            "deal_id": doc.crm.deal_id,
            "contact_id": doc.crm.contact_id,
        },
        "pdf_url": doc.pdf_url,
        "version": doc.version,
        "synced_at": _dt(doc.synced_at),
        "onec_url": doc.onec_url,
    }


def _counterparty(data: Mapping[str, Any]) -> Counterparty:
    return Counterparty(
        name=_str("name", _required(data, "name")),
        inn=_opt(data, "inn", _str),
        kpp=_opt(data, "kpp", _str),
    )


def _contract(data: Mapping[str, Any]) -> ContractRef:
    return ContractRef(
        number=_str("number", _required(data, "number")), date=_opt(data, "date", _date)
    )


def _signer(data: Mapping[str, Any]) -> Signer:
    return Signer(
        side=_enum(Side)("side", _required(data, "side")),
        name=_str("name", _required(data, "name")),
        signed_at=_opt(data, "signed_at", _datetime),
        organization=_opt(data, "organization", _bool) or False,
    )


def _crm(data: Mapping[str, Any]) -> CrmBinding:
    return CrmBinding(
        company_id=_opt(data, "company_id", _int),
        deal_id=_opt(data, "deal_id", _int),
        contact_id=_opt(data, "contact_id", _int),
    )


def _signers(value: Any) -> tuple[Signer, ...]:
    if not isinstance(value, list):
        raise CodecError("signers", f"expected a list, got {value!r}")
    return tuple(_nested(f"signers[{i}]", item, _signer) for i, item in enumerate(value))


_DOCUMENT_FIELDS = frozenset(f.name for f in fields(Document))


def document_from_dict(data: Mapping[str, Any]) -> Document:
    """Decode :func:`document_to_dict` output (or a hand-written equivalent); strict."""
    unknown = sorted(set(data) - _DOCUMENT_FIELDS)
    if unknown:
        raise CodecError(unknown[0], "is not a document field")
    contract = data.get("contract")
    crm = data.get("crm")
    return Document(
        id=_str("id", _required(data, "id")),
        kind=_enum(Kind)("kind", _required(data, "kind")),
        number=_str("number", _required(data, "number")),
        date=_opt(data, "date", _date),
        direction=_enum(Direction)("direction", _required(data, "direction")),
        status=_enum(Status)("status", _required(data, "status")),
        status_1c=_str("status_1c", _required(data, "status_1c")),
        counterparty=_nested("counterparty", _required(data, "counterparty"), _counterparty),
        amount=_opt(data, "amount", _decimal),
        currency=_str("currency", data.get("currency", "RUB")),
        organization=_opt(data, "organization", _str),
        contract=None if contract is None else _nested("contract", contract, _contract),
        basis=_opt(data, "basis", _str),
        status_changed_at=_opt(data, "status_changed_at", _datetime),
        sent_at=_opt(data, "sent_at", _datetime),
        our_signed_at=_opt(data, "our_signed_at", _datetime),
        counterparty_signed_at=_opt(data, "counterparty_signed_at", _datetime),
        rejected_at=_opt(data, "rejected_at", _datetime),
        revoked_at=_opt(data, "revoked_at", _datetime),
        rejection_comment=_opt(data, "rejection_comment", _str),
        signers=_signers(data.get("signers", [])),
        responsible=_opt(data, "responsible", _str),
        crm=CrmBinding() if crm is None else _nested("crm", crm, _crm),
        pdf_url=_opt(data, "pdf_url", _str),
        version=_opt(data, "version", _str),
        synced_at=_opt(data, "synced_at", _datetime),
        onec_url=_opt(data, "onec_url", _str),
    )


# -- status events ------------------------------------------------------------

_EVENT_FIELDS = frozenset(f.name for f in fields(StatusEvent))


def event_to_dict(event: StatusEvent) -> dict[str, Any]:
    """A JSON-ready dict of a status event."""
    return {
        "document_id": event.document_id,
        "at": event.at.isoformat(),
        "to_status": event.to_status.value,
        "to_raw": event.to_raw,
        "from_status": None if event.from_status is None else event.from_status.value,
        "from_raw": event.from_raw,
        "comment": event.comment,
        "actor": event.actor,
        "historical": event.historical,
        "id": event.id,
    }


def event_from_dict(data: Mapping[str, Any]) -> StatusEvent:
    """Decode a status event; strict, like :func:`document_from_dict`."""
    unknown = sorted(set(data) - _EVENT_FIELDS)
    if unknown:
        raise CodecError(unknown[0], "is not a status event field")
    return StatusEvent(
        document_id=_str("document_id", _required(data, "document_id")),
        at=_datetime("at", _required(data, "at")),
        to_status=_enum(Status)("to_status", _required(data, "to_status")),
        to_raw=_str("to_raw", _required(data, "to_raw")),
        from_status=_opt(data, "from_status", _enum(Status)),
        from_raw=_opt(data, "from_raw", _str),
        comment=_opt(data, "comment", _str),
        actor=_opt(data, "actor", _str),
        historical=_bool("historical", data.get("historical", False)),
        id=_opt(data, "id", _int),
    )


def parse_datetime(value: str) -> datetime:
    """Parse stored aware ISO text (trusted data written by :func:`_dt`)."""
    return datetime.fromisoformat(value)


# -- the trusted fast path ------------------------------------------------------------

_KINDS = {member.value: member for member in Kind}
_DIRECTIONS = {member.value: member for member in Direction}
_STATUSES = {member.value: member for member in Status}
_SIDES = {member.value: member for member in Side}


def _tdt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _tdate(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _trusted_contract(data: Mapping[str, Any]) -> ContractRef:
    return ContractRef(data["number"], _tdate(data["date"]))


def document_from_trusted(data: Mapping[str, Any]) -> Document:
    """Decode what :func:`document_to_dict` wrote, without re-validating it.

    For a store reading back its own rows: several times faster than
    :func:`document_from_dict`, which is for data from outside.
    """
    party, contract, crm, amount = (
        data["counterparty"],
        data["contract"],
        data["crm"],
        data["amount"],
    )
    return Document(
        id=data["id"],
        kind=_KINDS[data["kind"]],
        number=data["number"],
        date=_tdate(data["date"]),
        direction=_DIRECTIONS[data["direction"]],
        status=_STATUSES[data["status"]],
        status_1c=data["status_1c"],
        counterparty=Counterparty(party["name"], party["inn"], party["kpp"]),
        amount=None if amount is None else Decimal(amount),
        currency=data["currency"],
        organization=data["organization"],
        contract=None
        if contract is None
        else ContractRef(contract["number"], _tdate(contract["date"])),
        basis=data["basis"],
        status_changed_at=_tdt(data["status_changed_at"]),
        sent_at=_tdt(data["sent_at"]),
        our_signed_at=_tdt(data["our_signed_at"]),
        counterparty_signed_at=_tdt(data["counterparty_signed_at"]),
        rejected_at=_tdt(data["rejected_at"]),
        revoked_at=_tdt(data["revoked_at"]),
        rejection_comment=data["rejection_comment"],
        signers=tuple(
            Signer(_SIDES[s["side"]], s["name"], _tdt(s["signed_at"]), s.get("organization", False))
            for s in data["signers"]
        ),
        responsible=data["responsible"],
        crm=CrmBinding(crm["company_id"], crm["deal_id"], crm["contact_id"]),
        pdf_url=data["pdf_url"],
        version=data["version"],
        synced_at=_tdt(data["synced_at"]),
        onec_url=data.get("onec_url"),
    )
