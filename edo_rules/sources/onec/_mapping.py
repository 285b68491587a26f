"""From 1C rows to the canonical model: a Document and its new StatusEvents.

Rules that matter (see docs/1c.md):

* ``ДатаПодписания`` is OUR signature; the counterparty's signature comes
  from the state (the moment the state became "signed"), never from it.
* Signers and times come from the action journal when it is published, from
  the state register otherwise.
* An unknown state becomes ``Status.UNKNOWN`` with the raw name kept.
* Bindings to the CRM and the PDF link are kept from the stored document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

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
from edo_rules.sources._clean import clean_document, clean_event
from edo_rules.sources.onec import _sets as sets
from edo_rules.sources.onec._links import Links
from edo_rules.sources.onec._lookups import Lookups, StateRow
from edo_rules.sources.onec._presets import Preset
from edo_rules.sources.onec._values import Reader, aware, naive

_SIGNED = (Status.SIGNED, Status.SIGNED_WITH_CORRECTIONS)


class Step(NamedTuple):
    """One known state of the document: when, which, by whom, with what comment."""

    at: datetime  # naive: the 1C server's local time
    state: str
    user: str | None
    comment: str


class Moment(NamedTuple):
    """A step's aware time and canonical status, computed once per step."""

    at: datetime
    status: Status


@dataclass(frozen=True, slots=True)
class Context:
    """What every mapping call shares."""

    preset: Preset
    lookups: Lookups
    zone: ZoneInfo
    now: datetime
    historical: bool
    links: Links | None = None


def map_document(
    ctx: Context,
    entity_set: str,
    row: dict[str, object],
    state: StateRow | None,
    stored: Document | None,
) -> tuple[Document, list[StatusEvent]]:
    """The document and the status events not yet recorded for it."""
    reader = Reader(entity_set, row)
    doc_id = reader.ref("Ref_Key", required=True) or ""
    steps = _steps(ctx, doc_id, state, reader)
    raw = state.state if state is not None else (steps[-1].state if steps else "")
    status = ctx.preset.status(raw)
    timeline = _timeline(ctx, steps)
    events = _events(ctx, doc_id, steps, timeline, stored)
    document = _document(
        ctx,
        reader,
        entity_set=entity_set,
        doc_id=doc_id,
        raw=raw,
        status=status,
        steps=steps,
        timeline=timeline,
        state=state,
        stored=stored,
    )
    return clean_document(document), [clean_event(event) for event in events]


def _timeline(ctx: Context, steps: Sequence[Step]) -> list[Moment]:
    """Each step's aware time and status (the events and the timestamps all read them)."""
    zone, status = ctx.zone, ctx.preset.status
    return [Moment(step.at.replace(tzinfo=zone), status(step.state)) for step in steps]


def _steps(ctx: Context, doc_id: str, state: StateRow | None, reader: Reader) -> list[Step]:
    steps = [Step(e.at, e.state, e.user, "") for e in ctx.lookups.journal.entries(doc_id)]
    if state is None:
        return steps
    at = naive(state.at) or _fallback_time(ctx, reader)
    if not steps or steps[-1].state != state.state:
        steps.append(Step(max(at, steps[-1].at) if steps else at, state.state, None, state.comment))
    elif state.comment:
        last = steps[-1]
        steps[-1] = last._replace(comment=state.comment)
    return steps


def _fallback_time(ctx: Context, reader: Reader) -> datetime:
    """A register without a change date: the latest date the document shows, else now."""
    fields = ("ДатаАннулирования", "ДатаПодписания", "ДатаОтправки", "ДатаПолучения", "Date")
    known = [value for value in (reader.moment(name) for name in fields) if value]
    if known:
        return max(known)
    return ctx.now.astimezone(ctx.zone).replace(tzinfo=None)


def _events(
    ctx: Context,
    doc_id: str,
    steps: Sequence[Step],
    timeline: Sequence[Moment],
    stored: Document | None,
) -> list[StatusEvent]:
    prev_raw = stored.status_1c if stored is not None else None
    prev_status = stored.status if stored is not None else None
    known_until = stored.status_changed_at if stored is not None else None
    events: list[StatusEvent] = []
    for step, (at, status) in zip(steps, timeline, strict=True):
        if (known_until is not None and at <= known_until) or step.state == prev_raw:
            continue
        events.append(
            StatusEvent(
                document_id=doc_id,
                at=at,
                to_status=status,
                to_raw=step.state,
                from_status=prev_status,
                from_raw=prev_raw,
                comment=step.comment or None,
                actor=ctx.lookups.users.get(step.user) if step.user else None,
                historical=ctx.historical,
            )
        )
        prev_raw, prev_status = step.state, status
    return events


def _first(timeline: Sequence[Moment], wanted: tuple[Status, ...]) -> datetime | None:
    """When the document last entered one of ``wanted`` (its latest such episode)."""
    found = None
    previous = None
    for at, status in timeline:
        if status in wanted and previous not in wanted:
            found = at
        previous = status
    return found


