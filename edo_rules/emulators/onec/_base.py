"""The emulated 1C base: entity sets, users, publication, and acting like 1C over time.

Times are naive server-local date-times, as 1C keeps them; ``now`` is the
base's own clock, moved forward by :meth:`OneCBase.advance` (never the wall clock).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from edo_rules.emulators.onec import _rows, _schema
from edo_rules.emulators.onec._errors import entity_not_found, not_found_segment
from edo_rules.emulators.onec._publication import Publication
from edo_rules.emulators.onec._query import Query
from edo_rules.emulators.onec._sets import EntitySet
from edo_rules.emulators.onec._wire import EMPTY_REF, data_version, fmt_dt, new_guid

Row = dict[str, Any]

#: Kind of document → (basis set, ТипРегламента, ЭтоУниверсальныйДокумент, ВидОперации).
KINDS: dict[str, tuple[str, str, bool, str]] = {
    "contract": (_schema.CONTRACTS, "Неформализованный", False, ""),
    "act": (_schema.SALES, "Формализованный", False, "Услуги"),
    "upd": (_schema.SALES, "УПД", True, "Товары"),
    "invoice": (_schema.INVOICES, "Неформализованный", False, ""),
    # A счёт-фактура travels in a formalized (ФНС) format; its basis is issued or received.
    "tax_invoice": (_schema.TAX_INVOICES_OUT, "Формализованный", False, ""),
    "other": (_schema.SALES, "Формализованный", False, "Товары"),
}


#: Our kind → the name of its item in Catalog_ВидыДокументовЭДО.
EDO_KIND_NAMES = {
    "contract": "Договор",
    "act": "Акт выполненных работ",
    "upd": "УПД",
    "invoice": "Счет на оплату",
    "tax_invoice": "Счет-фактура",
    "other": "Прочее",
}


def edo_kind_key(kind: str) -> str:
    """The key of an EDO document kind's catalog item (stable across bases)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"Catalog_ВидыДокументовЭДО/{kind}"))


