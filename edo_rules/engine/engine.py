"""The rules engine: evaluate playbooks against the store at an injected ``now``.

``Engine(store, playbooks, calendar).evaluate(now)`` decides which rules are
due for which documents and writes the firings and their action requests to
the outbox: each firing with its requests in one transaction, and the rules'
progress (event cursors, ranges decided) in the last one. A tick of up to
``RECORD_BATCH`` firings is one transaction; a larger one (the first-ever
evaluation catching up a whole store) is recorded in batches as it is
planned, so that its memory stays bounded; if it stops half-way, the next
evaluation plans the rest again and the ledger leaves out what was recorded.
The ledger's unique key (rule, document, step,
episode) makes evaluation idempotent: a second call at the same or a later
time adds only what became due since. Nothing is kept in memory between
calls, so a new Engine on the same store continues exactly where the last one
stopped. See ``docs/engine.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from edo_rules._bounds import check_stage
from edo_rules.engine._diff import PlaybookDiff, diff_playbooks, horizon
from edo_rules.engine._due import WorkingCalendar
from edo_rules.engine._explain import Explanation, explain_document
from edo_rules.engine._plan import (
    DocumentFailure,
    PlannedFiring,
    TickPlan,
    plan_event_rule,
    plan_time_rule,
)
from edo_rules.engine._preview import GoLivePreview, RecipientNamer, preview
from edo_rules.engine._simulate import DEFAULT_ZONE, Simulation, moments, run_ticks, step_of
from edo_rules.engine._snooze import add_snooze
from edo_rules.engine._stats import refresh as refresh_stats
from edo_rules.engine._stats import uses_stats
from edo_rules.errors import EdoRulesError
from edo_rules.model import ActionRequest, Firing
from edo_rules.playbook.rules import Duration, Playbook, Rule, TimeTrigger
from edo_rules.store.base import Snooze, Store


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """What one evaluation recorded (or, in a dry run, would record)."""

    now: datetime
    dry_run: bool
    fired: tuple[PlannedFiring, ...]  # acted on: each with its action requests
    skipped: tuple[Firing, ...]  # recorded as skipped by the catch-up policy
    failures: tuple[DocumentFailure, ...]  # documents skipped because `where`/a template failed

    @property
    def requests(self) -> tuple[ActionRequest, ...]:
        return tuple(request for planned in self.fired for request in planned.requests)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "fired": len(self.fired),
            "skipped": len(self.skipped),
            "requests": len(self.requests),
            "failures": len(self.failures),
        }


class Engine:
    """Evaluates compiled playbooks against a :class:`~edo_rules.store.base.Store`.

    ``calendar`` is normally :class:`edo_rules.calendar.ProductionCalendar`.
    Raises :class:`~edo_rules.errors.StoreError` when the store fails (nothing
    is then recorded) and :class:`~edo_rules.errors.EdoRulesError` for rule keys
    defined twice; a ``where`` or template failing on one document is reported
    in the result and never stops the others.
    """

    def __init__(
        self,
        store: Store,
        playbooks: Sequence[Playbook],
        calendar: WorkingCalendar,
        *,
        go_live: datetime | None = None,
        record_batch: int | None = None,
    ):
        if go_live is not None and go_live.tzinfo is None:
            raise ValueError("go_live must be timezone-aware")
        self.store = store
        self.playbooks = tuple(playbooks)
        self.calendar = calendar
        #: The config's go-live; a playbook's own ``go_live`` takes precedence for its rules.
        self.go_live = go_live
        self._rules = self._index(self.playbooks, go_live)
        self._needs_stats = uses_stats(rule for rule, _ in self._rules.values())
        #: Firings planned before a batch is recorded (see the module's docstring).
        self.record_batch = RECORD_BATCH if record_batch is None else max(record_batch, 1)

    @staticmethod
    def _index(
        playbooks: Sequence[Playbook], go_live: datetime | None
    ) -> dict[str, tuple[Rule, str]]:
        rules: dict[str, tuple[Rule, str]] = {}
        for playbook in playbooks:
            for written in playbook.rules:
                rule = written
                if rule.go_live is None and go_live is not None:
                    rule = replace(written, go_live=go_live)
                if rule.key in rules:
                    raise EdoRulesError(
                        f"rule {rule.key} is defined twice (in {rules[rule.key][0].location.file}"
                        f" and {rule.location.file}); give one of the playbooks another name"
                    )
                rules[rule.key] = (rule, playbook.content_hash)
        return rules

    def update_stats(self) -> int:
        """Bring ``counterparty.stats`` up to the documents written (the runner calls it right
        after each sync); nothing when no rule reads them. Returns the documents read."""
        return refresh_stats(self.store, self.calendar) if self._needs_stats else 0

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule, _ in self._rules.values())

    def evaluate(
        self, now: datetime, *, dry_run: bool = False, incremental: bool = True
    ) -> EvaluationResult:
        """Record the firings due at ``now`` (``dry_run``: compute them, record nothing).

        ``incremental=False`` re-examines every matching document instead of
        only what changed since the last recorded evaluation (same result;
        for checks and benchmarks).
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not dry_run:  # a no-op after the sync's update; a catch-up otherwise
            self.update_stats()
        recorded: list[PlannedFiring] = []
        plan = TickPlan(
            store=self.store,
            calendar=self.calendar,
            now=now,
            cursors=self.store.event_cursors(),
            max_event_id=self.store.max_event_id(),
            document_seq=self.store.document_seq(),
            progress=self.store.rule_progress(),
            incremental=incremental,
            ended=self.store.ended_snoozes(now),
        )
        if not dry_run:
            plan.flush = _batches(
                plan, self.record_batch, lambda: recorded.extend(self._record(plan))
            )
        for rule, playbook_hash in self._rules.values():
            # A tick's evaluate stage past its limit stops here: nothing more is recorded
            # (batches already recorded stay; the next tick's ledger leaves them out).
            check_stage()
            if isinstance(rule.trigger, TimeTrigger):
                plan_time_rule(plan, rule, rule.trigger, playbook_hash)
            else:
                plan_event_rule(plan, rule, rule.trigger, playbook_hash)
        planned = plan.firings
        if not dry_run:
            planned = recorded + self._record(plan, final=True)
        return EvaluationResult(
            now=now,
            dry_run=dry_run,
            fired=tuple(p for p in planned if not p.firing.skipped),
            skipped=tuple(p.firing for p in planned if p.firing.skipped),
            failures=tuple(plan.failures),
        )

    def _record(self, plan: TickPlan, *, final: bool = False) -> list[PlannedFiring]:
        """Record the firings planned so far (the progress too when ``final``); drop them."""
        planned, plan.firings = plan.firings, []
        pairs = [(p.firing, p.requests) for p in planned]
        if not final:
            added = self.store.record_firings(pairs)
        else:
            released = [s.id for s in plan.ended if s.id not in plan.held]
            added = self.store.record_firings(
                pairs,
                event_cursors=plan.new_cursors,
                rule_progress=plan.new_progress,
                released_snoozes=released,
            )
        if len(added) == len(pairs) and all(  # the usual case: all new, in the order sent
            _ledger_key(f) == _ledger_key(p.firing) for f, p in zip(added, planned, strict=True)
        ):
            return [PlannedFiring(f, p.requests) for f, p in zip(added, planned, strict=True)]
        by_key = {_ledger_key(f): f for f in added}
        return [
            PlannedFiring(by_key[_ledger_key(p.firing)], p.requests)
            for p in planned
            if _ledger_key(p.firing) in by_key
        ]

    def simulate(
        self,
        start: date,
        end: date,
        *,
        every: str | Duration = "1 day",
        at: time = time(9),
        zone: ZoneInfo = DEFAULT_ZONE,
        stop: Callable[[], bool] | None = None,
    ) -> Simulation:
        """Evaluate at successive moments from ``start`` to ``end`` without touching the store.

        The ticks are recorded into a temporary copy of the store
        (:meth:`Store.scratch_copy`), so ladders, repeats and catch-up progress
        as the runner's ticks would; the copy is discarded afterwards. Default
        moments: every day at 09:00 in ``zone``. Raises
        :class:`~edo_rules.engine.SimulationError` for a bad range or step, and
        when ``stop()`` (asked before each tick) answers True.
        """
        at_moments = moments(start, end, step_of(every), self.calendar, at=at, zone=zone)
        with self.store.scratch_copy() as scratch:
            ticks = run_ticks(
                Engine(scratch, self.playbooks, self.calendar, go_live=self.go_live),
                at_moments,
                stop,
            )
        return Simulation(start, end, ticks)

    def diff(
        self, new: Sequence[Playbook], now: datetime, *, working_days: int = 10
    ) -> PlaybookDiff:
        """What replacing this engine's playbooks by ``new`` changes over the coming days.

        Both versions are simulated at ``now`` and every day at 09:00 for the next
        ``working_days`` on scratch copies of the store (never written); see
        :class:`~edo_rules.engine.PlaybookDiff`.
        """
        at = horizon(now, self.calendar, working_days)
        return diff_playbooks(
            self.store, self.playbooks, new, self.calendar, at, go_live=self.go_live
        )

    def snooze(
        self,
        document_id: str,
        duration: str | Duration,
        now: datetime,
        *,
        rule_key: str | None = None,
        reason: str | None = None,
    ) -> Snooze:
        """Pause ``document_id`` (for ``rule_key`` or all rules) for ``duration`` from ``now``.

        The end is counted like a rule's ``after`` ("5 working days": 00:00 of
        the working day after the 5th, in the rule's zone or Moscow time). What
        becomes due meanwhile fires when it ends, per the rule's ``catch_up``.
        Raises :class:`~edo_rules.errors.EdoRulesError` for an unknown rule or a
        bad duration, :class:`~edo_rules.errors.StoreError` for an unknown document.
        """
        return add_snooze(self, document_id, duration, now, rule_key=rule_key, reason=reason)

    def preview(
        self, now: datetime, *, examples: int = 10, recipients: RecipientNamer | None = None
    ) -> GoLivePreview:
        """What a real tick at ``now`` would send, per recipient and per rule (read-only)."""
        return preview(self, now, examples=examples, recipients=recipients)

    def explain(self, document_id: str, now: datetime) -> Explanation:
        """Why each rule does or does not fire for one document at ``now`` (read-only)."""
        return explain_document(self, document_id, now)


#: Planned firings held before they are recorded (see the module's docstring).
RECORD_BATCH = 20_000


def _batches(plan: TickPlan, size: int, record: Callable[[], None]) -> Callable[[], None]:
    """Called by the planner between documents: records once a batch is full."""

    def flush() -> None:
        if len(plan.firings) >= size:
            record()

    return flush


def _ledger_key(firing: Firing) -> tuple[str, str, str, str]:
    return (firing.rule_key, firing.document_id, firing.step, firing.episode)
