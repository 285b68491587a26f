"""The sync stage of a tick when the source is 1C over OData."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from edo_rules.runner.refresh import RefreshRequest, refresh_documents
from edo_rules.sources.base import sync
from edo_rules.sources.onec import OneCSettings, OneCSource
from edo_rules.store.base import Store

_log = logging.getLogger("edo_rules.sources.onec")


def make_sync(
    settings: OneCSettings,
    store: Store,
    *,
    clock: Callable[[], datetime],
    closers: list[Callable[[], None]],
    transport: Any = None,
) -> Callable[[datetime], int]:
    """A sync stage: read what changed in 1C into ``store``; returns documents written."""
    source = OneCSource(settings, documents=store.get_documents, clock=clock, transport=transport)
    closers.append(source.close)

    def stage(now: datetime) -> int:
        summary = sync(source, store)
        report = source.report
        if report.unknown_states:
            states = ", ".join(f"{name} ×{n}" for name, n in report.unknown_states.items())
            _log.warning("1C states the mapping does not know (kept as 'unknown'): %s", states)
        _log.info(
            "sync (%s): %d document(s), %d new event(s), %d request(s)",
            report.mode,
            summary.documents,
            summary.events_added,
            report.requests,
        )
        return summary.documents

    return SyncStage(stage, lambda requests: _refresh(source, store, requests, clock()))


class SyncStage:
    """The sync stage of a tick (call it with ``now``) and its refresh of given documents."""

    def __init__(
        self,
        sync_stage: Callable[[datetime], int],
        refresh: Callable[[Sequence[RefreshRequest]], int],
    ) -> None:
        self._sync = sync_stage
        self.refresh = refresh

    def __call__(self, now: datetime) -> int:
        return self._sync(now)


def _refresh(
    source: OneCSource, store: Store, requests: Sequence[RefreshRequest], now: datetime
) -> int:
    report = refresh_documents(source, store, requests, now=now)
    _log.info(
        "refresh: %d document(s), %d new event(s), %d request(s)%s",
        len(report.documents),
        report.events_added,
        report.requests,
        f"; not found in 1C: {', '.join(report.missing)}" if report.missing else "",
    )
    return len(report.documents)
