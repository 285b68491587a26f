"""The dashboard's refresh boundary over the runner: the button and the hook call these.

:func:`refresher` asks the runner for a tick that re-reads the named documents
from 1C (:meth:`Runner.refresh`, see :mod:`edo_rules.runner.refresh`) and
waits up to the caller's budget; without a 1C source it runs a plain tick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edo_rules.runner.loop import Runner
from edo_rules.runner.refresh import RefreshRequest
from edo_rules.web._dashboard import Dashboard

Refresher = Callable[[Sequence[str], float], Mapping[str, Any]]


def refresher(runner: Runner, reads_1c: bool) -> Refresher:
    """A refresh of document ids that waits up to its budget for the runner's tick."""

    def refresh(document_ids: Sequence[str], timeout: float) -> Mapping[str, Any]:
        if reads_1c:
            request = RefreshRequest(documents=tuple(d.lower() for d in document_ids))
            tick = runner.refresh(request, True, timeout)
        else:
            tick = runner.trigger(True, timeout)
        if tick is None:
            # Still running: the tick goes on and the page shows it when it ends.
            return {"ok": True, "queued": True, "documents": list(document_ids)}
        return {"ok": bool(tick.get("ok")), "documents": list(document_ids), "tick": tick}

    return refresh


def deal_documents(dashboard: Dashboard) -> Callable[[str], Sequence[str]]:
    """The 1C ids of the store's documents bound to a Bitrix24 deal."""

    def find(deal_id: str) -> Sequence[str]:
        rows = dashboard.reader.rows("SELECT id FROM documents WHERE deal_id = ?", [deal_id])
        return [str(row[0]) for row in rows]

    return find
