"""The dispatcher: carries out the outbox's action requests effectively once.

The contract with the store and the adapters:

* Requests are claimed oldest first (``Store.claim_requests`` marks them in
  flight), grouped by action and handed to the adapter, which batches them.
  Only the first group of a claim is sent; the rest go straight back to
  pending, so that a request is in flight only while it is really being sent.
* Each outcome is recorded (``Store.record_outcomes``): done; retry (back to
  pending with a back-off delay, until ``max_attempts``); failed (kept with its
  reason); in doubt (kept for the admin).
* A request found in flight when the dispatcher starts was being sent by a
  process that died (with SQLite the store lock guarantees there is no other
  live one; runners sharing a PostgreSQL store take over only expired claims).
  Such a request is *in doubt*: it is checked through its adapter before it is
  sent again: done → recorded as done; ``None`` → safe to send, back to
  pending; an adapter that cannot check → in doubt, not re-sent until the
  admin says so (``edo-rules outbox retry ID``).
* A request left in doubt by a timeout (the send and its look-up both went
  unanswered) heals itself when its adapter can check: every dispatch re-checks
  it, with the retry policy's back-off, until the check answers (found → done,
  not found → sent again). Only an adapter that cannot check (``workflow``)
  leaves it to the admin.
* One failing action never stops the others: an adapter that raises is
  treated like a crash of that batch (its requests are checked), and the
  dispatch goes on with the next group.
* Several batches in flight, each document's order kept: a group holds at
  most one request per document (the oldest claimed; the others go back to
  pending for the next group), so the client may send the group's ``batch``
  requests side by side (``bitrix24.in_flight``) without ever running two
  requests of one document at once or out of order. With runners sharing a
  store, a claimed request also waits while an earlier request of its
  document is in flight at another runner or due but not yet claimed
  (``SharedStore.waiting_behind``); it is sent in a later pass.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from edo_rules._bounds import StageDeadlineError, stage_expired
from edo_rules._messages import Text
from edo_rules.actions.base import Action
from edo_rules.errors import ActionError, EdoRulesError
from edo_rules.model import ActionRequest, Outcome, OutcomeStatus, RequestState
from edo_rules.runner._heal import heal_in_doubt
from edo_rules.runner._lookfirst import look_first
from edo_rules.runner.metrics import Metrics
from edo_rules.store.base import Store
from edo_rules.store.shared import SharedStore

_log = logging.getLogger("edo_rules.dispatch")

#: A claim holds at most about this many seconds of work at the runner's share of the rate,
#: and at least two batches: a document's later requests wait behind its first, so a claim
#: of one batch leaves that batch part empty while the portal counts it whole.
_CLAIM_SECONDS = 4.0
_CLAIM_BATCHES = 2

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off for retryable failures.

    The delay before attempt ``n + 1`` is ``base × factor^(n-1)``, capped at
    ``max_delay``, and never shorter than what the remote side asked for
    (``Outcome.retry_after``). After ``max_attempts`` the request fails for good.
    """

    base: float = 10.0
    factor: float = 2.0
    max_delay: float = 3600.0
    max_attempts: int = 10

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Seconds to wait after the ``attempt``-th failed attempt (1-based)."""
        computed = min(self.max_delay, self.base * self.factor ** max(attempt - 1, 0))
        return max(computed, hint or 0.0)


@dataclass(slots=True)
class DispatchReport:
    """What one dispatch pass did: outcomes counted by status and by action."""

    outcomes: Counter[str] = field(default_factory=Counter)
    by_action: Counter[tuple[str, str]] = field(default_factory=Counter)
    recovered: Counter[str] = field(default_factory=Counter)
    healed: Counter[str] = field(default_factory=Counter)
    stopped: bool = False
    #: Set when the stage passed its time limit (the error text, rendered when shown: the
    #: log's English); the rest goes next tick.
    limit: Text | None = None

    @property
    def sent(self) -> int:
        return sum(self.outcomes.values())

    def summary(self, waiting: int | None = None) -> str:
        """``12 done, 1 retry`` — or ``nothing to send``; ``3 waiting`` when some wait."""
        parts = [f"{n} {status}" for status, n in sorted(self.outcomes.items())]
        if waiting:
            parts.append(f"{waiting} waiting")
        if self.recovered:
            checked = ", ".join(f"{n} {s}" for s, n in sorted(self.recovered.items()))
            parts.append(f"after a crash: {checked}")
        if self.healed:
            checked = ", ".join(f"{n} {s}" for s, n in sorted(self.healed.items()))
            parts.append(f"in doubt re-checked: {checked}")
        return ", ".join(parts) if parts else "nothing to send"


class Dispatcher:
    """Sends due requests from the outbox through the adapters, recording every outcome.

    ``actions`` maps action names to adapter instances; ``clock`` returns the
    current, timezone-aware time (injected: the demo runs on simulated days).
    ``stop`` ends a pass after the batch in flight (graceful shutdown).
    ``in_flight`` lists the requests a dead process left in flight (default:
    every in-flight request — the store lock allows one process; with a store
    shared by several runners, those whose claim expired).
    ``since`` (default: the clock when built) is when this dispatcher started:
    what was due before it is looked up before it is created (see
    :mod:`edo_rules.runner._lookfirst`). ``pack`` is the commands per remote
    batch: a group above it is cut to whole batches. ``parts`` (the live
    runners sharing the portal's rate) divides the claim among them; ``rate``
    (the portal's requests per second) cuts it to a few seconds of work (_CLAIM_SECONDS).
    """

    def __init__(
        self,
        store: Store,
        actions: Mapping[str, Action],
        *,
        clock: Clock,
        policy: RetryPolicy | None = None,
        batch_size: int = 200,
        metrics: Metrics | None = None,
        stop: threading.Event | None = None,
        since: datetime | None = None,
        in_flight: Callable[[], list[ActionRequest]] | None = None,
        pack: int = 50,
        parts: Callable[[], int] | None = None,
        rate: float | None = None,
    ) -> None:
        self._store = store
        # Commands per remote batch (Bitrix24: 50): a group larger than one batch is cut
        # to whole batches, the rest goes first in the next group, so no batch of a busy
        # outbox leaves half empty while the rate limit counts it whole.
        self._pack = max(1, pack)
        # With N runners each sending at 1/N of the portal's rate, a runner claims 1/N of
        # the batch: claiming more would leave work waiting behind its slower pace while
        # the others run dry.
        self._parts = parts or (lambda: 1)
        # A claim is also cut to what this runner sends in _CLAIM_SECONDS at its share of
        # the portal's rate (requests per second): a claim of 333 at a third of 2 requests
        # a second held 10 s of work that the other runners, run dry, could not take.
        self._rate = rate
        self._actions = dict(actions)
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._batch_size = batch_size
        self._metrics = metrics
        self._stop = stop or threading.Event()
        self._since = since or clock()
        # Which in-flight requests are left by a dead process: all of them with one
        # runner per store; those whose claim expired when runners share the store.
        if in_flight is None and isinstance(store, SharedStore):
            in_flight = store.take_over_stale_claims
        self._in_flight = in_flight or (lambda: store.requests([RequestState.IN_FLIGHT]))

    # -- recovery ----------------------------------------------------------------
    def recover(self) -> Counter[str]:
        """Resolve requests left in flight by a dead process; returns counts by result."""
        counts: Counter[str] = Counter()
        stuck = self._in_flight()
        if stuck:
            _log.warning(
                "%d request(s) were left in flight (a run stopped, or recording their"
                " outcome failed): checking them",
                len(stuck),
            )
        for request in stuck:
            counts[self._recover_one(request)] += 1
        return counts

    def _recover_one(self, request: ActionRequest) -> str:
        adapter = self._actions.get(request.action)
        outcome: Outcome | None
        if adapter is None:
            # No adapter to check with: the safe answer is "in doubt".
            outcome = self._in_doubt(request, f"no adapter named {request.action!r} to check it")
        else:
            outcome = self._check(adapter, request)
        if outcome is None:
            return "unresolved"
        self._record([outcome], {request.id: request}, recovering=True)
        return outcome.status.value if outcome.status != OutcomeStatus.RETRY else "resend"

    def _check(self, adapter: Action, request: ActionRequest) -> Outcome | None:
        """The outcome a crashed request gets; ``None`` when the check itself failed.

        A request whose check failed stays in flight: the next dispatch checks it again.
        """
        try:
            found = adapter.check(request)
        except ActionError as exc:
            found = self._in_doubt(request, str(exc))
        if found is not None and found.status == OutcomeStatus.IN_DOUBT and adapter.can_check:
            # The adapter can check but could not now (the portal is down, say).
            _log.warning(
                "cannot check request %s yet: %s", request.id, found.reason, extra=_ctx(request)
            )
            return None
        if found is None:
            return Outcome(
                request_id=_id(request),
                status=OutcomeStatus.RETRY,
                at=self._clock(),
                reason="checked: not in the portal; sending again",
                retry_after=0.0,
            )
        return found

    def heal(self) -> Counter[str]:
        """Re-check in-doubt requests whose adapter can check (with back-off); counts by result."""
        return heal_in_doubt(self, self._store, self._actions, self._clock(), self._policy)

    def check_and_record(self, adapter: Action, request: ActionRequest) -> Outcome | None:
        """Check ``request`` now and record what the check found; None when it did not answer."""
        outcome = self._check(adapter, request)
        if outcome is not None:
            self._record([outcome], {request.id: request}, recovering=True)
        return outcome

    def _in_doubt(self, request: ActionRequest, reason: str) -> Outcome:
        return Outcome(_id(request), OutcomeStatus.IN_DOUBT, self._clock(), reason=reason)

    # -- dispatch ----------------------------------------------------------------
    def dispatch(self) -> DispatchReport:
        """Send every due request (recovering crashed ones first); stops early on ``stop``.

        A request is sent at most once per pass: a retry that comes due again
        within the pass waits for the next one (the next tick).
        """
        report = DispatchReport()
        try:
            self._pass(report)
        finally:
            self._give_up_claims()
        report.stopped = self._stop.is_set()
        return report

    def _pass(self, report: DispatchReport) -> None:
        report.recovered.update(self.recover())
        report.healed.update(self.heal())
        sent: set[int] = set()
        while not self._stop.is_set():
            expired = stage_expired()
            if expired is not None:
                report.limit = StageDeadlineError(expired).text
                break
            claimed = self._store.claim_requests(self._clock(), self._claim_size())
            fresh = [r for r in claimed if _id(r) not in sent]
            self._release([r for r in claimed if _id(r) in sent])
            if not fresh:
                break
            group, waiting = self._first_group(fresh)
            # Waiting behind another runner's request: not again in this pass.
            sent.update(_id(r) for r in (*group, *waiting))
            if group:
                self._send(group, report)

    def _give_up_claims(self) -> None:
        """On a shared store, what this pass left in flight goes back to be checked.

        A request is left in flight by a pass that failed half-way, or when the
        look-up of a crashed request did not answer. With one runner per store
        the next pass finds every in-flight request anyway; on a shared store it
        takes over only expired claims, and the heartbeat would renew these for
        as long as this runner lives.
        """
        if not isinstance(self._store, SharedStore):
            return
        try:
            left = self._store.give_up_claims()
        except EdoRulesError as exc:  # the claims expire with the lease anyway
            _log.warning("could not give up this runner's claims: %s", exc)
            return
        if left:
            _log.warning("%d request(s) left in flight: the next pass checks them", left)

    def _claim_size(self) -> int:
        parts = max(1, self._parts())
        size = self._batch_size // parts
        if self._rate is not None:
            share = math.ceil(self._rate / parts * self._pack * _CLAIM_SECONDS)
            size = min(size, max(share, self._pack * _CLAIM_BATCHES))
        return max(self._pack, size)

    def _first_group(
        self, claimed: Sequence[ActionRequest]
    ) -> tuple[list[ActionRequest], list[ActionRequest]]:
        """The group to send now and the requests that wait behind another runner's.

        The group: of the first action's claimed requests, those that are the
        oldest claimed request of their document (a document whose oldest is
        another action's waits for it). Everything else goes back to pending.
        """
        name = claimed[0].action
        group: list[ActionRequest] = []
        documents: set[str] = set()
        for request in claimed:
            if request.document_id in documents:
                continue
            documents.add(request.document_id)
            if request.action == name:
                group.append(request)
        waiting = self._waiting_behind(group)
        group = [r for r in group if _id(r) not in waiting]
        if len(group) > self._pack:
            group = group[: len(group) - len(group) % self._pack]
        keep = {_id(r) for r in group}
        self._release([r for r in claimed if _id(r) not in keep])
        return group, [r for r in claimed if _id(r) in waiting]

    def _waiting_behind(self, group: Sequence[ActionRequest]) -> set[int]:
        if not group or not isinstance(self._store, SharedStore):
            return set()
        return self._store.waiting_behind([_id(r) for r in group], self._clock())

    def _release(self, requests: Sequence[ActionRequest]) -> None:
        if not requests:
            return
        if isinstance(self._store, SharedStore):
            # One statement, not a round trip to the database per request.
            self._store.release_requests([_id(r) for r in requests])
            return
        for request in requests:
            self._store.set_request_state(_id(request), RequestState.PENDING)

    def _send(self, group: list[ActionRequest], report: DispatchReport) -> None:
        by_id = {r.id: r for r in group}
        outcomes = self._execute(group)
        recorded = self._record(outcomes, by_id, recovering=False)
        for outcome in recorded:
            request = by_id[outcome.request_id]
            report.outcomes[outcome.status.value] += 1
            report.by_action[(request.action, outcome.status.value)] += 1

    def _execute(self, group: list[ActionRequest]) -> list[Outcome]:
        name = group[0].action
        adapter = self._actions.get(name)
        if adapter is None:
            known = ", ".join(sorted(self._actions)) or "none"
            reason = (
                f"no action adapter named {name!r} is configured (known: {known}); "
                "check the config's bitrix24 section, then `edo-rules outbox retry --failed`"
            )
            return [self._failed(r, reason) for r in group]
        found = look_first(adapter, group, self._since, self._clock())
        settled = {o.request_id for o in found}
        rest = [r for r in group if r.id not in settled]
        return found + (self._execute_with(adapter, rest) if rest else [])

    def _execute_with(self, adapter: Action, group: list[ActionRequest]) -> list[Outcome]:
        name = adapter.name
        try:
            outcomes = list(adapter.execute(group))
        except ActionError as exc:
            status = OutcomeStatus.RETRY if exc.retryable else OutcomeStatus.FAILED
            at = self._clock()
            return [Outcome(_id(r), status, at, reason=str(exc)) for r in group]
        except Exception:
            # A bug in an adapter: whether anything was sent is unknown, so check.
            _log.exception("action %r failed unexpectedly; checking its requests", name)
            return self._resolve_unknown(adapter, group)
        return self._complete(adapter, group, outcomes)

    def _complete(
        self, adapter: Action, group: list[ActionRequest], outcomes: list[Outcome]
    ) -> list[Outcome]:
        """Outcomes for every request of ``group``: the adapter's, plus checks for any it missed."""
        answered = {o.request_id for o in outcomes}
        missing = [r for r in group if r.id not in answered]
        if missing:
            _log.error(
                "action %r returned no outcome for %d request(s)", adapter.name, len(missing)
            )
            outcomes += self._resolve_unknown(adapter, missing)
        ids = {r.id for r in group}
        return [o for o in outcomes if o.request_id in ids]

    def _resolve_unknown(self, adapter: Action, group: list[ActionRequest]) -> list[Outcome]:
        """Checked outcomes; a request whose check failed stays in flight for the next pass."""
        checked = (self._check(adapter, request) for request in group)
        return [outcome for outcome in checked if outcome is not None]

    def _failed(self, request: ActionRequest, reason: str) -> Outcome:
        return Outcome(_id(request), OutcomeStatus.FAILED, self._clock(), reason=reason)

    # -- recording ---------------------------------------------------------------
    def _record(
        self,
        outcomes: Sequence[Outcome],
        requests: Mapping[int | None, ActionRequest],
        *,
        recovering: bool,
    ) -> list[Outcome]:
        final = [self._apply_policy(o, requests[o.request_id], recovering) for o in outcomes]
        self._store.record_outcomes(final)
        for outcome in final:
            self._observe(outcome, requests[outcome.request_id])
        return final

    def _apply_policy(self, outcome: Outcome, request: ActionRequest, recovering: bool) -> Outcome:
        """Back-off for retries; give up after ``max_attempts``."""
        if outcome.status != OutcomeStatus.RETRY or recovering:
            return outcome
        attempt = request.attempts + 1
        if attempt >= self._policy.max_attempts:
            reason = f"gave up after {attempt} attempts: {outcome.reason or 'retryable error'}"
            return replace(outcome, status=OutcomeStatus.FAILED, reason=reason)
        return replace(outcome, retry_after=self._policy.delay(attempt, outcome.retry_after))

    def _observe(self, outcome: Outcome, request: ActionRequest) -> None:
        level = logging.INFO if outcome.status == OutcomeStatus.DONE else logging.WARNING
        extra = _ctx(request) | {"outcome": outcome.status.value}
        if outcome.remote_id:
            extra["remote_id"] = outcome.remote_id
        if outcome.reason:
            extra["reason"] = outcome.reason
        _log.log(level, "action %s %s", request.action, outcome.status.value, extra=extra)
        if self._metrics is not None:
            self._metrics.inc(
                "edo_rules_actions_total", action=request.action, outcome=outcome.status.value
            )


def _id(request: ActionRequest) -> int:
    if request.id is None:
        raise ValueError("an outbox request without an id cannot be dispatched")
    return request.id


def _ctx(request: ActionRequest) -> dict[str, object]:
    return {
        "rule": request.rule_key,
        "document": request.document_id,
        "key": request.idempotency_key,
        "action": request.action,
        "request": request.id,
    }
