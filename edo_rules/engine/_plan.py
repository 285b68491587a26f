"""Planning one tick: which firings (and skipped firings) each rule produces at ``now``.

Time rules ask the store one indexed query per ladder position (the documents
whose *latest* due position is that one and which have no firing for it);
event rules ask for the status events recorded after the rule's cursor. Only
the candidates are looked at in Python (the ``where`` expression, the exact
amount bounds, the catch-up policy and the templates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import islice
from typing import Any, Protocol, TypeVar

from edo_rules._messages import Joined, Text, msg
from edo_rules.engine._due import (
    LadderStep,
    WorkingCalendar,
    cutoff,
    deliver,
    ladder,
    raw_due,
    since_bound,
)
from edo_rules.engine._incremental import (
    Range,
    fingerprint,
    is_empty,
    position_ranges,
    uncovered,
    usable_progress,
)
from edo_rules.engine._match import amount_in_range, document_filter
from edo_rules.engine._stats import StatsReader
from edo_rules.errors import CalendarError, unrendered
from edo_rules.model import ActionRequest, Document, Firing, StatusEvent
from edo_rules.playbook import budget_limit
from edo_rules.playbook.context import NamesFactory, render_params
from edo_rules.playbook.rules import ActionSpec, CatchUp, Rule, StatusTrigger, TimeTrigger
from edo_rules.store.base import (
    DueCandidate,
    DueQuery,
    EventQuery,
    RuleProgress,
    Snooze,
    Store,
    event_episode,
)

_CHUNK = 500
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class PlannedFiring:
    """A firing and the action requests it puts in the outbox (none when skipped)."""

    firing: Firing
    requests: tuple[ActionRequest, ...]


@dataclass(frozen=True, slots=True)
class DocumentFailure:
    """A document skipped for one rule because its ``where`` or a template failed.

    ``limit`` names the evaluation budget's limit that was hit (``time``,
    ``operations``, ``length``, ``total``, ``digits``), or is None for another error.
    """

    rule_key: str
    document_id: str
    #: The error, rendered when shown: Russian on the admin's terminal, English in the log.
    text: Text | Joined | str
    limit: str | None = None

    @property
    def message(self) -> str:
        return str(self.text)

    @classmethod
    def of(cls, rule_key: str, document_id: str, exc: BaseException) -> DocumentFailure:
        return cls(rule_key, document_id, unrendered(exc), budget_limit(exc))


@dataclass(slots=True)
class TickPlan:
    """What one evaluation decided; filled rule by rule."""

    store: Store
    calendar: WorkingCalendar
    now: datetime
    cursors: dict[str, int]
    max_event_id: int
    document_seq: int
    progress: dict[str, RuleProgress]
    incremental: bool = True
    #: Snoozes ended by ``now`` that the engine has not caught up on yet.
    ended: list[Snooze] = field(default_factory=list)
    #: Ids of ended snoozes that must wait for a later tick (an event rule's window is closed).
    held: set[int] = field(default_factory=set)
    firings: list[PlannedFiring] = field(default_factory=list)
    failures: list[DocumentFailure] = field(default_factory=list)
    new_cursors: dict[str, int] = field(default_factory=dict)
    new_progress: dict[str, RuleProgress] = field(default_factory=dict)
    #: Delivery moments of day-based positions by (rule, position, local date of since).
    due_by_day: dict[tuple[str, int, date], datetime] = field(default_factory=dict)
    #: Names of the documents being planned (cleared after each chunk of one rule).
    names: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: Per rule key: what the names of all its documents share at this tick.
    factories: dict[str, NamesFactory] = field(default_factory=dict)
    #: ``counterparty.stats``, one histogram per counterparty met (None: not read yet).
    stats_reader: StatsReader | None = None
    #: Per action (by id; the rules live through the tick): do its parameters read names?
    templated: dict[int, bool] = field(default_factory=dict)
    #: Per action whose parameters read no names (by id): its parameters, rendered once
    #: and shared by every request of the tick (never changed after: a request's params
    #: are read-only), so each document costs no render and the store one encoding.
    plain: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Called between documents: may record (and drop) the firings planned so far.
    flush: Callable[[], None] = lambda: None

    @property
    def stats(self) -> StatsReader:
        if self.stats_reader is None:
            self.stats_reader = StatsReader(self.store, self.now)
        return self.stats_reader


def idempotency_key(rule_key: str, document_id: str, step: str, episode: str, index: int) -> str:
    """Deterministic per (rule, document, step, episode, action index): safe to re-send."""
    text = "\x1f".join((rule_key, document_id, step, episode, str(index)))
    return "edo-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Subject(Protocol):
    """A candidate document: its id now, the document itself only when needed."""

    @property
    def document_id(self) -> str: ...

    def document(self) -> Document: ...


class _Decoded:
    """A document that is already decoded (event rules get whole documents)."""

    __slots__ = ("_doc", "document_id")

    def __init__(self, doc: Document):
        self._doc = doc
        self.document_id = doc.id

    def document(self) -> Document:
        return self._doc


class _LazyNames(Mapping[str, Any]):
    """The names of one (document, step), built on first read.

    Plain-text action parameters never read them, so a rule without ``where``
    and without templates never decodes its documents.
    """

    __slots__ = ("_build", "_names")

    def __init__(self, build: Callable[[], Mapping[str, Any]]):
        self._build = build
        self._names: Mapping[str, Any] | None = None

    def _built(self) -> Mapping[str, Any]:
        if self._names is None:
            self._names = self._build()
        return self._names

    def __getitem__(self, key: str) -> Any:
        return self._built()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


def _names(
    plan: TickPlan, rule: Rule, doc: Document, since: datetime | None, step: str
) -> dict[str, Any]:
    """The expression/template names, built once per (document, step) within a chunk."""
    key = (doc.id, step)
    names = plan.names.get(key)
    if names is None:
        factory = plan.factories.get(rule.key)
        if factory is None:
            factory = plan.factories[rule.key] = NamesFactory(
                rule, plan.now, plan.calendar, plan.stats.get
            )
        names = plan.names[key] = factory.names(doc, since, step)
    return names


def _since_of(rule: Rule, doc: Document, firing: Firing) -> datetime | None:
    """What ``elapsed`` counts from: the document's own ``since`` value (with its offset)."""
    trigger = rule.trigger
    return getattr(doc, trigger.since) if isinstance(trigger, TimeTrigger) else firing.due_at


