"""Building an EDO document with its basis document, link and first state.

The rows are returned per set rather than inserted, so the generator can
bulk-load a hundred thousand documents and the acting API can insert one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edo_rules.emulators.onec import _rows, _schema
from edo_rules.emulators.onec._publication import CURRENT_FLAG
from edo_rules.emulators.onec._wire import EMPTY_REF, fmt_dt

if TYPE_CHECKING:
    from edo_rules.emulators.onec._base import OneCBase

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """What EDO document to create."""

    kind: str
    outgoing: bool
    counterparty: str
    organization: str
    responsible: str
    amount: float
    at: datetime
    contract: str = EMPTY_REF


@dataclass(frozen=True, slots=True)
class Step:
    """One state change in a document's life (an action in the journal)."""

    at: datetime
    action: str
    state: str
    user: str = EMPTY_REF
    comment: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Built:
    """The rows of one document, by set, and its key."""

    key: str
    doc_set: str
    basis: tuple[str, str]
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, name: str, row: Row) -> None:
        self.rows.setdefault(name, []).append(row)


def build_document(base: OneCBase, spec: DocumentSpec, number: int) -> Built:
    """The EDO document, its basis document and the link between them (no state yet)."""
    from edo_rules.emulators.onec._base import KINDS

    basis_set, regulation, universal, operation = KINDS[spec.kind]
    doc_set = _schema.OUTGOING if spec.outgoing else _schema.INCOMING
    key = base.guid()
    basis = _basis(base, spec, basis_set)
    built = Built(key, doc_set, basis)
    if basis_set == _schema.SALES and spec.outgoing:
        built.add(
            _schema.SALES,
            _sales_row(
                base, spec, key=basis[1], universal=universal, operation=operation, number=number
            ),
        )
    row = _edo_row(base, spec, key, regulation, number)
    if not base.publication.numbered:
        del row["Number"]  # numbering off: the number is НомерДокумента alone
    built.add(doc_set, row)
    prefixed = base.prefixed()
    for link in _links(base, key, doc_set, basis, prefixed=prefixed):
        built.add(_schema.OBJECTS, link)
    base.present(key, f"{'Исходящий' if spec.outgoing else 'Входящий'} ЭДО {number:09d}")
    return built


def _links(
    base: OneCBase, key: str, doc_set: str, basis: tuple[str, str], *, prefixed: bool
) -> list[Row]:
    """The rows of ОбъектыУчетаДокументовЭДО: one, or with the current flag also an old one.

    With the flag, every fourth document also keeps an outdated link to an
    invoice, written after the current row (as a re-linked document has it).
    """
    row = _rows.object_row(key, doc_set, basis, prefixed=prefixed)
    if not base.publication.current_flag:
        return [row]
    rows = [{**row, CURRENT_FLAG: True}]
    if int(key[:2], 16) % 4 == 0:
        old = _rows.object_row(key, doc_set, (_schema.INVOICES, base.guid()), prefixed=prefixed)
        rows.append({**old, CURRENT_FLAG: False})
    return rows


def signature(base: OneCBase, doc: Row, doc_set: str, action: str, at: datetime) -> Row | None:
    """The signatures register row an action leaves: ours on signing, theirs on receipt."""
    if not base.publication.signatures or base.generation != "bp30":
        return None
    key = str(doc["Ref_Key"])
    if action == "Подписание":
        user = str(doc["Ответственный_Key"])
        holder, installer, number = base.presentation(user), user, 1
    elif action == "ПолучениеПодписиКонтрагента":
        holder = _rows.counterparty_signer(str(doc["Контрагент_Key"]))
        installer, number = EMPTY_REF, 2
    else:
        return None
    return _rows.signature_row(key, doc_set, number, at=at, holder=holder, installer=installer)


