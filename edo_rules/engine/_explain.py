"""``explain``: for one document, why each rule fires or not, with the arithmetic shown."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from edo_rules._messages import msg
from edo_rules.engine._due import LadderStep, WorkingCalendar, deliver, ladder, raw_due
from edo_rules.engine._match import Check, static_checks, where_check
from edo_rules.engine._plan import before_go_live, catch_up
from edo_rules.engine._render_check import template_check
from edo_rules.engine._stats import StatsReader, uses_stats
from edo_rules.errors import CalendarError, StoreError
from edo_rules.model import CounterpartyStats, Document, Firing, StatusEvent
from edo_rules.playbook.context import make_names
from edo_rules.playbook.rules import Rule, StatusTrigger, TimeTrigger
from edo_rules.store.base import Snooze, episode_of, event_episode

if TYPE_CHECKING:
    from edo_rules.engine.engine import Engine

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKEND_NAMES = {5: "Saturday", 6: "Sunday"}
_SINCE_LABELS = {
    "status_changed_at": "status changed",
    "sent_at": "sent",
    "our_signed_at": "signed by us",
    "counterparty_signed_at": "signed by the counterparty",
    "rejected_at": "rejected",
    "revoked_at": "revoked",
    "synced_at": "synced",
}
_MAX_LISTED_DAYS = 10
_ZONE = ZoneInfo("Europe/Moscow")  # snoozes are shown in the playbooks' default zone


@dataclass(frozen=True, slots=True)
class StepExplanation:
    """One ladder position: when it is due, how that was computed, and its state."""

    name: str
    due_at: datetime
    arithmetic: str  # "sent Fri 26.04.2024; 3 working days: … → due Mon 06.05 00:00"
    state: str  # "fired", "skipped", "due", "due, to be skipped", "not yet due"
    firing: Firing | None = None


@dataclass(frozen=True, slots=True)
class EventExplanation:
    event: StatusEvent
    state: str  # "fired", "historical", "before the rule", "pending", "does not match"
    firing: Firing | None = None


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    rule_key: str
    description: str | None
    matches: bool
    checks: tuple[Check, ...]
    note: str | None = None  # e.g. "sent_at is not set: the ladder has not started"
    steps: tuple[StepExplanation, ...] = ()
    events: tuple[EventExplanation, ...] = ()
    fired: tuple[Firing, ...] = ()  # every firing of this rule for the document
    snooze: Snooze | None = None  # the active snooze that holds the rule back, if any


@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer of ``Engine.explain``; :meth:`render` gives the readable text."""

    document: Document
    now: datetime
    rules: tuple[RuleExplanation, ...]
    #: The counterparty's signing statistics, when a rule reads them.
    counterparty: CounterpartyStats | None = None

    def render(self) -> str:
        doc = self.document
        lines = [
            f"{doc.title} (id {doc.id}), status {doc.status.value},"
            f" counterparty {doc.counterparty.name}; at {self.now.isoformat()}"
        ]
        if self.counterparty is not None:
            lines.append(_stats_text(self.counterparty))
        for rule in self.rules:
            lines.append("")
            lines.extend(_render_rule(rule))
        return "\n".join(lines)


# -- building ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Subject:
    """The document being explained, with what the store knows about it."""

    cal: WorkingCalendar
    doc: Document
    now: datetime
    firings: list[Firing]
    cursors: dict[str, int]
    history: list[StatusEvent]
    snoozes: list[Snooze]


def explain_document(engine: Engine, document_id: str, now: datetime) -> Explanation:
    doc = engine.store.get_document(document_id)
    if doc is None:
        raise StoreError(msg("store_no_document", id=document_id))
    subject = _Subject(
        engine.calendar,
        doc,
        now,
        engine.store.firings_for(document_id),
        engine.store.event_cursors(),
        engine.store.history(document_id),
        engine.store.snoozes(active_at=now, document_id=document_id),
    )
    rules = tuple(_explain_rule(subject, rule) for rule in engine.rules)
    stats = (
        StatsReader(engine.store, now).get(doc.counterparty) if uses_stats(engine.rules) else None
    )
    return Explanation(doc, now, rules, stats)


