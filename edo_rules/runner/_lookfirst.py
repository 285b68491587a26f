"""Look before creating: what a store cannot remember sending is looked up in batches first.

Idempotency keys come from 1C, so a store rebuilt from 1C or restored from a
backup plans the same requests with the same keys as the store before it —
but it cannot know which of them were already carried out. The dispatcher
started at ``since``; a request whose firing was due before that (or that
was written before it) may have been carried out by an earlier store, so an
adapter that can look it up (:class:`edo_rules.actions.base.LooksUpFirst`) is
asked first, in batches. A request due after the dispatcher started was
planned by this store and is sent without a look-up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from edo_rules._messages import msg
from edo_rules.actions.base import Action, LooksUpFirst
from edo_rules.model import ActionRequest, Outcome, OutcomeStatus

_log = logging.getLogger("edo_rules.dispatch")


def remembered(request: ActionRequest, since: datetime) -> bool:
    """True when this dispatcher's store planned the request after it started.

    A request without ``due_at`` (not planned by the engine) is judged by when
    it was written alone.
    """
    if request.created_at < since:
        return False
    return request.due_at is None or request.due_at >= since


def look_first(
    adapter: Action, group: Sequence[ActionRequest], since: datetime, now: datetime
) -> list[Outcome]:
    """Outcomes for the requests of ``group`` found already carried out (or not checkable now)."""
    if not isinstance(adapter, LooksUpFirst):
        return []
    unknown = [r for r in group if not remembered(r, since)]
    if not unknown:
        return []
    try:
        found = adapter.find_existing(unknown)
    except Exception as exc:  # a bug in an adapter must not create twice: try again later
        _log.exception("action %r could not look up %d request(s)", adapter.name, len(unknown))
        reason = str(msg("b24_lookup_failed", error=exc))
        return [Outcome(r.id or 0, OutcomeStatus.RETRY, now, reason=reason) for r in unknown]
    done = sum(1 for o in found if o.status is OutcomeStatus.DONE)
    if done:
        _log.info(
            "%d %s request(s) were already carried out; not created again", done, adapter.name
        )
    return found
