"""Reference data the mapping needs, loaded whole (initial load) or by key (incremental).

Catalog names, basis documents, the action journal and the state register
are kept in compact dictionaries keyed by GUID; strings that repeat (state
names, user keys) are interned so 100,000 documents fit in little memory.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from edo_rules.errors import SourceError
from edo_rules.model import ContractRef, Counterparty
from edo_rules.sources.onec import _sets as sets
from edo_rules.sources.onec._client import ODataClient, PageRequest
from edo_rules.sources.onec._expand import JOURNAL_USER, Expansion
from edo_rules.sources.onec._pager import fetch_by_keys, iter_pages, parallel, requests_for
from edo_rules.sources.onec._presets import Preset
from edo_rules.sources.onec._reading import Reading
from edo_rules.sources.onec._values import Reader

if TYPE_CHECKING:
    from edo_rules.sources.onec._staging import Staging

log = logging.getLogger("edo_rules.sources.onec")
Row = dict[str, Any]
_intern = sys.intern


_COUNTERPARTY = ("Ref_Key", "Description", "ИНН", "КПП")
#: The flag of the current row of ОбъектыУчетаДокументовЭДО (newer library versions).
CURRENT_FLAG = "Актуальный"
_CONTRACT = ("Ref_Key", "Description", "Номер", "Дата")
_WHO = (JOURNAL_USER,)


class StateRow(NamedTuple):
    """One document's row of the state register."""

    doc: str
    doc_set: str | None
    state: str
    at: str | None  # zone-less local time; None when the register has no date
    comment: str
    basis: tuple[str, str] | None


class Entry(NamedTuple):
    """One action of the journal: the state it led to, when (naive local), and by whom."""

    at: datetime
    state: str
    user: str | None


class Journal:
    """The action journal packed into one string per document.

    A hundred thousand documents have a few hundred thousand actions; as
    tuples of datetimes they would take most of the sync's memory.
    """

    def __init__(self) -> None:
        self._packed: dict[str, str] = {}
        self._names: list[str] = [""]
        self._codes: dict[str, int] = {"": 0}

    def _code(self, name: str) -> int:
        code = self._codes.get(name)
        if code is None:
            code = self._codes[name] = len(self._names)
            self._names.append(name)
        return code

    def add(self, doc: str, at: str, state: str, user: str | None) -> None:
        item = f"{at}\x1f{self._code(state)}\x1f{self._code(user or '')}\x1e"
        packed = self._packed.get(doc, "")
        if f"\x1e{item}" not in f"\x1e{packed}":
            self._packed[doc] = packed + item

    def entries(self, doc: str) -> list[Entry]:
        """The document's actions, oldest first."""
        result = []
        for item in self._packed.get(doc, "").split("\x1e")[:-1]:
            at, state, user = item.split("\x1f")
            name = self._names[int(user)]
            result.append(Entry(datetime.fromisoformat(at), self._names[int(state)], name or None))
        result.sort(key=_when)
        return result

    def pop(self, doc: str) -> None:
        self._packed.pop(doc, None)

    def clear(self) -> None:
        self._packed.clear()

    def __contains__(self, doc: object) -> bool:
        return doc in self._packed


def _when(entry: Entry) -> datetime:
    return entry.at


@dataclass
class Lookups:
    """Everything beside the document rows that the mapping reads."""

    users: dict[str, str] = field(default_factory=dict)
    edo_kinds: dict[str, str] = field(default_factory=dict)  # ВидыДокументовЭДО: key → name
    organizations: dict[str, str] = field(default_factory=dict)
    counterparties: dict[str, Counterparty] = field(default_factory=dict)
    contracts: dict[str, ContractRef] = field(default_factory=dict)
    basis: dict[str, tuple[str, str]] = field(default_factory=dict)
    sales: dict[str, tuple[bool, str]] = field(default_factory=dict)
    journal: Journal = field(default_factory=Journal)
    unpublished: set[str] = field(default_factory=set)
    #: Document → the counterparty's signatures (certificate holder, naive local time).
    signatures: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def merge(self, other: Lookups) -> None:
        """Take the catalog objects, links and sales flags ``other`` read (not its journal)."""
        self.users.update(other.users)
        self.edo_kinds.update(other.edo_kinds)
        self.organizations.update(other.organizations)
        self.counterparties.update(other.counterparties)
        self.contracts.update(other.contracts)
        self.basis.update(other.basis)
        self.sales.update(other.sales)
        for doc, found in other.signatures.items():
            for signature in found:
                if signature not in self.signatures.setdefault(doc, []):
                    self.signatures[doc].append(signature)


