"""The canonical model: frozen dataclasses shared by every layer.

Every ``datetime`` here is timezone-aware (sources convert 1C's zone-less local
times with the configured server time zone). Money is ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What the document is."""

    CONTRACT = "contract"
    ACT = "act"
    UPD = "upd"
    INVOICE = "invoice"
    TAX_INVOICE = "tax_invoice"
    OTHER = "other"


class Direction(StrEnum):
    """Whether we sent the document (outgoing) or received it (incoming)."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"


class Status(StrEnum):
    """Canonical EDO statuses; the 1C → canonical mapping is data (a preset per 1C generation)."""

    DRAFT = "draft"
    AWAITING_OUR_SIGNATURE = "awaiting_our_signature"
    SENT = "sent"  # waiting for the counterparty
    SIGNED = "signed"
    SIGNED_WITH_CORRECTIONS = "signed_with_corrections"
    REJECTED = "rejected"  # needs correction
    REVOKED = "revoked"
    CLOSED = "closed"
    ERROR = "error"
    UNKNOWN = "unknown"  # a 1C state the mapping does not know: kept raw, reported


#: Timestamp fields of a Document that a time rule may count from (``since:``).
TIMESTAMP_FIELDS: tuple[str, ...] = (
    "status_changed_at",
    "sent_at",
    "our_signed_at",
    "counterparty_signed_at",
    "rejected_at",
    "revoked_at",
    "synced_at",
)


class Side(StrEnum):
    """Which party a signature belongs to."""

    OURS = "ours"
    COUNTERPARTY = "counterparty"


@dataclass(frozen=True, slots=True)
class Counterparty:
    """The other party of the document (a company or a sole trader)."""

    name: str
    inn: str | None = None
    kpp: str | None = None


@dataclass(frozen=True, slots=True)
class ContractRef:
    """The contract a document is made under."""

    number: str
    date: date | None = None


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signed, for which side, and when."""

    side: Side
    name: str
    signed_at: datetime | None = None
    #: The name is an organisation's (no person's name was published), not a person's.
    organization: bool = False


@dataclass(frozen=True, slots=True)
class CrmBinding:
    """Bitrix24 ids the document is bound to (resolved by the CRM binding, cached)."""

    company_id: int | None = None
    deal_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """One EDO document (the 1C EDO document's ``Ref_Key`` is the id)."""

    id: str
    kind: Kind
    number: str
    date: date | None
    direction: Direction
    status: Status
    status_1c: str
    counterparty: Counterparty
    amount: Decimal | None = None
    currency: str = "RUB"
    organization: str | None = None
    contract: ContractRef | None = None
    basis: str | None = None
    status_changed_at: datetime | None = None
    sent_at: datetime | None = None
    our_signed_at: datetime | None = None
    counterparty_signed_at: datetime | None = None
    rejected_at: datetime | None = None
    revoked_at: datetime | None = None
    rejection_comment: str | None = None
    signers: tuple[Signer, ...] = ()
    responsible: str | None = None
    crm: CrmBinding = field(default_factory=CrmBinding)
    pdf_url: str | None = None
    version: str | None = None
    synced_at: datetime | None = None
    #: The 1C web client's link that opens the document (``…#e1cib/data/Документ.…?ref=…``).
    onec_url: str | None = None

    @property
    def title(self) -> str:
        """A human title such as «Договор № 17 от 26.04.2024»."""
        names = {
            Kind.CONTRACT: "Договор",
            Kind.ACT: "Акт",
            Kind.UPD: "УПД",
            Kind.INVOICE: "Счёт",
            Kind.TAX_INVOICE: "Счёт-фактура",
            Kind.OTHER: "Документ",
        }
        text = f"{names[self.kind]} № {self.number}"
        if self.date is not None:
            text += f" от {self.date:%d.%m.%Y}"
        return text


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One recorded status change of a document (the signing history).

    ``historical`` marks events found by the first (initial) sync: they are
    history, not triggers, so event rules never fire on them.
    """

    document_id: str
    at: datetime
    to_status: Status
    to_raw: str
    from_status: Status | None = None
    from_raw: str | None = None
    comment: str | None = None
    actor: str | None = None
    historical: bool = False
    id: int | None = None  # assigned by the store


class RequestState(StrEnum):
    """Where an action request is in the outbox."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    FAILED = "failed"  # permanent failure, kept with its reason
    IN_DOUBT = "in_doubt"  # in flight at a crash and the adapter cannot check
    DROPPED = "dropped"  # dropped by the admin


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule fired for a document: unique per (rule_key, document_id, step, episode)."""

    rule_key: str  # "<playbook name>/<rule id>"
    document_id: str
    step: str  # "do", "escalate[1]", "repeat[2]", "event"
    episode: str  # the value of `since` (ISO) or the status event's 1C record (event_episode)
    due_at: datetime
    fired_at: datetime
    playbook_hash: str
    skipped: bool = False  # recorded but not acted on (catch-up policy)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One action to carry out, written to the outbox with its firing."""

    action: str
    params: Mapping[str, Any]
    idempotency_key: str
    document_id: str
    rule_key: str
    created_at: datetime
    firing_id: int | None = None
    state: RequestState = RequestState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    id: int | None = None
    #: When its firing was due (None: not known). A dispatcher looks up in the
    #: remote system, before creating, what was due before it started.
    due_at: datetime | None = None


class OutcomeStatus(StrEnum):
    """What became of one attempt to carry out an action request."""

    DONE = "done"
    RETRY = "retry"  # retryable failure: send again later
    FAILED = "failed"  # permanent failure
    IN_DOUBT = "in_doubt"  # may or may not have taken effect; not re-sent automatically


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of executing (or checking) one action request."""

    request_id: int
    status: OutcomeStatus
    at: datetime
    remote_id: str | None = None
    reason: str | None = None
    retry_after: float | None = None  # seconds, when the remote side said so


@dataclass(frozen=True, slots=True)
class CounterpartyStats:
    """What the signing history says about a counterparty over the last 12 months.

    Counts outgoing documents by the month they were decided (signed or
    rejected); working days run from the day after sending to the day of
    signing, on the production calendar. Medians are ``None`` with no signature.
    """

    inn: str | None
    signed: int = 0
    median_working_days: float | None = None
    p90_working_days: int | None = None
    rejections: int = 0