def _passes_where(
    plan: TickPlan, rule: Rule, subject: _Subject, step: str, event_at: datetime | None = None
) -> bool:
    """Run ``where``; a failure is reported for this document and counts as "no"."""
    match = rule.match
    if match.where is None and match.amount_min is None and match.amount_max is None:
        return True  # nothing to check: the document need not even be decoded
    doc = subject.document()
    if not amount_in_range(doc, match):
        return False
    if match.where is None:
        return True
    trigger = rule.trigger
    since = getattr(doc, trigger.since) if isinstance(trigger, TimeTrigger) else event_at
    try:
        return bool(match.where.evaluate(_names(plan, rule, doc, since, step)))
    except Exception as exc:  # admin code: one bad document never stops the others
        plan.failures.append(DocumentFailure.of(rule.key, subject.document_id, exc))
        return False


def _requests(
    plan: TickPlan,
    rule: Rule,
    subject: _Subject,
    firing: Firing,
    actions: Sequence[ActionSpec],
) -> tuple[ActionRequest, ...]:
    def build() -> Mapping[str, Any]:
        doc = subject.document()
        return _names(plan, rule, doc, _since_of(rule, doc, firing), firing.step)

    # Templates get the names as a plain dict (Jinja copies them: a Mapping's copy
    # runs in Python, a dict's in C); plain texts never build them.
    names = build() if any(_templated(plan, spec) for spec in actions) else _LazyNames(build)
    doc_id, key, now = subject.document_id, rule.key, plan.now
    return tuple(
        ActionRequest(
            action=spec.name,
            params=_params(plan, spec, names, (key, doc_id, firing.episode)),
            idempotency_key=_key_of(spec, key, doc_id, firing, index),
            document_id=doc_id,
            rule_key=key,
            created_at=now,
            due_at=firing.due_at,
        )
        for index, spec in enumerate(actions)
    )


def _templated(plan: TickPlan, spec: ActionSpec) -> bool:
    """Whether an action's parameters hold a template that reads names (memoised per tick)."""
    found = plan.templated.get(id(spec))
    if found is None:
        found = plan.templated[id(spec)] = _reads_names(spec.params)
    return found