def _stats_text(stats: CounterpartyStats) -> str:
    if stats.median_working_days is None:
        signed = "no signature in 12 months"
    else:
        signed = (
            f"signed {stats.signed} in 12 months, median {stats.median_working_days:g}"
            f" working days, 90% within {stats.p90_working_days}"
        )
    return f"counterparty.stats (ИНН {stats.inn or '—'}): {signed}, rejections {stats.rejections}"


def _explain_rule(subject: _Subject, rule: Rule) -> RuleExplanation:
    trigger, doc = rule.trigger, subject.doc
    since = getattr(doc, trigger.since) if isinstance(trigger, TimeTrigger) else None
    checks = static_checks(doc, rule.match)
    where = where_check(
        rule.match,
        lambda: make_names(
            doc, now=subject.now, calendar=subject.cal, since=since, step="explain", rule=rule
        ),
    )
    checks += [where] if where is not None else []
    if where is None or where.passed:
        rendered = template_check(rule, lambda: _names_for_explain(subject, rule, since))
        checks += [rendered] if rendered is not None else []
    matches = all(check.passed for check in checks)
    mine = tuple(f for f in subject.firings if f.rule_key == rule.key)
    snoozes = [s for s in subject.snoozes if s.applies_to(rule.key)]
    snooze = max(snoozes, key=lambda s: s.until, default=None)
    base = RuleExplanation(
        rule.key, rule.description, matches, tuple(checks), fired=mine, snooze=snooze
    )
    if isinstance(trigger, TimeTrigger):
        return _explain_time(subject, rule, trigger, base)
    cursor = subject.cursors.get(rule.key)
    return replace(base, events=_explain_events(subject, rule, trigger, base, cursor))


def _names_for_explain(subject: _Subject, rule: Rule, since: datetime | None) -> dict[str, Any]:
    doc = subject.doc
    return make_names(
        doc, now=subject.now, calendar=subject.cal, since=since, step="explain", rule=rule
    )


def _explain_time(
    subject: _Subject, rule: Rule, trigger: TimeTrigger, base: RuleExplanation
) -> RuleExplanation:
    since = getattr(subject.doc, trigger.since)
    if since is None:
        return replace(base, note=f"{trigger.since} is not set: the ladder has not started")
    episode = episode_of(since)
    recorded = {f.step: f for f in base.fired if f.episode == episode}
    steps = []
    try:
        for position in ladder(trigger.steps, trigger.repeat):
            raw = raw_due(since, position, trigger.repeat, rule.timezone, subject.cal)
            due = deliver(raw, rule.working_hours, rule.timezone, subject.cal)
            text = _arithmetic(subject.cal, rule, position, since, (raw, due))
            firing = recorded.get(position.name)
            state = _state(firing, due, subject.now)
            steps.append(StepExplanation(position.name, due, text, state, firing))
    except CalendarError as exc:  # as the tick reports it: this document, this rule
        return replace(base, note=f"the due moments cannot be counted: {exc}")
    if before_go_live(rule, since):
        return replace(base, steps=_gated(steps), note=_go_live_note(rule, trigger.since, since))
    return replace(base, steps=_apply_catch_up(steps, rule))


def _go_live_note(rule: Rule, field: str, since: datetime) -> str:
    assert rule.go_live is not None
    zone = rule.timezone
    return (
        f"{field} {since.astimezone(zone):%d.%m.%Y %H:%M} is before go-live"
        f" {rule.go_live.astimezone(zone):%d.%m.%Y %H:%M}: this episode is history,"
        " its steps are recorded as skipped and nothing is sent"
    )


def _gated(steps: list[StepExplanation]) -> tuple[StepExplanation, ...]:
    """Every step of an episode that started before go-live is (or will be) skipped."""
    labels = {"skipped": "skipped (before go-live)", "due": "due, to be skipped (before go-live)"}
    return tuple(replace(step, state=labels.get(step.state, step.state)) for step in steps)


