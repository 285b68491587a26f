"""In-doubt requests that heal themselves: re-checked by their adapter until it answers.

A request is left in doubt when its send timed out and the look-up that
followed timed out too. Nothing is known, but the adapter *can* know: the
next dispatches ask it again, each time after a longer wait (the dispatcher's
retry policy, counted over the request's consecutive in-doubt outcomes), until
the portal answers. Adapters that cannot check are left to the admin.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from edo_rules.actions.base import Action
from edo_rules.model import ActionRequest, Outcome, OutcomeStatus, RequestState
from edo_rules.store.base import Store

if TYPE_CHECKING:
    from edo_rules.runner.dispatch import Dispatcher, RetryPolicy

_log = logging.getLogger("edo_rules.dispatch")


def heal_in_doubt(
    dispatcher: Dispatcher,
    store: Store,
    actions: Mapping[str, Action],
    now: datetime,
    policy: RetryPolicy,
) -> Counter[str]:
    """Check each due in-doubt request once: ``done``, ``resend`` or ``still in doubt``."""
    counts: Counter[str] = Counter()
    for request in store.requests([RequestState.IN_DOUBT]):
        adapter = actions.get(request.action)
        if adapter is None or not adapter.can_check:
            continue  # the admin decides (`edo-rules outbox`)
        if not check_due(store, request, now, policy):
            continue
        outcome = dispatcher.check_and_record(adapter, request)
        if outcome is None:
            counts["still in doubt"] += 1
            store.record_outcomes([_still(request, now)])
        else:
            counts["done" if outcome.status is OutcomeStatus.DONE else "resend"] += 1
    return counts


def check_due(store: Store, request: ActionRequest, now: datetime, policy: RetryPolicy) -> bool:
    """True when the back-off after the request's last in-doubt outcome has passed."""
    outcomes = store.outcomes_for(request.id or 0)
    streak = 0
    for outcome in reversed(outcomes):
        if outcome.status is not OutcomeStatus.IN_DOUBT:
            break
        streak += 1
    if not outcomes:
        return True
    wait = timedelta(seconds=policy.delay(max(streak, 1)))
    return now >= outcomes[-1].at + wait


def _still(request: ActionRequest, now: datetime) -> Outcome:
    _log.warning("request %s is still in doubt: the check did not answer", request.id)
    return Outcome(
        request.id or 0,
        OutcomeStatus.IN_DOUBT,
        now,
        reason="re-checked: the portal did not answer yet; checking again later",
    )


def retry_checked(dispatcher: Dispatcher, adapter: Action, request: ActionRequest) -> str:
    """The admin's retry of an in-doubt request: check first, never re-send what exists.

    Returns ``done`` (found in the portal: recorded as done, not sent again),
    ``resend`` (not there: back to pending) or ``unchecked`` (the check did
    not answer: left in doubt).
    """
    outcome = dispatcher.check_and_record(adapter, request)
    if outcome is None:
        return "unchecked"
    return "done" if outcome.status is OutcomeStatus.DONE else "resend"