def _reads_names(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_reads_names(item) for item in value.values())
    if isinstance(value, tuple | list):
        return any(_reads_names(item) for item in value)
    # A compiled plain text has no template; any other renderable object may read names.
    return hasattr(value, "render") and getattr(value, "template", True) is not None


def _key_of(spec: ActionSpec, rule_key: str, doc_id: str, firing: Firing, index: int) -> str:
    step, position = spec.same_as or (firing.step, index)
    return idempotency_key(rule_key, doc_id, step, firing.episode, position)


def _params(
    plan: TickPlan, spec: ActionSpec, names: Mapping[str, Any], firing: tuple[str, str, str]
) -> Mapping[str, Any]:
    """The rendered parameters; an action that refers to an earlier one gets its key.

    ``firing`` is (rule key, document id, episode)."""
    if _templated(plan, spec):
        params = render_params(spec.params, names)
    else:
        shared = plan.plain.get(id(spec))
        if shared is None:
            shared = plan.plain[id(spec)] = render_params(spec.params, names)
        params = shared
    if spec.refers is None:
        return params
    rule_key, doc_id, episode = firing
    step, index = spec.refers
    return {**params, "of_key": idempotency_key(rule_key, doc_id, step, episode, index)}


def _add(
    plan: TickPlan,
    rule: Rule,
    subject: _Subject,
    fire: Sequence[tuple[Firing, Sequence[ActionSpec]]],
) -> None:
    """Add a document's firings for one rule, all or none (a failing template drops all)."""
    try:
        planned = [
            PlannedFiring(
                firing, () if firing.skipped else _requests(plan, rule, subject, firing, acts)
            )
            for firing, acts in fire
        ]
    except Exception as exc:  # a template failed on this document
        plan.failures.append(DocumentFailure.of(rule.key, subject.document_id, exc))
        return
    plan.firings.extend(planned)


# -- time rules ---------------------------------------------------------------------------


def before_go_live(rule: Rule, moment: datetime) -> bool:
    """True when ``moment`` (an episode's start or an event) is before the rule's go-live."""
    return rule.go_live is not None and moment < rule.go_live


def catch_up(due: list[int], policy: CatchUp) -> tuple[list[int], list[int]]:
    """Split the unrecorded due positions into (fire, skip).

    One position is the normal progression of the ladder. Several mean some
    were missed (downtime, or a document imported late): the rule's policy
    decides.
    """
    if len(due) <= 1 or policy is CatchUp.ALL:
        return due, []
    if policy is CatchUp.LATEST:
        return due[-1:], due[:-1]
    return [], due


@dataclass(frozen=True, slots=True)
class _Ladder:
    """A time rule's ladder at this tick: positions and their ``since`` bounds."""

    rule: Rule
    key: str  # rule.key, computed once
    trigger: TimeTrigger
    positions: tuple[LadderStep, ...]
    bounds: tuple[datetime, ...]  # position i is due  ⇔  since < bounds[i]
    playbook_hash: str
    documents: bool  # whether planning reads the documents (else the store need not send them)


def _reads_documents(rule: Rule, positions: Sequence[LadderStep]) -> bool:
    """Whether the rule's ``where``, amount bounds or action templates read its documents."""
    match = rule.match
    if match.where is not None or match.amount_min is not None or match.amount_max is not None:
        return True
    actions = [a for p in positions for a in (*p.actions, *p.step.actions)]
    return any(_reads_names(action.params) for action in actions)


def plan_time_rule(plan: TickPlan, rule: Rule, trigger: TimeTrigger, playbook_hash: str) -> None:
    """Add the firings of a time rule: a few indexed store queries per ladder position."""
    tz, cal = rule.timezone, plan.calendar
    positions = ladder(trigger.steps, trigger.repeat)
    limit = cutoff(plan.now, rule.working_hours, tz, cal)
    bounds = tuple(since_bound(limit, pos, trigger.repeat, tz, cal) for pos in positions)
    state = _Ladder(
        rule, rule.key, trigger, positions, bounds, playbook_hash, _reads_documents(rule, positions)
    )
    ranges = position_ranges(bounds)
    previous = plan.progress.get(rule.key) if plan.incremental else None
    previous = usable_progress(previous, rule, playbook_hash, len(positions))
    for j, span in enumerate(ranges):
        if is_empty(span):
            continue
        seen: set[str] = set()
        for query in _queries(plan, state, j, span, previous):
            candidates = plan.store.due_candidates_lazy(query)
            fresh = (c for c in candidates if c.document_id not in seen)
            for chunk in _chunks(fresh, _CHUNK):
                seen.update(c.document_id for c in chunk)
                _plan_chunk(plan, state, j, chunk)
                plan.names.clear()
                plan.flush()
    plan.new_progress[rule.key] = RuleProgress(
        fingerprint(rule, playbook_hash), plan.document_seq, ranges
    )