def _document(
    ctx: Context,
    reader: Reader,
    *,
    entity_set: str,
    doc_id: str,
    raw: str,
    status: Status,
    steps: Sequence[Step],
    timeline: Sequence[Moment],
    state: StateRow | None,
    stored: Document | None,
) -> Document:
    lookups = ctx.lookups
    outgoing = entity_set == sets.OUTGOING
    moved = aware(reader.moment(sets.DIRECTION_DATE[entity_set]), ctx.zone)
    counterparty = _counterparty(lookups, reader.ref("Контрагент_Key"), stored)
    signed = _first(timeline, _SIGNED) if outgoing else moved
    if signed is None and stored is not None:
        # The steps may cover only a recent window of the journal: keep what was known.
        signed = stored.counterparty_signed_at
    revoked = aware(reader.moment("ДатаАннулирования"), ctx.zone) or _first(
        timeline, (Status.REVOKED,)
    )
    comment = state.comment if state is not None else ""
    document = Document(
        id=doc_id,
        kind=_kind(ctx, reader, doc_id, state, stored),
        number=reader.text("НомерДокумента") or reader.text("Number"),
        date=reader.day("ДатаДокумента") or reader.day("Date"),
        direction=Direction.OUTGOING if outgoing else Direction.INCOMING,
        status=status,
        status_1c=raw,
        counterparty=counterparty,
        amount=reader.number("СуммаДокумента"),
        organization=_name(
            lookups.organizations, reader.ref("Организация_Key"), stored, "organization"
        ),
        contract=_contract(lookups, reader.ref("ДоговорКонтрагента_Key"), stored),
        basis=_basis(ctx, doc_id, state) or (stored.basis if stored is not None else None),
        status_changed_at=timeline[-1].at if timeline else None,
        sent_at=moved,
        our_signed_at=aware(reader.moment("ДатаПодписания"), ctx.zone),
        counterparty_signed_at=signed,
        rejected_at=_first(timeline, (Status.REJECTED,))
        or (stored.rejected_at if stored is not None else None),
        revoked_at=revoked,
        rejection_comment=(comment or None) if status in (Status.REJECTED, Status.CLOSED) else None,
        signers=_signers(ctx, reader, counterparty, signed, steps),
        responsible=_name(lookups.users, reader.ref("Ответственный_Key"), stored, "responsible"),
        crm=stored.crm if stored is not None else CrmBinding(),
        pdf_url=stored.pdf_url if stored is not None else None,
        version=reader.text("DataVersion") or None,
        synced_at=ctx.now,
    )
    return ctx.links.complete(document, entity_set) if ctx.links is not None else document


def _counterparty(lookups: Lookups, key: str | None, stored: Document | None) -> Counterparty:
    if key is None:
        return Counterparty(name="")
    found = lookups.counterparties.get(key)
    if found is None and stored is not None:
        return stored.counterparty
    return found or Counterparty(name=f"(не найден в 1С: {key})")


def _contract(lookups: Lookups, key: str | None, stored: Document | None) -> ContractRef | None:
    if key is None:
        return None
    found = lookups.contracts.get(key)
    return found if found is not None or stored is None else stored.contract


def _name(
    names: Mapping[str, str], key: str | None, stored: Document | None, attribute: str
) -> str | None:
    """A catalog name; a stored document's old name when the catalog entry is not loaded."""
    if key is None:
        return None
    found = names.get(key)
    if found is None and stored is not None:
        value = getattr(stored, attribute)
        return value if isinstance(value, str) else None
    return found


def _basis_ref(ctx: Context, doc_id: str, state: StateRow | None) -> tuple[str, str] | None:
    if state is not None and state.basis is not None:
        return state.basis
    return ctx.lookups.basis.get(doc_id)


def _basis(ctx: Context, doc_id: str, state: StateRow | None) -> str | None:
    ref = _basis_ref(ctx, doc_id, state)
    return None if ref is None else f"{ref[0]}(guid'{ref[1]}')"


def _kind(
    ctx: Context, reader: Reader, doc_id: str, state: StateRow | None, stored: Document | None
) -> Kind:
    """The regulation type first (УПД), then the basis document; else the preset's default."""
    rules = ctx.preset.kinds
    regulation = rules.regulation.get(reader.text("ТипРегламента"))
    if regulation is not None:
        return regulation
    edo_kind = rules.edo_kinds.get(
        ctx.lookups.edo_kinds.get(reader.ref("ВидДокумента_Key") or "", "")
    )
    if edo_kind is not None:
        return edo_kind
    ref = _basis_ref(ctx, doc_id, state)
    if ref is None:
        return stored.kind if stored is not None else rules.otherwise
    return rules.of_basis(ref[0], ctx.lookups.sales.get(ref[1]))


def _signers(
    ctx: Context,
    reader: Reader,
    counterparty: Counterparty,
    counterparty_at: datetime | None,
    steps: Sequence[Step],
) -> tuple[Signer, ...]:
    our_at = reader.moment("ДатаПодписания")
    users = ctx.lookups.users
    names = [
        users.get(line.ref("Подписант_Key") or "", "") for line in reader.lines("СписокПодписантов")
    ]
    if our_at and not any(names):
        actor = next((s.user for s in steps if s.at == our_at and s.user), None)
        actor = actor or reader.ref("Ответственный_Key")
        names = [users.get(actor or "", "")]
    signers = [
        Signer(Side.OURS, name, aware(our_at, ctx.zone)) for name in names if name and our_at
    ]
    if counterparty_at is not None:
        signers.extend(_their_signers(ctx, reader, counterparty, counterparty_at))
    return tuple(signers)


def _their_signers(
    ctx: Context, reader: Reader, counterparty: Counterparty, at: datetime
) -> list[Signer]:
    """The counterparty's signers by name (signatures register), else the organisation."""
    doc = reader.ref("Ref_Key") or ""
    found = ctx.lookups.signatures.get(doc, [])
    if found:
        return [Signer(Side.COUNTERPARTY, name, aware(when, ctx.zone)) for name, when in found]
    return [Signer(Side.COUNTERPARTY, counterparty.name, at, organization=True)]
