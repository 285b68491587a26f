"""Refresh given documents now: re-read them from 1C, then evaluate and dispatch.

For the «Обновить» button of a CRM card and for 1C's own push on a state
change (``POST /sync?document=…``, ``?inn=…``, ``?deal=…``; ``edo-rules sync
--document REF``). Only the named documents are read from 1C; the sync
watermark stays where it is.

:func:`refresh_documents` is what any HTTP front end calls (it runs in the
thread that owns the store); :func:`parse_refresh` turns query parameters
into a :class:`RefreshRequest` with a clear error for a bad value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from edo_rules.errors import EdoRulesError
from edo_rules.sources.onec import OneCSource
from edo_rules.store.base import Store

if TYPE_CHECKING:
    from edo_rules.config import Config
    from edo_rules.runner.loop import TickReport

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INN = re.compile(r"^(\d{10}|\d{12})$")
#: The query parameters that make ``POST /sync`` a refresh.
REFRESH_PARAMETERS = ("document", "inn", "deal")


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """What to refresh: 1C document refs, a counterparty's INN, a Bitrix24 deal id."""

    documents: tuple[str, ...] = ()
    inn: str | None = None
    deal: int | None = None


@dataclass(slots=True)
class RefreshReport:
    """What a refresh did."""

    documents: list[str] = field(default_factory=list)
    events_added: int = 0
    requests: int = 0
    missing: list[str] = field(default_factory=list)  # asked for, not readable in 1C

    def summary(self) -> dict[str, object]:
        return {
            "documents": list(self.documents),
            "events_added": self.events_added,
            "requests": self.requests,
            "not_found": list(self.missing),
        }


def parse_refresh(query: Mapping[str, Sequence[str]]) -> RefreshRequest | None:
    """The refresh a query asks for (None: a plain sync); ValueError says what is wrong."""
    if not any(name in query for name in REFRESH_PARAMETERS):
        return None
    documents = tuple(value.strip().lower() for value in query.get("document", ()))
    bad = [value for value in documents if not _GUID.match(value)]
    if bad:
        raise ValueError(f"document must be a 1C Ref_Key (a GUID), got {bad[0]!r}")
    inns = list(query.get("inn", ()))
    if len(inns) > 1 or (inns and not _INN.match(inns[0].strip())):
        raise ValueError(f"inn must be one INN of 10 or 12 digits, got {', '.join(inns)!r}")
    deals = list(query.get("deal", ()))
    if len(deals) > 1 or (deals and not deals[0].strip().isdigit()):
        raise ValueError(f"deal must be one Bitrix24 deal id (a number), got {', '.join(deals)!r}")
    return RefreshRequest(
        documents=documents,
        inn=inns[0].strip() if inns else None,
        deal=int(deals[0]) if deals else None,
    )


def deal_documents(store: Store, deal: int, now: datetime) -> list[str]:
    """The documents of a Bitrix24 deal: those its card shows, else those bound to it.

    The card's index answers at once; without it (no card in use) the
    stored documents are scanned for the binding.
    """
    from edo_rules.actions.bitrix24.card_index import documents_for

    shown = documents_for(store, now=now, deal=deal)
    if shown:
        return shown
    return [doc.id for doc in store.iter_documents() if doc.crm.deal_id == deal]


def refresh_documents(
    source: OneCSource,
    store: Store,
    requests: Sequence[RefreshRequest],
    *,
    now: datetime | None = None,
) -> RefreshReport:
    """Re-read the documents the requests name from 1C into ``store`` (a page at a time).

    Events found are not history: the next evaluation fires event rules on
    them. ``now`` dates the look-up of a deal's documents (default: the wall
    clock). Raises :class:`~edo_rules.errors.SourceError` or ``StoreError``.
    """
    wanted: list[str] = []
    inns: list[str] = []
    for request in requests:
        wanted.extend(request.documents)
        if request.deal is not None:
            wanted.extend(deal_documents(store, request.deal, now or datetime.now(UTC)))
        if request.inn:
            inns.append(request.inn)
    calls: list[tuple[list[str], str | None]] = [(wanted, None)] if wanted else []
    calls += [([], inn) for inn in inns]
    report = RefreshReport()
    for ids, inn in calls:
        for page in source.refresh(store.get_sync_state(), ids, inn=inn):
            added = store.write_sync_page(page.documents, page.events, page.state)
            report.events_added += len(added)
            report.documents.extend(doc.id for doc in page.documents)
        report.requests += source.report.requests
        report.missing.extend(source.report.missing_documents)
    return report


def refresh_once(config: Config, request: RefreshRequest, *, wait: float = 120.0) -> TickReport:
    """One tick that re-reads the request's documents, then evaluates and dispatches.

    What ``edo-rules sync --document REF`` runs; it holds the store's lock
    like any tick, so it cannot race a running service on a SQLite store. On a
    store shared by runners, the runner holding the sync lease does it (this
    process waits up to ``wait`` seconds for its answer) unless the lease is
    free, when this process takes it and refreshes itself.
    """
    from edo_rules.runner.app import opened, wall_clock
    from edo_rules.runner.loop import run_tick

    with opened(config, command="sync --document") as service:
        route = service.route
        if route is None or route.serves_here():
            return run_tick(service.pipeline, wall_clock(), service.metrics, [request])
        asked = route.submit(request)
        # This process has no loop to serve requests: should its heartbeat take the
        # lease (the holder died), it serves the open requests, its own among them.
        answer = route.answer_to(asked, wait, unless=lambda: route.membership.holds_sync_lease)
        if answer is None and route.membership.holds_sync_lease:
            served = route.take()
            report = run_tick(
                service.pipeline, wall_clock(), service.metrics, [r for _, r in served]
            )
            route.answer([number for number, _ in served], report.summary())
            return report
    if answer is None:
        raise EdoRulesError(
            f"the runner holding the sync lease did not answer within {wait:.0f} s; it "
            "refreshes the documents when it can (`edo-rules runners` shows who holds it)"
        )
    return report_from_summary(answer)


def report_from_summary(summary: Mapping[str, Any]) -> TickReport:
    """The tick report another runner answered with (``TickReport.summary()``)."""
    from edo_rules.runner.dispatch import DispatchReport
    from edo_rules.runner.loop import TickReport

    return TickReport(
        at=datetime.fromisoformat(str(summary["at"])),
        synced=int(summary.get("synced", 0)),
        fired=int(summary.get("fired", 0)),
        dispatch=DispatchReport(outcomes=Counter(summary.get("actions", {}))),
        errors=list(summary.get("errors", ())),
        seconds=float(summary.get("seconds", 0.0)),
    )
