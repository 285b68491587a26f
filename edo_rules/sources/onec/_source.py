"""The 1C OData source: initial full load, incremental sync, periodic healing re-read.

* The first read (no watermark in the sync state) loads everything; its
  events are ``historical``. The watermark (the state register's latest
  ``ДатаИзменения``) is written with the last page only, so an interrupted
  initial load simply starts again (every write is idempotent).
* An incremental read polls the state register by ``ДатаИзменения ge
  watermark − overlap``, fetches only the documents whose state moved, by key
  in ``eq … or …`` chunks, and emits their new events.
* Every ``heal_every`` the window widens to ``heal_window`` and every document
  in it is re-read, healing anything a failed or raced sync missed; documents
  dated in the window whose ``DataVersion`` moved without a state change
  (an edited amount) are re-read too.
* A register without a change date (the legacy preset) is re-read whole and
  diffed against the store; a change found then is dated by the sync time.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import httpx

from edo_rules._bounds import in_context
from edo_rules._messages import msg
from edo_rules.errors import SourceError
from edo_rules.model import Document, Status, StatusEvent
from edo_rules.sources.base import SyncPage
from edo_rules.sources.onec import _sets as sets
from edo_rules.sources.onec._client import ODataClient, PageRequest, urgent
from edo_rules.sources.onec._expand import DOCUMENT_NAVIGATIONS, EXPAND_REFUSED, Expansion
from edo_rules.sources.onec._links import Links
from edo_rules.sources.onec._lookups import (
    CATALOG_FIELDS,
    Loader,
    Lookups,
    StateRow,
    read_state,
)
from edo_rules.sources.onec._mapping import Context, map_document
from edo_rules.sources.onec._metadata import METADATA_AT, Published, parse_metadata
from edo_rules.sources.onec._pager import (
    Row,
    chunks,
    fetch_by_keys,
    iter_pages,
    iter_sets,
    keys_per_request,
    parallel,
)
from edo_rules.sources.onec._presets import Preset, load_preset
from edo_rules.sources.onec._reading import WANTED, Reading
from edo_rules.sources.onec._settings import OneCSettings
from edo_rules.sources.onec._staging import Staging
from edo_rules.sources.onec._values import aware, to_local
from edo_rules.store.base import Store

log = logging.getLogger("edo_rules.sources.onec")

WATERMARK = "onec.watermark"
HEALED_AT = "onec.healed_at"

Progress = Callable[[int, int], None]
KnownDocuments = Callable[[Iterable[str]], Mapping[str, Document]]


@dataclass
class SyncReport:
    """What the last :meth:`OneCSource.pages` run did (for the CLI summary and logs)."""

    mode: str = ""
    documents: int = 0
    events: int = 0  # found; the store may already have some (``events_added``)
    events_added: int = 0
    requests: int = 0
    unknown_states: Counter[str] = field(default_factory=Counter)
    unknown_documents: list[str] = field(default_factory=list)
    missing_documents: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    missing_fields: list[str] = field(default_factory=list)  # "Set.Property", optional ones
    failures: dict[str, int] = field(default_factory=dict)  # each distinct 1C failure, counted


def run_sync(
    settings: OneCSettings,
    store: Store,
    *,
    clock: Callable[[], datetime],
    full: bool = False,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SyncReport:
    """Sync 1C into ``store`` once (one transaction per page) and report what happened.

    ``full`` ignores the watermark and re-reads everything (events then found
    are recorded as history). Raises :class:`SourceError` or :class:`StoreError`;
    pages written before the failure stay, and the next sync goes on from them.
    """
    source = OneCSource(
        settings, documents=store.get_documents, clock=clock, progress=progress, transport=transport
    )
    try:
        state = {} if full else store.get_sync_state()
        for page in source.pages(state):
            added = store.write_sync_page(
                page.documents, page.events, page.state, initial=page.initial
            )
            source.report.events_added += len(added)
        if source.report.documents:
            store.checkpoint()  # a large sync leaves the WAL at its high-water mark otherwise
    finally:
        source.close()
    return source.report


class OneCSource:
    """Documents and status events from 1С:Бухгалтерия 3.0 over OData.

    ``documents`` reads already stored documents by id (``Store.get_documents``):
    the sync diffs against them and keeps their CRM bindings. ``clock``
    returns the current aware time (the sync time and the healing schedule).
    Raises :class:`SourceError` only, before yielding the page concerned.
    """

    name = "1c"

    def __init__(
        self,
        settings: OneCSettings,
        *,
        documents: KnownDocuments,
        clock: Callable[[], datetime],
        progress: Progress | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.preset: Preset = load_preset(settings.preset, settings.states)
        self.client = ODataClient(settings, transport=transport, sleep=sleep)
        self.lookups = Lookups()
        self.report = SyncReport()
        self.reading = Reading(Published({}, {}, ""))
        self.expansion = Expansion(self.reading, CATALOG_FIELDS, allowed=False)
        self._metadata_state: dict[str, str] = {}
        self._known = documents
        self._clock = clock
        self._progress = progress

    def close(self) -> None:
        self.client.close()

    def pages(self, state: Mapping[str, str]) -> Iterator[SyncPage]:
        """Pages after the watermark in ``state``; everything when there is none."""
        now = self._clock()
        return self._session(state, lambda: self._run(state, now))

    def refresh(
        self, state: Mapping[str, str], documents: Iterable[str] = (), *, inn: str | None = None
    ) -> Iterator[SyncPage]:
        """Pages of just these documents (and all of the counterparty with ``inn``), re-read now.

        For the «Обновить» button and for 1C's own push on a state change. The
        watermark stays: what else changed is left to the next sync. Their
        new status events are not history: event rules fire on them.
        """
        now = self._clock()
        wanted = list(documents)
        return self._session(state, lambda: self._refresh(wanted, inn, now))

    def _session(
        self, state: Mapping[str, str], run: Callable[[], Iterator[SyncPage]]
    ) -> Iterator[SyncPage]:
        """Metadata (cached or read), then ``run``; again once if the publication changed."""
        self.report = SyncReport()
        start = self.client.requests
        try:
            cached = yield from self._prepare(state)
            refused = state.get(EXPAND_REFUSED) == self.reading.published.digest
            self.expansion = Expansion(
                self.reading, CATALOG_FIELDS, allowed=self.settings.expand and not refused
            )
            try:
                yield from run()
            except SourceError as exc:
                # 1C names a property the cached metadata promised: the publication changed.
                if not cached or exc.code != "14" or not self._metadata_changed():
                    raise
                yield SyncPage((), (), self._metadata_state)
                self.reading.check(self.preset)
                yield from run()
            if self.expansion.refused:
                yield SyncPage((), (), {EXPAND_REFUSED: self.reading.published.digest})
        finally:
            self.report.requests = self.client.requests - start
            self.report.unpublished = sorted(self.lookups.unpublished)
            self.report.missing_fields = self.reading.missing_report()
            self.report.failures = dict(self.client.failures)
            self.client.failures.clear()

    def _run(self, state: Mapping[str, str], now: datetime) -> Iterator[SyncPage]:
        if state.get(WATERMARK):
            return self._incremental(state, now)
        return self._full(now)

    def _prepare(self, state: Mapping[str, str]) -> Generator[SyncPage, None, bool]:
        """The publication's metadata, checked against the preset; True when from the cache.

        The cache is read again after ``heal_every``, and at once when it lacks
        something required (the admin may have published it since).
        """
        cached = Published.from_state(state, WANTED)
        if cached is not None and _stale(state.get(METADATA_AT), self._clock(), self.settings):
            cached = None
        if cached is None:
            self._read_metadata()
            yield SyncPage((), (), self._metadata_state)
        else:
            self.reading = Reading(cached)
        try:
            self.reading.check(self.preset)
        except SourceError:
            if cached is None or not self._metadata_changed():
                raise
            yield SyncPage((), (), self._metadata_state)
            self.reading.check(self.preset)
        return cached is not None

    def _read_metadata(self) -> None:
        """Read ``$metadata`` (one request) into a new Reading and its cache entry."""
        body, url = self.client.metadata()
        self.reading = Reading(parse_metadata(body, WANTED, url=url))
        # What is published is known now: forget sets found unpublished before.
        self.lookups.unpublished.clear()
        self._metadata_state = {
            **self.reading.published.state(),
            METADATA_AT: self._clock().isoformat(),
        }

    def _metadata_changed(self) -> bool:
        before = self.reading.published.digest
        self._read_metadata()
        changed = self.reading.published.digest != before
        if changed:
            log.warning("the 1C publication changed since $metadata was cached; read it again")
        return changed

    # -- the initial full load ------------------------------------------------------
    def _full(self, now: datetime) -> Iterator[SyncPage]:
        """Everything: the reference sets to disk first, then the documents page by page."""
        self.report.mode = "full"
        self.lookups = Lookups(unpublished=self.lookups.unpublished)
        staging = Staging()
        try:
            loader = self._loader()
            loader.catalogs()
            loader.staging = staging
            for state in self._iter_states():
                staging.state(state)
            loader.sales()
            if self.preset.register.basis is None:
                loader.basis()
            if self.settings.journal:
                loader.journal()
            loader.signatures()
            staging.finish()
            yield from self._full_pages(now, staging)
        finally:
            staging.close()

    def _full_pages(self, now: datetime, staging: Staging) -> Iterator[SyncPage]:
        ctx = self._context(now, historical=True)
        cursor = self._cursor(staging.latest(), None, now)
        done, total = 0, staging.count()
        requests = [
            PageRequest(
                entity_set,
                self._select(entity_set),
                orderby=self.reading.order(entity_set, "Date", "Ref_Key"),
                top=self.settings.page_size,
            )
            for entity_set in (sets.OUTGOING, sets.INCOMING)
        ]
        for page in self._mapped(ctx, iter_sets(self.client, requests, key=_ref), staging):
            # The cursor page below closes the load: until then the store may bulk-load.
            yield replace(page, initial=True)
            done += len(page.documents)
            if self._progress is not None:
                self._progress(min(done, total), max(total, done))
        yield SyncPage((), (), cursor)

    def _mapped(
        self,
        ctx: Context,
        pages: Iterator[tuple[str, list[Row]]],
        staging: Staging,
    ) -> Iterator[SyncPage]:
        """Map each page in a worker thread while the caller writes the previous one.

        Mapping is pure Python and the store's writes spend most of their
        time in SQLite, which runs without the GIL: the two overlap, and the
        fetcher meanwhile gets the pages after. The stored documents are read
        here, in the caller's thread, since a store belongs to its thread; a
        page never holds a document of the page before it (``iter_pages``
        de-duplicates), so reading them before that page is written is safe.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="onec-map") as mapper:
            pending: Future[SyncPage] | None = None
            while True:
                try:
                    entity_set, rows = next(pages)
                    stored = self._known(str(row.get("Ref_Key")) for row in rows)
                except StopIteration:
                    break
                except Exception:
                    # A failure after a page leaves that page written, as without the worker.
                    if pending is not None:
                        yield pending.result()
                    raise
                # The mapping's lookups are requests of the caller's stage (its deadline).
                work = in_context(self._staged_page)
                mapping = mapper.submit(work, ctx, entity_set, rows, staging, stored)
                if pending is not None:
                    yield pending.result()
                pending = mapping
            if pending is not None:
                yield pending.result()

    def _staged_page(
        self,
        ctx: Context,
        entity_set: str,
        rows: list[Row],
        staging: Staging,
        stored: Mapping[str, Document],
    ) -> SyncPage:
        """Map a page of an initial load with its own reference rows read back from disk.

        Runs in the one mapping thread, which alone touches these lookups while
        the documents are paged.
        """
        keys = [str(row.get("Ref_Key", "")).lower() for row in rows]
        lookups = self.lookups
        for part in (lookups.basis, lookups.sales, lookups.signatures):
            part.clear()
        lookups.journal.clear()
        for doc, at, state, user in staging.actions(keys):
            lookups.journal.add(doc, at, state, user)
        loader = self._loader()
        for doc, holder, at in staging.signatures(keys):
            loader.keep_signature(doc, holder, at)
        links = staging.links(keys)
        for doc, kind, target, flag in links:
            loader.link(doc, kind, target, flag)
        states = staging.states(keys)
        # The sales flags of every basis the page names (a link's, or the register's own).
        targets = {target for _, _, target, _ in links if target}
        targets.update(state.basis[1] for state in states.values() if state.basis)
        lookups.sales.update(staging.sales(targets))
        return self._page(ctx, entity_set, rows, states, stored)

    def _all_states(self) -> dict[str, StateRow]:
        return {state.doc: state for state in self._iter_states()}

    def _iter_states(self) -> Iterator[StateRow]:
        """Every row of the state register, page by page (a later row of a key wins)."""
        register = self.preset.register
        select = self._register_fields()
        order = f"{register.changed_at} asc" if register.changed_at else None
        request = PageRequest(register.set, select, orderby=order, top=self.settings.page_size)
        for rows in iter_pages(self.client, request, key=lambda row: row.get(register.document)):
            for row in rows:
                yield read_state(self.preset, row)

    # -- incremental and healing --------------------------------------------------------
    def _incremental(self, state: Mapping[str, str], now: datetime) -> Iterator[SyncPage]:
        heal = self._heal_due(state, now)
        self.report.mode = "heal" if heal else "incremental"
        register = self.preset.register
        since = None if register.changed_at is None else self._since(state[WATERMARK], heal, now)
        states = self._poll(since)
        stored = dict(self._known(states))
        changed = [doc for doc, row in states.items() if heal or _moved(row, stored.get(doc), self)]
        if heal and since is not None:
            changed += self._edited_since(since, states, stored)
        if register.changed_at is None:
            # No change date in the register: a change is dated by the sync that saw it.
            stamp, moved = to_local(now, self.settings.zone), set(changed)
            states = {d: s._replace(at=stamp) if d in moved else s for d, s in states.items()}
        ctx = self._context(now, historical=False)
        latest = max((s.at for s in states.values() if s.at), default=None)
        cursor = self._cursor(latest, state.get(WATERMARK), now, heal)
        batches = list(chunks(changed, self.settings.page_size))
        for number, batch in enumerate(batches, 1):
            # The watermark goes with the last page: one transaction less at the end.
            closing = cursor if number == len(batches) else {}
            yield from self._changed_pages(
                ctx, batch, states, stored, windowed=since is not None, closing=closing
            )
        if not batches:
            yield SyncPage((), (), cursor)

    def _poll(self, since: str | None) -> dict[str, StateRow]:
        """The state rows to look at, read together with what any change will need.

        The window's actions and (once per process) the small users catalog
        are read in the same round trip as the state register: a change then
        costs one round less, an idle poll one request more.
        """
        loader = self._loader()
        self.lookups.journal.clear()
        states: dict[str, StateRow] = {}
        if since is None:
            calls = [lambda: states.update(self._all_states())]
        else:
            calls = [lambda: states.update(self._changed_states(since))]
            if self.settings.journal:
                calls.append(lambda: loader.journal(since=since))
        if not self.lookups.users:
            calls.append(lambda: loader.catalogs(only=(sets.USERS,)))
        parallel(calls, self.settings.concurrency)
        return states

    def _heal_due(self, state: Mapping[str, str], now: datetime) -> bool:
        healed = state.get(HEALED_AT)
        if not healed:
            return True
        try:
            return now - datetime.fromisoformat(healed) >= self.settings.heal_every
        except (TypeError, ValueError):
            return True

    def _since(self, watermark: str, heal: bool, now: datetime) -> str:
        """The start of the window to re-read: the watermark minus the overlap, or wider."""
        since = _minus(watermark, self.settings.overlap)
        if heal:
            since = min(since, to_local(now - self.settings.heal_window, self.settings.zone))
        return since

    def _edited_since(
        self, since: str, states: dict[str, StateRow], stored: dict[str, Document]
    ) -> list[str]:
        """Documents dated in the window whose DataVersion moved while their state did not.

        Adds their state rows to ``states`` and their stored versions to ``stored``.
        """
        versions: dict[str, str] = {}
        for entity_set in (sets.OUTGOING, sets.INCOMING):
            request = PageRequest(
                entity_set,
                ("Ref_Key", "DataVersion", "Date"),
                filter=f"Date ge datetime'{since}'",
                orderby=self.reading.order(entity_set, "Date", "Ref_Key"),
                top=self.settings.page_size,
            )
            keep = lambda row: str(row.get("Date") or "") >= since  # noqa: E731
            for rows in iter_pages(self.client, request, key=_ref, keep=keep):
                versions.update((str(r.get("Ref_Key")), str(r.get("DataVersion"))) for r in rows)
        candidates = [doc for doc in versions if doc not in states]
        stored.update(self._known(candidates))
        edited = [d for d in candidates if d in stored and stored[d].version != versions[d]]
        register = self.preset.register
        select = self._register_fields()
        literal = self.reading.literal(register.set, register.document)
        for row in fetch_by_keys(
            self.client, register.set, register.document, edited, select, literal=literal
        ):
            found = read_state(self.preset, row)
            states[found.doc] = found
        return [doc for doc in edited if doc in states]

    def _changed_states(self, since: str) -> dict[str, StateRow]:
        register = self.preset.register
        field_name = register.changed_at or ""
        request = PageRequest(
            register.set,
            self._register_fields(),
            filter=f"{field_name} ge datetime'{since}'",
            orderby=f"{field_name} asc",
            top=self.settings.page_size,
        )
        states: dict[str, StateRow] = {}
        keep = lambda row: str(row.get(field_name) or "") >= since  # noqa: E731
        for rows in iter_pages(
            self.client, request, key=lambda r: r.get(register.document), keep=keep
        ):
            for row in rows:
                found = read_state(self.preset, row)
                states[found.doc] = found
        return states

    def _changed_pages(
        self,
        ctx: Context,
        batch: list[str],
        states: dict[str, StateRow],
        stored: Mapping[str, Document],
        *,
        windowed: bool,
        closing: Mapping[str, str],
    ) -> Iterator[SyncPage]:
        """Read the batch's rows and what they refer to; the stored ones' pages come first.

        Everything keyed by the batch goes out at once. Documents first seen
        now have the longest chain (their rows, then the catalogs they name;
        their accounting objects, then the sales documents): it starts first,
        and its lookups go to a side :class:`Lookups` merged only after the
        stored documents are mapped, so their page does not depend on which
        request answered first. The stored documents are written as their key
        chunks arrive, while that chain's last round is still in flight; a
        failure cancels the requests not sent yet.
        """
        fresh = [doc for doc in batch if doc not in stored]
        known = [doc for doc in batch if doc in stored]
        doc_sets = {doc: states[doc].doc_set for doc in batch}
        loader = self._loader()
        later = Lookups(unpublished=self.lookups.unpublished)
        found: set[str] = set()
        # A document first seen now whose actions all predate the window gets its whole
        # history by key (every document of the batch, when nothing was read by window).
        journal = self.lookups.journal
        unseen = [doc for doc in (fresh if windowed else batch) if doc not in journal]
        groups = self._request_groups(known, doc_sets)
        workers = self.settings.concurrency + 3  # the requests' own limit is the client's
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="onec-batch") as pool:
            try:
                # Both pages need the signatures and actions: they go first as well.
                shared = [pool.submit(in_context(_urgently(loader.signatures)), batch)]
                if self.settings.journal and unseen:
                    shared.append(pool.submit(in_context(_urgently(loader.journal)), unseen))
                first_seen = (
                    pool.submit(
                        in_context(self._first_seen), fresh, doc_sets, states, later, shared
                    )
                    if fresh
                    else None
                )
                pending = deque(
                    pool.submit(in_context(self._document_rows), loader, group, doc_sets, ())
                    for group in groups
                )
                for future in shared:
                    future.result()
                last = {} if first_seen is not None else closing
                yield from self._arrived_pages(
                    ctx, loader, pending, states=states, stored=stored, found=found, closing=last
                )
                if first_seen is not None:
                    fresh_rows = first_seen.result()
                    self.lookups.merge(later)
                    page = self._mapped_rows(ctx, fresh_rows, states, stored, found)
                    yield replace(page, state=closing)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # what is not sent yet never is
                raise
        missing = [doc for doc in batch if doc not in found]
        if missing:
            log.warning(
                "%d documents of the 1C state register could not be read (deleted, or hidden "
                "from the 1C user), e.g. %s",
                len(missing),
                missing[0],
            )
        self.report.missing_documents.extend(missing)

    def _arrived_pages(
        self,
        ctx: Context,
        loader: Loader,
        pending: deque[Future[dict[str, list[Row]]]],
        *,
        states: dict[str, StateRow],
        stored: Mapping[str, Document],
        found: set[str],
        closing: Mapping[str, str],
    ) -> Iterator[SyncPage]:
        """Pages of stored documents in the order asked, each of what has arrived by then:
        written while the rest is still on its way. ``closing`` goes with the last one."""
        while pending:
            arrived = [pending.popleft().result()]
            while pending and pending[0].done():
                arrived.append(pending.popleft().result())
            rows = _joined(arrived)
            # A stored document keeps its names; only users not cached yet are read.
            self._load_catalogs(loader, rows, stored, (self.lookups,))
            page = self._mapped_rows(ctx, rows, states, stored, found)
            yield page if pending else replace(page, state=closing)

    def _request_groups(
        self, docs: list[str], doc_sets: Mapping[str, str | None]
    ) -> list[list[str]]:
        """``docs`` in groups of one request each: so many keys fit one query of their set.

        A document whose set the register did not name goes to a group of its own kind,
        read from both sets.
        """
        by_set: dict[str, list[str]] = {sets.OUTGOING: [], sets.INCOMING: []}
        unknown: list[str] = []
        for doc in docs:
            by_set.get(doc_sets.get(doc) or "", unknown).append(doc)
        groups: list[list[str]] = []
        for entity_set, keys in by_set.items():
            request = PageRequest(entity_set, self._select(entity_set))
            size = keys_per_request(self.client, request, "Ref_Key")
            groups.extend(chunks(keys, size))
        if unknown:
            groups.append(unknown)
        return groups

    def _first_seen(
        self,
        fresh: list[str],
        doc_sets: Mapping[str, str | None],
        states: Mapping[str, StateRow],
        later: Lookups,
        shared: list[Future[None]],
    ) -> dict[str, list[dict[str, object]]]:
        """Documents first seen: their rows then the catalogs they name, beside their
        accounting objects then the sales documents, into ``later``."""
        loader = Loader(self.client, self.preset, later, self.reading, self.expansion)
        rows_by_set: dict[str, list[dict[str, object]]] = {}
        known = (self.lookups, later)

        def rows_then_catalogs() -> None:
            rows_by_set.update(self._document_rows(loader, fresh, doc_sets, DOCUMENT_NAVIGATIONS))
            for future in shared:
                future.result()  # the users of their actions and signers
            self._load_catalogs(loader, rows_by_set, {}, known)

        def links_then_sales() -> None:
            if self.preset.register.basis is None:
                loader.basis([doc for doc in fresh if doc not in self.lookups.basis])
            self._load_sales(loader, fresh, states, known)

        with urgent():  # the longest chain: its requests go before the stored rows waiting
            parallel([rows_then_catalogs, links_then_sales], self.settings.concurrency)
        return rows_by_set

    def _mapped_rows(
        self,
        ctx: Context,
        rows_by_set: Mapping[str, list[dict[str, object]]],
        states: dict[str, StateRow],
        stored: Mapping[str, Document],
        found: set[str],
    ) -> SyncPage:
        documents: list[Document] = []
        events: list[StatusEvent] = []
        for entity_set, rows in rows_by_set.items():
            page = self._page(ctx, entity_set, rows, states, stored)
            documents.extend(page.documents)
            events.extend(page.events)
        found.update(doc.id for doc in documents)
        return SyncPage(tuple(documents), tuple(events))

    def _refresh(self, wanted: list[str], inn: str | None, now: datetime) -> Iterator[SyncPage]:
        """Given documents in two rounds: everything keyed by them at once, then the names
        and sales documents they refer to (one round for a stored document)."""
        self.report.mode = "refresh"
        docs = list(dict.fromkeys(doc.lower() for doc in wanted))
        if inn:
            docs += [doc for doc in self._documents_of(inn) if doc not in docs]
        if not docs:
            return
        stored = dict(self._known(docs))
        doc_sets = {
            doc: sets.OUTGOING if found.direction.value == "outgoing" else sets.INCOMING
            for doc, found in stored.items()
        }
        loader = self._loader()
        self.lookups.journal.clear()
        states: dict[str, StateRow] = {}
        rows_by_set: dict[str, list[dict[str, object]]] = {}
        # A stored document keeps its names but shows its responsible user's current name.
        unseen = any(doc not in stored for doc in docs)
        navigations = DOCUMENT_NAVIGATIONS if unseen else ("Ответственный",)
        journal = self.settings.journal

        def rows_then_catalogs(shared: list[Future[None]]) -> None:
            rows_by_set.update(self._document_rows(loader, docs, doc_sets, navigations))
            for future in shared:
                future.result()  # the users of the actions and signers
            self._load_catalogs(loader, rows_by_set, stored, (self.lookups,))

        def links_then_sales(read_states: Future[None]) -> None:
            if self.preset.register.basis is None:
                loader.basis(docs)
            read_states.result()
            fresh = [doc for doc in docs if doc not in stored and doc in states]
            self._load_sales(loader, fresh, states, (self.lookups,))

        # Everything keyed by the documents at once; what depends on an answer is asked
        # as soon as that answer is in, not after the slowest of the first round.
        with ThreadPoolExecutor(max_workers=5, thread_name_prefix="onec-refresh") as pool:
            read_states = pool.submit(in_context(lambda: states.update(self._states_of(docs))))
            shared = [pool.submit(in_context(loader.signatures), docs)]
            if journal:
                shared.append(pool.submit(in_context(loader.journal), docs))
            chains = [
                pool.submit(in_context(rows_then_catalogs), shared),
                pool.submit(in_context(links_then_sales), read_states),
            ]
            for future in (read_states, *shared, *chains):
                future.result()
        ctx = self._context(now, historical=False)
        for entity_set, rows in rows_by_set.items():
            yield self._page(ctx, entity_set, rows, states, stored)
        found = {
            str(row.get("Ref_Key", "")).lower() for rows in rows_by_set.values() for row in rows
        }
        self.report.missing_documents.extend(doc for doc in docs if doc not in found)

    def _states_of(self, docs: list[str]) -> dict[str, StateRow]:
        register = self.preset.register
        literal = self.reading.literal(register.set, register.document)
        rows = fetch_by_keys(
            self.client,
            register.set,
            register.document,
            docs,
            self._register_fields(),
            literal=literal,
        )
        found = (read_state(self.preset, row) for row in rows)
        return {state.doc: state for state in found}

    def _documents_of(self, inn: str) -> list[str]:
        """The EDO documents of every counterparty with this INN (two rounds)."""
        select = self.reading.select(sets.COUNTERPARTIES, ("Ref_Key", "ИНН"))
        if "ИНН" not in select:
            raise SourceError(
                msg("onec_no_inn", set=sets.COUNTERPARTIES),
                hint=msg("onec_hint_refresh_by_document"),
            )
        condition = f"ИНН eq {self.reading.literal(sets.COUNTERPARTIES, 'ИНН')(inn)}"
        rows, _ = self.client.fetch(PageRequest(sets.COUNTERPARTIES, select, filter=condition))
        keys = [str(row["Ref_Key"]).lower() for row in rows if row.get("ИНН") == inn]
        found: dict[str, list[str]] = {}

        def read(entity_set: str) -> Callable[[], None]:
            def run() -> None:
                literal = self.reading.literal(entity_set, "Контрагент_Key")
                rows = fetch_by_keys(
                    self.client,
                    entity_set,
                    "Контрагент_Key",
                    keys,
                    ("Ref_Key", "Контрагент_Key"),
                    literal=literal,
                )
                found[entity_set] = [str(row["Ref_Key"]).lower() for row in rows]

            return run

        if keys:
            parallel([read(sets.OUTGOING), read(sets.INCOMING)], self.settings.concurrency)
        return [
            doc
            for entity_set in (sets.OUTGOING, sets.INCOMING)
            for doc in found.get(entity_set, [])
        ]

    def _load_sales(
        self,
        loader: Loader,
        fresh: list[str],
        states: Mapping[str, StateRow],
        known: tuple[Lookups, ...],
    ) -> None:
        """The sales documents the first-seen documents are based on, unless ``known``."""
        wanted = set()
        for doc in fresh:
            ref = states[doc].basis or next(
                (lk.basis[doc] for lk in known if doc in lk.basis), None
            )
            if (
                ref is not None
                and ref[0] == sets.SALES
                and not any(ref[1] in lookups.sales for lookups in known)
            ):
                wanted.add(ref[1])
        if wanted:
            loader.sales(sorted(wanted))

    def _document_rows(
        self,
        loader: Loader,
        batch: list[str],
        doc_sets: Mapping[str, str | None],
        navigations: tuple[str, ...],
    ) -> dict[str, list[dict[str, object]]]:
        """The EDO document rows of ``batch``, each read from its own set (``doc_sets``),
        with the catalog objects of ``navigations`` nested when the publication allows it."""
        by_set: dict[str, list[str]] = {sets.OUTGOING: [], sets.INCOMING: []}
        unknown: list[str] = []
        for doc in batch:
            by_set.get(doc_sets.get(doc) or "", unknown).append(doc)
        result: dict[str, list[dict[str, object]]] = {}

        def read(entity_set: str, wanted: list[str]) -> Callable[[], None]:
            select = self._select(entity_set)
            return lambda: result.__setitem__(
                entity_set,
                loader.by_keys(entity_set, "Ref_Key", wanted, select, navigations=navigations),
            )

        # A document whose type the register did not name is looked for in both sets.
        calls = [read(name, keys + unknown) for name, keys in by_set.items() if keys + unknown]
        parallel(calls, self.settings.concurrency)
        return {name: result[name] for name in by_set if name in result}

    def _load_catalogs(
        self,
        loader: Loader,
        rows_by_set: Mapping[str, list[dict[str, object]]],
        stored: Mapping[str, Document],
        known: tuple[Lookups, ...],
    ) -> None:
        """The catalog objects the rows (and their actions) name that ``known`` lacks."""
        wanted: dict[str, set[str]] = {
            sets.USERS: set(),
            sets.ORGANIZATIONS: set(),
            sets.COUNTERPARTIES: set(),
            sets.CONTRACTS: set(),
            sets.EDO_KINDS: set(),
        }
        journal = self.lookups.journal
        for rows in rows_by_set.values():
            for row in rows:
                entries = journal.entries(str(row.get("Ref_Key")))
                wanted[sets.USERS].update(e.user for e in entries if e.user)
                _wanted_refs(row, wanted, stored)
        for entity_set, keys in wanted.items():
            keys.difference_update(
                key for key in list(keys) if any(key in _known_of(lk, entity_set) for lk in known)
            )
        loader.catalogs(wanted)

    # -- shared ---------------------------------------------------------------------
    def _loader(self) -> Loader:
        # The metadata may have been read again since the expansion was set up.
        self.expansion.reading = self.reading
        return Loader(self.client, self.preset, self.lookups, self.reading, self.expansion)

    def _select(self, entity_set: str) -> tuple[str, ...]:
        wanted = (*sets.DOCUMENT_FIELDS, sets.DIRECTION_DATE[entity_set])
        return self.reading.select(entity_set, wanted)

    def _register_fields(self) -> tuple[str, ...]:
        """The state register's fields, with the document's type so each key is read once."""
        spec = self.preset.register
        names = [spec.document, f"{spec.document}_Type", spec.state, spec.changed_at]
        names += [spec.comment, spec.basis, f"{spec.basis}_Type" if spec.basis else None]
        return self.reading.select(spec.set, (name for name in names if name))

    def _context(self, now: datetime, *, historical: bool) -> Context:
        links = Links(self.settings.web_client_url, self.settings.pdf_url)
        return Context(self.preset, self.lookups, self.settings.zone, now, historical, links)

    def _page(
        self,
        ctx: Context,
        entity_set: str,
        rows: list[dict[str, object]],
        states: dict[str, StateRow],
        stored: Mapping[str, Document] | None = None,
    ) -> SyncPage:
        """Map a page of document rows; any bad row raises before anything is yielded."""
        if stored is None:
            stored = self._known(str(row.get("Ref_Key")) for row in rows)
        documents: list[Document] = []
        events: list[StatusEvent] = []
        for row in rows:
            key = str(row.get("Ref_Key", "")).lower()
            document, new = map_document(ctx, entity_set, row, states.get(key), stored.get(key))
            documents.append(document)
            events.extend(new)
            if document.status is Status.UNKNOWN:
                self._unknown(document)
        self.report.documents += len(documents)
        self.report.events += len(events)
        return SyncPage(tuple(documents), tuple(events))

    def _unknown(self, document: Document) -> None:
        if document.status_1c not in self.report.unknown_states:
            log.warning(
                "1C state %r is not in preset %s (document %s): stored as 'unknown'; map it "
                "under onec.states in the config",
                document.status_1c,
                self.preset.name,
                document.id,
            )
        self.report.unknown_states[document.status_1c] += 1
        self.report.unknown_documents.append(document.id)

    def _cursor(
        self, latest: str | None, previous: str | None, now: datetime, heal: bool = True
    ) -> dict[str, str]:
        """The watermark: the register's latest change date (``latest``) or the one before."""
        if self.preset.register.changed_at is None:
            latest = to_local(now, self.settings.zone)
        marks = [mark for mark in (latest, previous) if mark]
        cursor = {WATERMARK: max(marks) if marks else to_local(now, self.settings.zone)}
        if heal:
            cursor[HEALED_AT] = now.isoformat()
        return cursor