def _queries(
    plan: TickPlan, state: _Ladder, j: int, span: Range, previous: RuleProgress | None
) -> list[DueQuery]:
    """Documents whose latest due position is j: all of them, or only what may have changed.

    Documents under an active snooze are left out. A document whose snooze
    ended since the last tick was left out while the ranges moved on, so it is
    looked at again over the whole range (with ``previous`` only: a full scan
    sees it anyway).
    """
    rule, since = state.rule, state.trigger.since
    flt, step = document_filter(rule.match), state.positions[j].name
    full = DueQuery(
        rule.key, step, since, span[1], span[0], flt, snoozed_at=plan.now, documents=state.documents
    )
    if previous is None:
        return [full]
    parts = uncovered(span, previous.ranges[j])
    queries = [replace(full, before=high, not_before=low) for low, high in parts]
    queries.append(replace(full, changed_after=previous.document_seq))
    released = _released_documents(plan, rule.key)
    if released:
        queries.append(replace(full, document_ids=released))
    return queries


def _released_documents(plan: TickPlan, rule_key: str) -> frozenset[str]:
    return frozenset(s.document_id for s in plan.ended if s.applies_to(rule_key))


def _plan_chunk(plan: TickPlan, state: _Ladder, latest: int, chunk: list[DueCandidate]) -> None:
    rule, name = state.rule, state.positions[latest].name
    keep = [c for c in chunk if _passes_where(plan, rule, c, name)]
    # Only positions before the latest can be in the ledger already: the query
    # left out the documents for which the latest one is.
    recorded = (
        plan.store.recorded_steps(rule.key, [(c.document_id, c.episode) for c in keep])
        if latest
        else {}
    )
    for candidate in keep:
        done = recorded.get((candidate.document_id, candidate.episode), frozenset())
        since = candidate.since
        due = [
            i
            for i in range(latest + 1)
            if state.positions[i].name not in done and since < state.bounds[i]
        ]
        fire, skip = catch_up(due, rule.catch_up)
        if before_go_live(rule, since):
            fire, skip = [], due  # an episode that started before go-live is history
        try:
            firings = [
                (
                    _time_firing(plan, state, i, candidate, skipped=i in skip),
                    _actions_of(state, i, skip),
                )
                for i in sorted(fire + skip)
            ]
        except CalendarError as exc:
            # A moment the calendar cannot count (a document sent before its first
            # year, say) fails this document for this rule, never the whole tick;
            # before go-live it is history, recorded as skipped like any other.
            if not before_go_live(rule, since):
                plan.failures.append(_uncountable(rule.key, candidate.document_id, exc))
                continue
            # Due at ``since``: the calendar cannot count from it.
            firings = [
                (_time_firing(plan, state, i, candidate, skipped=True, due=candidate.since), ())
                for i in due
            ]
        _add(plan, rule, candidate, firings)


def _uncountable(rule_key: str, document_id: str, exc: CalendarError) -> DocumentFailure:
    """The calendar's refusal, with what the admin can do about such a document."""
    text = msg("engine_uncountable", error=unrendered(exc), document=document_id)
    return DocumentFailure(rule_key, document_id, text)


def _actions_of(state: _Ladder, index: int, skip: list[int]) -> tuple[ActionSpec, ...]:
    """A position's actions; a repeat whose step is skipped now creates that step's task.

    Catch-up may skip the step that creates the episode's task and fire a
    later repeat instead. The repeat's comment on the task would then find
    no task, so the repeat creates it — as the step's own action (same key),
    which keeps it one task per episode.
    """
    position = state.positions[index]
    actions = position.actions
    if not position.repeat_index:
        return actions
    step = next(i for i, p in enumerate(state.positions) if p.name == position.step.name)
    if step not in skip:
        return actions
    return tuple(
        replace(position.step.actions[a.refers[1]], same_as=a.refers)
        if a.name == "task_comment" and a.refers is not None
        else a
        for a in actions
    )