def _basis(base: OneCBase, spec: DocumentSpec, basis_set: str) -> tuple[str, str]:
    if basis_set == _schema.CONTRACTS and spec.contract != EMPTY_REF:
        return basis_set, spec.contract
    if not spec.outgoing and basis_set == _schema.SALES:
        return "Document_ПоступлениеТоваровУслуг", base.guid()
    if not spec.outgoing and basis_set == _schema.TAX_INVOICES_OUT:
        return _schema.TAX_INVOICES_IN, base.guid()
    return basis_set, base.guid()


def _sales_row(
    base: OneCBase, spec: DocumentSpec, *, key: str, universal: bool, operation: str, number: int
) -> Row:
    base.present(key, f"Реализация {number:011d}")
    return _rows.document_row(
        key,
        base.next_version(),
        f"{number:011d}",
        spec.at,
        Организация_Key=spec.organization,
        Контрагент_Key=spec.counterparty,
        ДоговорКонтрагента_Key=spec.contract,
        Ответственный_Key=spec.responsible,
        СуммаДокумента=spec.amount,
        ЭтоУниверсальныйДокумент=universal,
        ВидОперации=operation,
    )


def _edo_row(base: OneCBase, spec: DocumentSpec, key: str, regulation: str, number: int) -> Row:
    from edo_rules.emulators.onec._base import edo_kind_key

    dated = "ДатаОтправки" if spec.outgoing else "ДатаПолучения"
    received = fmt_dt(spec.at) if not spec.outgoing else fmt_dt(None)
    return _rows.document_row(
        key,
        base.next_version(),
        f"0000-{number:06d}",
        spec.at,
        ДатаДокумента=_rows.day(spec.at.date()),
        НомерДокумента=str(number),
        ДатаПодписания=fmt_dt(None),
        ДатаАннулирования=fmt_dt(None),
        Контрагент_Key=spec.counterparty,
        ДоговорКонтрагента_Key=spec.contract,
        Организация_Key=spec.organization,
        Ответственный_Key=spec.responsible,
        СуммаДокумента=spec.amount,
        ТипРегламента=regulation,
        ВидДокумента_Key=edo_kind_key(spec.kind) if base.generation == "bp30" else EMPTY_REF,
        ТребуетсяПодтверждение=True,
        Остановлен=False,
        ПричинаОстановки="",
        СписокПодписантов=[],
        **{dated: received},
    )


def apply_steps(base: OneCBase, built: Built, steps: Sequence[Step]) -> None:
    """Play a document's history: journal rows, the final state row, the changed fields."""
    doc = built.rows[built.doc_set][0]
    for step in steps:
        doc.update(step.changes)
        for line in doc["СписокПодписантов"]:
            line["Ref_Key"] = built.key
        if base.generation == "bp30":
            journal = _rows.journal_row(
                built.key,
                built.doc_set,
                at=step.at,
                action=step.action,
                state=step.state,
                user=step.user,
                prefixed=True,
            )
            built.add(_schema.JOURNAL, journal)
            signed = signature(base, doc, built.doc_set, step.action, step.at)
            if signed is not None:
                built.add(_schema.SIGNATURES, signed)
    last = steps[-1]
    if base.generation == "legacy":
        row = _rows.legacy_state_row(
            built.key, built.doc_set, built.basis, last.state, prefixed=base.prefixed()
        )
        built.add(_schema.LEGACY_STATES, row)
        return
    row = _rows.state_row(
        built.key, built.doc_set, last.state, last.at, last.comment, prefixed=base.prefixed()
    )
    built.add(_schema.STATES, row)


def add_document(base: OneCBase, spec: DocumentSpec) -> str:
    """Create one document now (the acting API): state ТребуетсяПодписание."""
    number = len(base.sets[built_set(spec)].rows) + 1
    built = build_document(base, spec, number)
    first = Step(spec.at, "Формирование", "ТребуетсяПодписание", spec.responsible)
    apply_steps(base, built, [first])
    for name, rows in built.rows.items():
        for row in rows:
            base.insert(name, row)
    return built.key


def built_set(spec: DocumentSpec) -> str:
    return _schema.OUTGOING if spec.outgoing else _schema.INCOMING