def _stale(read_at: str | None, now: datetime, settings: OneCSettings) -> bool:
    """Whether cached metadata is older than ``heal_every`` (or of unknown age)."""
    try:
        return read_at is None or now - datetime.fromisoformat(read_at) >= settings.heal_every
    except (TypeError, ValueError):
        return True


def _moved(row: StateRow, stored: Document | None, source: OneCSource) -> bool:
    if stored is None or stored.status_1c != row.state:
        return True
    if row.at is None:
        return False
    period = aware(row.at, source.settings.zone)
    if period is None or stored.status_changed_at is None:
        return True
    # The stored time is the latest step known, which can be later than the
    # register's period (a document sent, its period a minute ahead, then signed
    # at once): only a newer period is a change, else it is re-read at every sync.
    return period > stored.status_changed_at


def _wanted_refs(
    row: Mapping[str, object], wanted: dict[str, set[str]], stored: Mapping[str, Document]
) -> None:
    """The catalog keys a document row names (a stored document: only its users)."""
    if str(row.get("Ref_Key", "")).lower() in stored:
        # A stored document keeps its names when a catalog entry is not cached.
        fields_wanted = {"Ответственный_Key": sets.USERS}
    else:
        fields_wanted = _REF_FIELDS
    for name, entity_set in fields_wanted.items():
        value = row.get(name)
        if isinstance(value, str) and value != _EMPTY:
            wanted[entity_set].add(value)
    lines = row.get("СписокПодписантов")
    for line in lines if isinstance(lines, list) else []:
        signer = line.get("Подписант_Key") if isinstance(line, dict) else None
        if isinstance(signer, str) and signer != _EMPTY:
            wanted[sets.USERS].add(signer)