def _apply_catch_up(steps: list[StepExplanation], rule: Rule) -> tuple[StepExplanation, ...]:
    """Mark the due, unrecorded steps the catch-up policy would record as skipped."""
    due = [i for i, step in enumerate(steps) if step.state == "due"]
    _, skip = catch_up(due, rule.catch_up)
    return tuple(
        replace(step, state="due, to be skipped") if i in skip else step
        for i, step in enumerate(steps)
    )


def _state(firing: Firing | None, due: datetime, now: datetime) -> str:
    if firing is not None:
        return "skipped" if firing.skipped else "fired"
    return "due" if due <= now else "not yet due"


def _explain_events(
    subject: _Subject,
    rule: Rule,
    trigger: StatusTrigger,
    base: RuleExplanation,
    cursor: int | None,
) -> tuple[EventExplanation, ...]:
    by_episode = {f.episode: f for f in base.fired if f.step == "event"}
    result = []
    for event in subject.history:
        if not _event_matches(trigger, event):
            continue
        firing = by_episode.get(event_episode(event))
        state = _event_state(event, firing, cursor, base.matches)
        if before_go_live(rule, event.at) and state in ("fired", "pending"):
            state = "before go-live (recorded as skipped)" if firing else "before go-live"
        result.append(EventExplanation(event, state, firing))
    return tuple(result)


def _event_matches(trigger: StatusTrigger, event: StatusEvent) -> bool:
    to_ok = trigger.to_statuses is None or event.to_status in trigger.to_statuses
    from_ok = trigger.from_statuses is None or event.from_status in trigger.from_statuses
    return to_ok and from_ok


def _event_state(
    event: StatusEvent, firing: Firing | None, cursor: int | None, matches: bool
) -> str:
    if firing is not None:
        return "fired"
    if event.historical:
        return "historical"
    if cursor is None or (event.id is not None and event.id <= cursor):
        return "before the rule"
    return "pending" if matches else "does not match"


# -- arithmetic text ---------------------------------------------------------------------


def _day(day: date, cal: WorkingCalendar, *, year: bool = False) -> str:
    text = f"{_WEEKDAYS[day.weekday()]} {day:%d.%m}" + (f".{day:%Y}" if year else "")
    if day.weekday() in _WEEKEND_NAMES and cal.is_working_day(day):
        text += f" (working {_WEEKEND_NAMES[day.weekday()]})"
    return text


def _moment(moment: datetime, rule: Rule) -> str:
    local = moment.astimezone(rule.timezone)
    return f"{_WEEKDAYS[local.weekday()]} {local:%d.%m %H:%M}"


def _listed(days: list[str]) -> str:
    if len(days) > _MAX_LISTED_DAYS:
        days = [*days[:3], "…", *days[-2:]]
    return ", ".join(days)


def _counted_days(cal: WorkingCalendar, start: date, amount: int, working: bool) -> list[str]:
    if working:
        return [_day(cal.add_working_days(start, k), cal) for k in range(1, amount + 1)]
    return [_day(date.fromordinal(start.toordinal() + k), cal) for k in range(1, amount + 1)]


def _arithmetic(
    cal: WorkingCalendar,
    rule: Rule,
    position: LadderStep,
    since: datetime,
    moments: tuple[datetime, datetime],
) -> str:
    """The due moment with its arithmetic, e.g.

    "sent Fri 26.04.2024; 3 working days: Sat 27.04 (working Saturday), Thu 02.05,
    Fri 03.05 → due Mon 06.05 00:00".
    """
    assert isinstance(rule.trigger, TimeTrigger)
    trigger, (raw, due) = rule.trigger, moments
    label = _SINCE_LABELS.get(trigger.since, trigger.since)
    local = since.astimezone(rule.timezone)
    after = position.step.after
    text = f"{label} {_day(local.date(), cal, year=True)}"
    if after.unit in ("working_days", "days"):
        days = _counted_days(cal, local.date(), after.amount, after.unit == "working_days")
        text += f"; {after.text}: {_listed(days)}"
    else:
        text += f" {local:%H:%M}; {after.text}"
    repeat = position.repeat or trigger.repeat
    if position.repeat_index and repeat is not None:
        plain = LadderStep(position.step.name, position.step)
        step_due = raw_due(since, plain, None, rule.timezone, cal)
        text += (
            f" → {position.step.name} due {_moment(step_due, rule)};"
            f" repeat {position.repeat_index} × {repeat.every.text}"
        )
    text += f" → due {_moment(raw, rule)}"
    if due != raw:
        text += f"; outside working hours → delivered {_moment(due, rule)}"
    return text