class OneCBase:
    """An in-memory BP 3.0 base as the OData interface shows it.

    ``generation`` is ``"bp30"`` (the current 1С-ЭДО library: the state register
    СостоянияДокументовЭДО and the action journal) or ``"legacy"`` (the
    first-generation register СостоянияЭД with the enum СостоянияВерсийЭД).
    ``published`` are the sets the admin added to the standard OData interface;
    ``publication`` is the variant of what those sets hold (see :class:`Publication`).
    """

    def __init__(
        self,
        *,
        generation: str = "bp30",
        seed: int = 0,
        now: datetime | None = None,
        published: Iterable[str] | None = None,
        prefix_share: float = 0.5,
        publication: Publication | None = None,
    ):
        if generation not in ("bp30", "legacy"):
            raise ValueError(f"generation must be 'bp30' or 'legacy', not {generation!r}")
        self.generation = generation
        self.publication = publication or Publication()
        self.sets: dict[str, EntitySet] = _schema.make_sets(self.publication)
        default = _schema.BP30_SETS if generation == "bp30" else _schema.LEGACY_SETS
        self.published: set[str] = set(default if published is None else published)
        self.now = now or datetime(2026, 11, 27, 12, 0, 0)
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.prefix_share = prefix_share
        self._logins: dict[str, str] = {}
        self._restricted: dict[str, frozenset[str]] = {}
        self._presentations: dict[str, str] = {}
        self._version = 0
        if generation == "bp30":
            self._edo_kinds()

    # -- identity and access ---------------------------------------------------
    def add_login(self, login: str, password: str) -> None:
        """Allow an infobase user to log in over HTTP Basic."""
        self._logins[login] = password

    def check_login(self, login: str, password: str) -> bool:
        return login in self._logins and self._logins[login] == password

    def restrict(self, login: str, counterparties: Iterable[str]) -> None:
        """Row-level security: ``login`` may not read rows of these counterparties."""
        self._restricted[login] = frozenset(counterparties)

    def _restriction(self, login: str) -> Callable[[Mapping[str, Any]], bool] | None:
        hidden = self._restricted.get(login)
        if not hidden:
            return None

        def restricted(row: Mapping[str, Any]) -> bool:
            return any(row.get(name) in hidden for name in ("Контрагент_Key", "Owner_Key"))

        return restricted

    # -- queries ---------------------------------------------------------------
    def entity_set(self, name: str) -> EntitySet:
        """A published set, or ODataError code 6 naming the missing segment."""
        if name not in self.published or name not in self.sets:
            raise not_found_segment(name)
        return self.sets[name]

    def query(
        self,
        name: str,
        query: Query,
        login: str,
        shape: Callable[[Row, Row], Row] | None = None,
    ) -> tuple[list[Row], int | None]:
        with self.lock:
            return self.entity_set(name).execute(
                query, self.presentation, self._restriction(login), shape
            )

    def entity(self, name: str, key: str) -> Row:
        with self.lock:
            row = self.entity_set(name).get(key)
            if row is None or self.entity_set(name).key_field != "Ref_Key":
                raise entity_not_found()
            return row

    def presentation(self, key: str) -> str:
        return self._presentations.get(key, key)

    # -- building blocks (shared with the generator) ----------------------------
    def next_version(self) -> str:
        self._version += 1
        return data_version(self._version)

    def guid(self) -> str:
        return new_guid(self.rng)

    def prefixed(self) -> bool:
        """Whether the next composite reference carries ``StandardODATA.`` (both occur)."""
        return self.rng.random() < self.prefix_share

    def present(self, key: str, text: str) -> None:
        self._presentations[key] = text

    def insert(self, name: str, row: Row) -> Row:
        with self.lock:
            self.sets[name].insert(row)
        return row

    # -- catalogs ----------------------------------------------------------------
    def _edo_kinds(self) -> None:
        """The library's EDO document kinds, with keys fixed by name (no random draws)."""
        rows = []
        for number, (kind, name) in enumerate(EDO_KIND_NAMES.items(), start=1):
            key = edo_kind_key(kind)
            rows.append(_rows.catalog_row(key, self.next_version(), f"{number:09d}", name))
            self.present(key, name)
        self.sets[_schema.EDO_KINDS].load(rows)

    def add_catalog_item(self, name: str, description: str, **extra: Any) -> str:
        """Add a catalog item (a user, an organization, a counterparty, a contract)."""
        key = self.guid()
        code = f"{len(self.sets[name].rows) + 1:09d}"
        self.insert(name, _rows.catalog_row(key, self.next_version(), code, description, **extra))
        self.present(key, description)
        return key

    def add_counterparty(self, name: str, inn: str, kpp: str = "") -> str:
        return self.add_catalog_item(
            _schema.COUNTERPARTIES, name, ИНН=inn, КПП=kpp, НаименованиеПолное=name
        )

    def add_contract(
        self, counterparty: str, number: str, signed_on: date, organization: str = EMPTY_REF
    ) -> str:
        return self.add_catalog_item(
            _schema.CONTRACTS,
            f"Договор № {number} от {signed_on:%d.%m.%Y}",
            Owner_Key=counterparty,
            Организация_Key=organization,
            Номер=number,
            Дата=_rows.day(signed_on),
            СрокДействия=_rows.day(None),
            ВидДоговора="СПокупателем",
            ДоговорПодписан=True,
        )

    # -- acting like 1C over time ------------------------------------------------
    def advance(self, **delta: float) -> datetime:
        """Move the base's clock forward (``hours=2``, ``days=1`` …); returns the new time."""
        self.now += timedelta(**delta)
        return self.now

    def document(self, key: str) -> Row:
        """The EDO document row (outgoing or incoming)."""
        with self.lock:
            for name in (_schema.OUTGOING, _schema.INCOMING):
                row = self.sets[name].get(key)
                if row is not None:
                    return row
        raise KeyError(f"no EDO document {key}")

    def state(self, key: str) -> str:
        """The document's current state name as the published state register shows it."""
        with self.lock:
            if self.generation == "legacy":
                return str(self._row(_schema.LEGACY_STATES, key)["СостояниеВерсииЭД"])
            return str(self._row(_schema.STATES, key)["Состояние"])

    def _row(self, name: str, key: str) -> Row:
        row = self.sets[name].get(key)
        if row is None:
            raise KeyError(f"no row for {key} in {name}")
        return row

    def set_state(
        self,
        key: str,
        state: str,
        *,
        at: datetime | None = None,
        comment: str = "",
        action: str = "ИзменениеСостояния",
        user: str = EMPTY_REF,
        changes: Mapping[str, Any] | None = None,
    ) -> None:
        """Move a document to ``state`` (any name, even one no preset knows)."""
        at = at or self.now
        with self.lock:
            doc = self.document(key)
            doc_set = _doc_set(doc, self)
            if changes:
                self._update_document(doc_set, doc, changes)
            if self.generation == "legacy":
                self._set_legacy_state(key, doc_set, state)
                return
            new = _rows.state_row(key, doc_set, state, at, comment, prefixed=self.prefixed())
            old = self.sets[_schema.STATES].get(key)
            if old is None:
                self.sets[_schema.STATES].insert(new)
            else:
                self.sets[_schema.STATES].replace(old, new)
            journal = _rows.journal_row(
                key, doc_set, at=at, action=action, state=state, user=user, prefixed=True
            )
            self.sets[_schema.JOURNAL].insert(journal)
            from edo_rules.emulators.onec._documents import signature

            signed = signature(self, self.document(key), doc_set, action, at)
            if signed is not None:
                self.sets[_schema.SIGNATURES].insert(signed)

    def _set_legacy_state(self, key: str, doc_set: str, state: str) -> None:
        table = self.sets[_schema.LEGACY_STATES]
        old = table.get(key)
        basis = (_schema.SALES, EMPTY_REF)
        if old is not None:
            basis = (str(old["СсылкаНаОбъект_Type"]), str(old["СсылкаНаОбъект"]))
        new = _rows.legacy_state_row(key, doc_set, basis, state, prefixed=self.prefixed())
        if old is None:
            table.insert(new)
        else:
            table.replace(old, new)

    def _update_document(self, doc_set: str, doc: Row, changes: Mapping[str, Any]) -> None:
        new = {**doc, **changes, "DataVersion": self.next_version()}
        self.sets[doc_set].replace(doc, new)

    def edit(self, key: str, **changes: Any) -> None:
        """Change fields of an EDO document without touching its state (a new DataVersion)."""
        with self.lock:
            doc = self.document(key)
            self._update_document(_doc_set(doc, self), doc, changes)

    def send(self, key: str, *, at: datetime | None = None, signer: str | None = None) -> None:
        """Our side signs the outgoing document and sends it to the counterparty."""
        at = at or self.now
        doc = self.document(key)
        user = signer or str(doc["Ответственный_Key"])
        signers = [
            {
                "Ref_Key": key,
                "LineNumber": "1",
                "Подписант_Key": user,
                "Сертификат_Key": self.guid(),
            }
        ]
        changes = {"ДатаПодписания": fmt_dt(at), "СписокПодписантов": signers}
        self.set_state(
            key, "ТребуетсяОтправка", at=at, action="Подписание", user=user, changes=changes
        )
        sent = at + timedelta(minutes=1)
        self.set_state(
            key,
            "ОжидаетсяПодтверждение",
            at=sent,
            action="Отправка",
            user=user,
            changes={"ДатаОтправки": fmt_dt(sent)},
        )

    def sign(self, key: str, *, at: datetime | None = None, corrected: bool = False) -> None:
        """The counterparty signs: the exchange is complete."""
        state = "ОбменЗавершенСИсправлением" if corrected else "ОбменЗавершен"
        self.set_state(key, state, at=at, action="ПолучениеПодписиКонтрагента")

    def reject(self, key: str, comment: str = "", *, at: datetime | None = None) -> None:
        """The counterparty refuses to sign: our side must clarify."""
        self.set_state(
            key, "ТребуетсяУточнение", at=at, comment=comment, action="ПолучениеОтклонения"
        )

    def annul(self, key: str, *, at: datetime | None = None, confirmed: bool = True) -> None:
        """Offer to annul; when ``confirmed`` the counterparty agrees at once."""
        at = at or self.now
        self.set_state(key, "ОжидаетсяПодтверждениеАннулирования", at=at, action="Аннулирование")
        if confirmed:
            done = at + timedelta(minutes=5)
            changes = {"ДатаАннулирования": fmt_dt(done)}
            self.set_state(
                key, "Аннулирован", at=done, action="ПолучениеАннулирования", changes=changes
            )

    def create_document(
        self,
        *,
        counterparty: str,
        responsible: str,
        organization: str,
        kind: str = "act",
        outgoing: bool = True,
        amount: float = 10000.0,
        contract: str = EMPTY_REF,
        at: datetime | None = None,
    ) -> str:
        """Create an EDO document (state ТребуетсяПодписание) from a new basis document."""
        from edo_rules.emulators.onec._documents import DocumentSpec, add_document

        spec = DocumentSpec(
            kind=kind,
            outgoing=outgoing,
            counterparty=counterparty,
            contract=contract,
            organization=organization,
            responsible=responsible,
            amount=amount,
            at=at or self.now,
        )
        with self.lock:
            return add_document(self, spec)


def _doc_set(doc: Row, base: OneCBase) -> str:
    if base.sets[_schema.OUTGOING].get(str(doc["Ref_Key"])) is doc:
        return _schema.OUTGOING
    return _schema.INCOMING