def _optional(
    lookups: Lookups, entity_set: str, load: Callable[[], None], reading: Reading
) -> None:
    """Load an optional set; an unpublished one ($metadata, or code 6) is noted and skipped."""
    if entity_set in lookups.unpublished:
        return
    if not reading.published_set(entity_set):
        lookups.unpublished.add(entity_set)
        return
    try:
        load()
    except SourceError as exc:
        if exc.code != "6":
            raise
        lookups.unpublished.add(entity_set)
        log.warning("1C set %s is not published; going on without it (%s)", entity_set, exc)


#: What the mapping reads from each catalog's objects (beside Ref_Key).
CATALOG_FIELDS: dict[str, tuple[str, ...]] = {
    sets.USERS: ("Description",),
    sets.ORGANIZATIONS: ("Description",),
    sets.COUNTERPARTIES: _COUNTERPARTY[1:],
    sets.CONTRACTS: _CONTRACT[1:],
    sets.EDO_KINDS: ("Description",),
}


class Loader:
    """Fills :class:`Lookups` from 1C, whole or for given keys.

    With ``expansion`` a journal read by key brings its users nested
    (``$expand``), when the publication allows it. With ``staging`` (an
    initial load) the basis links, sales flags, actions and signatures go to
    disk instead, and each page of documents replays its own through
    :meth:`link` and :meth:`keep_signature`.
    """

    def __init__(
        self,
        client: ODataClient,
        preset: Preset,
        lookups: Lookups,
        reading: Reading,
        expansion: Expansion | None = None,
    ):
        self.client = client
        self.preset = preset
        self.lookups = lookups
        self.reading = reading
        self.expansion = expansion
        self.staging: Staging | None = None
        self.page = client.settings.page_size

    def keep(self, entity_set: str, row: Reader) -> None:
        """Keep one catalog object (read whole, by key, or nested in another row)."""
        store = {
            sets.USERS: self._user,
            sets.ORGANIZATIONS: self._organization,
            sets.COUNTERPARTIES: self._counterparty,
            sets.CONTRACTS: self._contract,
            sets.EDO_KINDS: self._edo_kind,
        }.get(entity_set)
        if store is not None:
            store(row)

    def by_keys(
        self,
        entity_set: str,
        field: str,
        keys: Iterable[str],
        select: tuple[str, ...],
        *,
        navigations: tuple[str, ...] = (),
        literal: Callable[[str], str] | None = None,
    ) -> list[Row]:
        """Rows whose ``field`` is one of ``keys``, with the objects of ``navigations`` nested
        when the publication allows ``$expand`` (kept in the lookups)."""
        wanted = list(dict.fromkeys(keys))

        def fetch(expand: tuple[str, ...]) -> list[Row]:
            return list(
                fetch_by_keys(
                    self.client,
                    entity_set,
                    field,
                    wanted,
                    select + expand,
                    literal=literal,
                    expand=expand,
                )
            )

        def fits(expand: tuple[str, ...]) -> bool:
            plain = PageRequest(entity_set, select)
            longer = PageRequest(entity_set, select + expand, expand=expand)
            count = len(wanted)
            return requests_for(self.client, longer, field, count) <= requests_for(
                self.client, plain, field, count
            )

        if self.expansion is None or not navigations or not wanted:
            return fetch(())
        return self.expansion.rows(entity_set, navigations, fetch, self.keep, fits)

    # -- catalogs ------------------------------------------------------------------
    def catalogs(
        self, keys: dict[str, set[str]] | None = None, *, only: tuple[str, ...] | None = None
    ) -> None:
        """Users, organizations, counterparties and contracts: all, or the missing keys.

        The four sets are independent: they are read together.
        """
        loads: list[Callable[[], None]] = []
        for entity_set, wanted_fields, order, store in (
            (sets.USERS, ("Ref_Key", "Description"), "Description", self._user),
            (sets.ORGANIZATIONS, ("Ref_Key", "Description"), "Description", self._organization),
            (sets.COUNTERPARTIES, _COUNTERPARTY, "Code", self._counterparty),
            (sets.CONTRACTS, _CONTRACT, "Code", self._contract),
            (sets.EDO_KINDS, ("Ref_Key", "Description"), "Description", self._edo_kind),
        ):
            if only is not None and entity_set not in only:
                continue
            select = self.reading.select(entity_set, wanted_fields)
            wanted = None if keys is None else keys.get(entity_set, set())
            if wanted is not None and not wanted:
                continue
            load = self._loader(entity_set, select, order, store, wanted)
            if entity_set == sets.COUNTERPARTIES:
                loads.append(load)  # without counterparties a document cannot be named
            else:
                loads.append(
                    functools.partial(_optional, self.lookups, entity_set, load, self.reading)
                )
        parallel(loads, self.client.settings.concurrency)

    def _loader(
        self,
        entity_set: str,
        select: tuple[str, ...],
        order: str,
        store: Callable[[Reader], None],
        wanted: set[str] | None,
    ) -> Callable[[], None]:
        def load() -> None:
            for row in self._rows(entity_set, select, wanted, order):
                store(Reader(entity_set, row))

        return load

    def _rows(
        self, entity_set: str, select: tuple[str, ...], wanted: Iterable[str] | None, order: str
    ) -> Iterable[Row]:
        orderby = self.reading.order(entity_set, order, "Ref_Key")
        request = PageRequest(entity_set, select, orderby=orderby, top=self.page)
        return self._all_or_keys(request, "Ref_Key", wanted, key=_ref)

    def _all_or_keys(
        self,
        request: PageRequest,
        field: str,
        wanted: Iterable[str] | None,
        *,
        key: Callable[[Row], Hashable],
        keep: Callable[[Row], bool] | None = None,
        navigations: tuple[str, ...] = (),
    ) -> Iterable[Row]:
        """Every row ``request`` pages through, or only those whose ``field`` is in ``wanted``."""
        entity_set = request.entity_set
        if wanted is not None:
            # Ref_Key is always a guid; other key fields take their literal from $metadata.
            literal = None if field == "Ref_Key" else self.reading.literal(entity_set, field)
            return self.by_keys(
                entity_set, field, wanted, request.select, navigations=navigations, literal=literal
            )
        return (
            row for page in iter_pages(self.client, request, key=key, keep=keep) for row in page
        )

    def _user(self, row: Reader) -> None:
        self.lookups.users[_intern(row.ref("Ref_Key", required=True) or "")] = row.text(
            "Description"
        )

    def _edo_kind(self, row: Reader) -> None:
        key = row.ref("Ref_Key", required=True) or ""
        self.lookups.edo_kinds[key] = row.text("Description")

    def _organization(self, row: Reader) -> None:
        key = row.ref("Ref_Key", required=True) or ""
        self.lookups.organizations[key] = row.text("Description")

    def _counterparty(self, row: Reader) -> None:
        key = row.ref("Ref_Key", required=True) or ""
        self.lookups.counterparties[key] = Counterparty(
            name=row.text("Description"), inn=row.text("ИНН") or None, kpp=row.text("КПП") or None
        )

    def _contract(self, row: Reader) -> None:
        key = row.ref("Ref_Key", required=True) or ""
        number = row.text("Номер") or row.text("Description")
        self.lookups.contracts[key] = ContractRef(number=number, date=row.day("Дата"))

    # -- basis documents -------------------------------------------------------------
    def basis(self, docs: Iterable[str] | None = None) -> None:
        """The accounting document of each EDO document (register ОбъектыУчетаДокументовЭДО)."""
        select = self.reading.select(
            sets.OBJECTS,
            ("ЭлектронныйДокумент", "ОбъектУчета", "ОбъектУчета_Type", CURRENT_FLAG),
        )

        def load() -> None:
            request = PageRequest(sets.OBJECTS, select, top=self.page)
            for row in self._all_or_keys(request, "ЭлектронныйДокумент", docs, key=_link):
                self._link(Reader(sets.OBJECTS, row))

        _optional(self.lookups, sets.OBJECTS, load, self.reading)

    def _link(self, row: Reader) -> None:
        doc = _intern(row.ref("ЭлектронныйДокумент", required=True) or "")
        target, kind = row.ref("ОбъектУчета"), row.type_name("ОбъектУчета")
        flag = row.row.get(CURRENT_FLAG)
        if self.staging is not None:
            self.staging.link(doc, kind, target, flag)
        else:
            self.link(doc, kind, target, flag)

    def link(self, doc: str, kind: str | None, target: str | None, flag: object) -> None:
        """Keep the document's basis link when it is the better one (in the order 1C sent them)."""
        if target is None or kind is None:
            return
        if flag is False:
            return  # an outdated link: the flagged row is the current one
        current = self.lookups.basis.get(doc)
        # A contract link is the weakest hint: prefer the sales document when there are both.
        # A row flagged current wins over any other.
        if current is not None and current[0] != sets.CONTRACTS and flag is not True:
            return
        self.lookups.basis[doc] = (_intern(kind), target)

    def sales(self, keys: Iterable[str] | None = None) -> None:
        """ЭтоУниверсальныйДокумент and ВидОперации of sales documents (act, УПД or other)."""
        select = self.reading.select(
            sets.SALES, ("Ref_Key", "ЭтоУниверсальныйДокумент", "ВидОперации")
        )

        def load() -> None:
            orderby = self.reading.order(sets.SALES, "Date", "Ref_Key")
            request = PageRequest(sets.SALES, select, orderby=orderby, top=self.page)
            for row in self._all_or_keys(request, "Ref_Key", keys, key=_ref):
                reader = Reader(sets.SALES, row)
                key = reader.ref("Ref_Key", required=True) or ""
                operation = _intern(reader.text("ВидОперации"))
                universal = reader.flag("ЭтоУниверсальныйДокумент")
                if self.staging is not None:
                    self.staging.sale(key, universal, operation)
                else:
                    self.lookups.sales[key] = (universal, operation)

        _optional(self.lookups, sets.SALES, load, self.reading)

    # -- signatures ----------------------------------------------------------------------
    def signatures(self, docs: Iterable[str] | None = None) -> None:
        """Who signed for the counterparty (register ЭлектронныеПодписи), when published.

        A signature without the user who set it (``УстановившийПодпись``) came
        from the counterparty. The binary resources (the signature and the
        certificate) are never selected.
        """
        select = self.reading.select(
            sets.SIGNATURES,
            ("ПодписанныйОбъект", "ДатаПодписи", "КомуВыданСертификат", "УстановившийПодпись_Key"),
        )

        def load() -> None:
            if len(select) < 4:
                return  # without the signer or who set it, the side is unknown
            orderby = self.reading.order(sets.SIGNATURES, "ДатаПодписи")
            request = PageRequest(sets.SIGNATURES, select, orderby=orderby, top=self.page)
            for row in self._all_or_keys(request, "ПодписанныйОбъект", docs, key=_signature):
                self._signature(Reader(sets.SIGNATURES, row))

        _optional(self.lookups, sets.SIGNATURES, load, self.reading)

    def _signature(self, row: Reader) -> None:
        doc = row.ref("ПодписанныйОбъект")
        at = row.local("ДатаПодписи")
        holder = row.text("КомуВыданСертификат").strip()
        if doc is None or at is None or not holder or row.ref("УстановившийПодпись_Key"):
            return
        if self.staging is not None:
            self.staging.signature(doc, holder, at)
        else:
            self.keep_signature(doc, holder, at)

    def keep_signature(self, doc: str, holder: str, at: str) -> None:
        found = self.lookups.signatures.setdefault(_intern(doc), [])
        if (holder, at) not in found:
            found.append((holder, at))

    # -- the action journal ------------------------------------------------------------
    def journal(self, docs: Iterable[str] | None = None, *, since: str | None = None) -> None:
        """Who did what and when (register ЖурналДействийПоЭДО), when it is published.

        All of it, the actions of ``docs``, or the actions since ``since`` (a
        zone-less 1C time): one paged request instead of a chunk per document.
        """
        select = self.reading.select(
            sets.JOURNAL,
            (
                "ЭлектронныйДокумент",
                "ЭлектронныйДокумент_Type",
                "ДатаИзменения",
                "СостояниеДокумента",
                "Пользователь_Key",
            ),
        )

        essential = ("ЭлектронныйДокумент", "ДатаИзменения", "СостояниеДокумента")

        def load() -> None:
            if not all(name in select for name in essential):
                return  # a journal without dates or states tells nothing (the summary names it)
            condition = None if since is None else f"ДатаИзменения ge datetime'{since}'"
            request = PageRequest(
                sets.JOURNAL, select, condition, "ДатаИзменения asc", top=self.page
            )
            keep = None if since is None else _since(since)
            # Read by key (a refresh, a document first seen): its users come nested, if they can.
            rows = self._all_or_keys(
                request, "ЭлектронныйДокумент", docs, key=_entry, keep=keep, navigations=_WHO
            )
            for row in rows:
                self._entry(Reader(sets.JOURNAL, row))

        _optional(self.lookups, sets.JOURNAL, load, self.reading)

    def _entry(self, row: Reader) -> None:
        doc = _intern(row.ref("ЭлектронныйДокумент", required=True) or "")
        at = row.local("ДатаИзменения")
        state = row.text("СостояниеДокумента")
        if at is None or not state:
            return
        user = row.ref("Пользователь_Key")
        if self.staging is not None:
            self.staging.action(doc, at, state, user)
        else:
            self.lookups.journal.add(doc, at, state, user)