def _urgently(call: Callable[[list[str]], None]) -> Callable[[list[str]], None]:
    """``call`` with its requests sent ahead of those not urgent (see ``urgent``)."""

    def run(docs: list[str]) -> None:
        with urgent():
            call(docs)

    return run


def _joined(parts: Iterable[Mapping[str, list[Row]]]) -> dict[str, list[Row]]:
    """Rows read in several parts, by set."""
    joined: dict[str, list[Row]] = {}
    for part in parts:
        for entity_set, rows in part.items():
            joined.setdefault(entity_set, []).extend(rows)
    return joined


def _known_of(lookups: Lookups, entity_set: str) -> Mapping[str, object]:
    """The catalog objects of ``entity_set`` already kept in ``lookups``."""
    known: dict[str, Mapping[str, object]] = {
        sets.COUNTERPARTIES: lookups.counterparties,
        sets.CONTRACTS: lookups.contracts,
        sets.ORGANIZATIONS: lookups.organizations,
        sets.USERS: lookups.users,
        sets.EDO_KINDS: lookups.edo_kinds,
    }
    return known[entity_set]


_EMPTY = "00000000-0000-0000-0000-000000000000"
_REF_FIELDS = {
    "Контрагент_Key": sets.COUNTERPARTIES,
    "ДоговорКонтрагента_Key": sets.CONTRACTS,
    "Организация_Key": sets.ORGANIZATIONS,
    "Ответственный_Key": sets.USERS,
    "ВидДокумента_Key": sets.EDO_KINDS,
}


def _ref(row: Mapping[str, object]) -> object:
    return row.get("Ref_Key")


def _minus(local: str, delta: timedelta) -> str:
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        moment = datetime(2000, 1, 1)
    return (moment - delta).strftime("%Y-%m-%dT%H:%M:%S")