def _time_firing(
    plan: TickPlan,
    state: _Ladder,
    index: int,
    candidate: DueCandidate,
    *,
    skipped: bool,
    due: datetime | None = None,
) -> Firing:
    return Firing(
        rule_key=state.key,
        document_id=candidate.document_id,
        step=state.positions[index].name,
        episode=candidate.episode,
        due_at=_delivered(plan, state, index, candidate.since) if due is None else due,
        fired_at=plan.now,
        playbook_hash=state.playbook_hash,
        skipped=skipped,
    )


def _delivered(plan: TickPlan, state: _Ladder, index: int, since: datetime) -> datetime:
    """The delivery moment of a position; day-based ones depend only on the local date."""
    rule, trigger, cal = state.rule, state.trigger, plan.calendar
    position = state.positions[index]
    if position.step.after.unit not in ("working_days", "days"):
        raw = raw_due(since, position, trigger.repeat, rule.timezone, cal)
        return deliver(raw, rule.working_hours, rule.timezone, cal)
    key = (state.key, index, since.astimezone(rule.timezone).date())
    found = plan.due_by_day.get(key)
    if found is None:
        raw = raw_due(since, position, trigger.repeat, rule.timezone, cal)
        found = plan.due_by_day[key] = deliver(raw, rule.working_hours, rule.timezone, cal)
    return found


# -- event rules --------------------------------------------------------------------------


def plan_event_rule(plan: TickPlan, rule: Rule, trigger: StatusTrigger, playbook_hash: str) -> None:
    """Add the firings of an event rule: once per new, non-historical matching event.

    A rule seen for the first time only records its cursor (the newest event
    id): it reacts to events recorded after it was first evaluated, never to
    older ones. With a working-hours window, events wait (the cursor stays)
    until the window is open.
    """
    cursor = plan.cursors.get(rule.key)
    if cursor is None:
        plan.new_cursors[rule.key] = plan.max_event_id
        return
    tz, cal = rule.timezone, plan.calendar
    if cutoff(plan.now, rule.working_hours, tz, cal) != plan.now:
        # Ended snoozes wait too: their held-back events fire when the window opens.
        plan.held.update(s.id for s in plan.ended if s.applies_to(rule.key))
        return
    new = EventQuery(
        rule.key,
        cursor,
        plan.max_event_id,
        trigger.from_statuses,
        trigger.to_statuses,
        document_filter(rule.match),
        snoozed_at=plan.now,
    )
    for query in [*_held_back(plan, new), new]:
        for event, doc in plan.store.event_candidates(query):
            plan.names.clear()
            subject = _Decoded(doc)
            if _passes_where(plan, rule, subject, "event", event.at):
                firing = _event_firing(plan, rule, event, playbook_hash)
                if before_go_live(rule, event.at):
                    firing = replace(firing, skipped=True)
                _add(plan, rule, subject, [(firing, trigger.actions)])
                plan.flush()
    plan.new_cursors[rule.key] = plan.max_event_id


def _held_back(plan: TickPlan, new: EventQuery) -> list[EventQuery]:
    """Per document whose snooze ended: the events the rule passed over while it was active."""
    first: dict[str, int] = {}
    for snooze in plan.ended:
        if snooze.applies_to(new.rule_key):
            doc_id = snooze.document_id
            first[doc_id] = min(first.get(doc_id, snooze.after_event_id), snooze.after_event_id)
    return [
        replace(new, after_id=after, up_to_id=new.after_id, document_ids=frozenset({doc_id}))
        for doc_id, after in sorted(first.items())
        if after < new.after_id
    ]


def _event_firing(plan: TickPlan, rule: Rule, event: StatusEvent, playbook_hash: str) -> Firing:
    return Firing(
        rule_key=rule.key,
        document_id=event.document_id,
        step="event",
        episode=event_episode(event),
        due_at=event.at,
        fired_at=plan.now,
        playbook_hash=playbook_hash,
    )