# -- rendering --------------------------------------------------------------------------


def _render_rule(rule: RuleExplanation) -> list[str]:
    title = rule.rule_key + (f" — {rule.description}" if rule.description else "")
    lines = [title, f"  match: {'yes' if rule.matches else 'no'}"]
    lines += [f"    {'✓' if c.passed else '✗'} {c.detail}" for c in rule.checks]
    if rule.snooze:
        lines.append(f"  {_snooze_text(rule.snooze)}")
    if rule.note:
        lines.append(f"  {rule.note}")
    for step in rule.steps:
        lines.append(f"  {step.name}: {step.arithmetic}")
        lines.append(f"    {_held(_step_state(step, rule.matches), rule.snooze)}")
    for item in rule.events:
        event, state = item.event, _held(_event_text(item), rule.snooze)
        lines.append(
            f"  event #{event.id} {event.at.isoformat()}:"
            f" {event.from_status or '—'} → {event.to_status}: {state}"
        )
    if rule.fired:
        lines.append("  ledger:")
        lines += [f"    {_firing_text(f)}" for f in rule.fired]
    return lines


def _snooze_text(snooze: Snooze) -> str:
    until = snooze.until.astimezone(_ZONE)
    reason = f": {snooze.reason}" if snooze.reason else ""
    return (
        f"snoozed until {_WEEKDAYS[until.weekday()]} {until:%d.%m.%Y %H:%M %z}"
        f" (snooze #{snooze.id}{reason}): fires nothing until then; what becomes due"
        " meanwhile fires when the snooze ends (per catch_up)"
    )


def _held(text: str, snooze: Snooze | None) -> str:
    """A state that would fire at the next tick is held back by an active snooze."""
    if snooze is None or not text.endswith("fires at the next tick"):
        return text
    return text.replace("fires at the next tick", "held by the snooze, fires when it ends")


def _step_state(step: StepExplanation, matches: bool) -> str:
    if step.firing is not None:
        why = "before go-live" if step.state.endswith("(before go-live)") else "catch-up"
        verb = f"skipped ({why})" if step.firing.skipped else "fired"
        return f"{verb} at {step.firing.fired_at.isoformat()}"
    if not matches and step.state != "not yet due":
        return "due, but the document does not match"
    if step.state == "due":
        return "due: fires at the next tick"
    if step.state == "due, to be skipped":
        return "due, but a later step is due too: recorded as skipped (catch-up)"
    if step.state == "due, to be skipped (before go-live)":
        return "due, but the episode started before go-live: recorded as skipped"
    return "not yet due"


def _event_text(item: EventExplanation) -> str:
    texts = {
        "historical": "history from the first sync: never fires",
        "before the rule": "recorded before the rule was first evaluated: never fires",
        "pending": "fires at the next tick",
        "does not match": "the document does not match",
    }
    if item.state == "before go-live":
        return "happened before go-live: never fires"
    if item.firing is not None:
        verb = "skipped (before go-live)" if item.firing.skipped else "fired"
        return f"{verb} at {item.firing.fired_at.isoformat()}"
    return texts[item.state]


def _firing_text(firing: Firing) -> str:
    verb = "skipped" if firing.skipped else "fired"
    return (
        f"{firing.step} episode {firing.episode}: {verb} at {firing.fired_at.isoformat()}"
        f" (due {firing.due_at.isoformat()}, playbook {firing.playbook_hash[:12]})"
    )