def read_state(preset: Preset, row: Row) -> StateRow:
    """A state register row of the preset's register, checked and normalized."""
    spec = preset.register
    reader = Reader(spec.set, row)
    doc = reader.ref(spec.document, required=True) or ""
    state = reader.text(spec.state)
    at = reader.local(spec.changed_at) if spec.changed_at else None
    comment = reader.text(spec.comment) if spec.comment else ""
    basis = None
    if spec.basis:
        target, kind = reader.ref(spec.basis), reader.type_name(spec.basis)
        basis = (kind, target) if target and kind else None
    doc_set = reader.type_name(spec.document)
    return StateRow(
        _intern(doc),
        None if doc_set is None else _intern(doc_set),
        _intern(state),
        at,
        comment,
        basis,
    )


def _since(since: str) -> Callable[[Row], bool]:
    """Re-check a date filter locally: a server may ignore ``$filter``."""
    return lambda row: str(row.get("ДатаИзменения") or "") >= since


def _ref(row: Row) -> Any:
    return row.get("Ref_Key")


def _link(row: Row) -> Any:
    return (row.get("ЭлектронныйДокумент"), row.get("ОбъектУчета"))


def _signature(row: Row) -> Any:
    return (row.get("ПодписанныйОбъект"), row.get("ДатаПодписи"), row.get("КомуВыданСертификат"))


def _entry(row: Row) -> Any:
    return (row.get("ЭлектронныйДокумент"), row.get("ДатаИзменения"), row.get("СостояниеДокумента"))
