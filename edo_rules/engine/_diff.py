"""What a playbook edit changes over the current store: two simulations side by side.

Both versions are simulated over the same moments on their own scratch copies
of the store (the ledger as it is now), and the actions they would request are
matched by (rule, document, step, action): the ones only the new version sends
are *added*, only the old one *removed*, the same at another moment *moved*,
the same with other parameters *changed*. Rules are compared too: a new or
renamed rule id has no ledger, so documents already handled under the old id
are handled again (*replayed*); a changed ``since`` starts new episodes; a new
ladder step fires for documents already past it (by the catch-up policy).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, time, timedelta

from edo_rules._messages import Text, msg, t
from edo_rules.engine._due import WorkingCalendar
from edo_rules.engine._simulate import run_ticks
from edo_rules.errors import EdoRulesError
from edo_rules.model import Firing
from edo_rules.playbook.rules import Playbook, Rule, StatusTrigger, TimeTrigger
from edo_rules.store.base import Store

_RECIPIENT_PARAMS = ("to", "responsible")


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One action a version would request, at the tick it would be requested."""

    moment: datetime
    rule_key: str
    document_id: str
    step: str
    index: int  # position of the action within its firing
    action: str
    recipient: str
    params: str  # the parameters as canonical JSON

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.rule_key, self.document_id, self.step, self.index, self.action)

    def line(self) -> str:
        to = f" → {self.recipient}" if self.recipient else ""
        return (
            f"{self.moment:%Y-%m-%d %H:%M}  {self.rule_key} {self.step}"
            f"  {self.document_id}  {self.action}{to}"
        )


@dataclass(frozen=True, slots=True)
class SkippedStep:
    """A ladder step a version records as skipped (its catch-up policy), at the tick it would."""

    moment: datetime
    rule_key: str
    document_id: str
    step: str

    def line(self) -> str:
        return f"{self.moment:%Y-%m-%d %H:%M}  {self.rule_key} {self.step}  {self.document_id}"


@dataclass(frozen=True, slots=True)
class RuleChange:
    """How one rule differs between the versions."""

    rule_key: str
    change: str  # "added", "removed", "changed", "renamed"
    details: tuple[Text, ...] = ()
    previous: str = ""  # a renamed rule's old key

    def line(self) -> str:
        """The change in the language in force (the runner's log renders it in English)."""
        mark = {"added": "+", "removed": "-", "changed": "~", "renamed": ">"}[self.change]
        tail = f": {'; '.join(str(d) for d in self.details)}" if self.details else ""
        return f"{mark} {self.rule_key} ({t('diff_rule_' + self.change)}){tail}"


@dataclass(frozen=True, slots=True)
class PlaybookDiff:
    """The answer of :func:`diff_playbooks`; :meth:`render` gives the report."""

    moments: tuple[datetime, ...]
    rules: tuple[RuleChange, ...]
    added: tuple[PlannedAction, ...]
    removed: tuple[PlannedAction, ...]
    moved: tuple[tuple[PlannedAction, PlannedAction], ...]
    changed: tuple[tuple[PlannedAction, PlannedAction], ...]
    replayed: tuple[PlannedAction, ...]  # added actions for steps the old id already fired
    #: Steps only the new version records as skipped (catch-up): they will never be sent.
    skipped: tuple[SkippedStep, ...] = ()

    @property
    def unchanged(self) -> bool:
        return not (
            self.rules or self.added or self.removed or self.moved or self.changed or self.skipped
        )

    def summary(self) -> str:
        """One line, e.g. for the runner's log when it reloads the playbooks."""
        if self.unchanged:
            return t("diff_summary_none")
        return t(
            "diff_summary",
            rules=len(self.rules),
            added=len(self.added),
            removed=len(self.removed),
            moved=len(self.moved),
            changed=len(self.changed),
            replayed=len(self.replayed),
            skipped=len(self.skipped),
        )

    def render(self) -> str:
        """The report in the language in force (Russian unless ``--lang en``)."""
        first, last = self.moments[0], self.moments[-1]
        lines = [
            t(
                "diff_simulated",
                count=len(self.moments),
                first=f"{first:%Y-%m-%d %H:%M}",
                last=f"{last:%Y-%m-%d %H:%M}",
            )
        ]
        if self.unchanged:
            return "\n".join([*lines, t("diff_unchanged")])
        lines += _section("diff_rules", [change.line() for change in self.rules])
        lines += _section("diff_added", [a.line() for a in self.added])
        lines += _section("diff_removed", [a.line() for a in self.removed])
        lines += _section("diff_moved", [_moved(old, new) for old, new in self.moved])
        lines += _section("diff_other_params", [_changed(old, new) for old, new in self.changed])
        lines += _section("diff_replayed", [a.line() for a in self.replayed])
        lines += _section("diff_skipped", [step.line() for step in self.skipped])
        lines += _section("diff_per_rule", _counts(self, lambda a: a.rule_key))
        none = t("diff_no_recipient")
        lines += _section("diff_per_recipient", _counts(self, lambda a: a.recipient or none))
        lines.append(self.summary())
        return "\n".join(lines)


def horizon(
    now: datetime, calendar: WorkingCalendar, working_days: int, *, at: time = time(9)
) -> list[datetime]:
    """``now``, then every day at ``at`` (in ``now``'s zone) for the next ``working_days``."""
    if working_days < 1:
        raise EdoRulesError(f"the horizon must be at least 1 working day, got {working_days}")
    today = now.date()
    end = calendar.add_working_days(today, working_days)
    days = (today + timedelta(days=k) for k in range(1, (end - today).days + 1))
    return [now, *(datetime.combine(day, at, now.tzinfo) for day in days)]


def diff_playbooks(
    store: Store,
    old: Sequence[Playbook],
    new: Sequence[Playbook],
    calendar: WorkingCalendar,
    moments: Sequence[datetime],
    *,
    go_live: datetime | None = None,
) -> PlaybookDiff:
    """Compare what ``old`` and ``new`` would do at ``moments`` over ``store`` (never written).

    ``go_live`` is the config's go-live moment, applied to both versions alike.
    """
    before, skipped_before = _simulate(store, old, calendar, moments, go_live)
    after, skipped_after = _simulate(store, new, calendar, moments, go_live)
    rules = rule_changes(old, new)
    added, removed, moved, changed = _match(before, after)
    renamed = {c.rule_key for c in rules if c.change in ("renamed", "added")}
    replayed = _replayed(store, [a for a in added if a.rule_key in renamed], rules)
    known = {(s.rule_key, s.document_id, s.step) for s in skipped_before}
    skipped = [s for s in skipped_after if (s.rule_key, s.document_id, s.step) not in known]
    return PlaybookDiff(
        tuple(sorted(moments)),
        rules,
        added,
        removed,
        moved,
        changed,
        tuple(replayed),
        tuple(sorted(skipped, key=lambda s: (s.moment, s.rule_key, s.document_id, s.step))),
    )


def _simulate(
    store: Store,
    playbooks: Sequence[Playbook],
    calendar: WorkingCalendar,
    at: Sequence[datetime],
    go_live: datetime | None,
) -> tuple[list[PlannedAction], list[SkippedStep]]:
    from edo_rules.engine.engine import Engine  # the engine module imports this one

    with store.scratch_copy() as scratch:
        ticks = run_ticks(Engine(scratch, playbooks, calendar, go_live=go_live), at)
    actions = [
        _planned(tick.now, planned.firing, index, request.action, dict(request.params))
        for tick in ticks
        for planned in tick.fired
        for index, request in enumerate(planned.requests)
    ]
    skipped = [
        SkippedStep(tick.now, firing.rule_key, firing.document_id, firing.step)
        for tick in ticks
        for firing in tick.skipped
    ]
    return actions, skipped


def _planned(
    moment: datetime, firing: Firing, index: int, action: str, params: dict[str, object]
) -> PlannedAction:
    recipient = next((str(params[k]) for k in _RECIPIENT_PARAMS if k in params), "")
    return PlannedAction(
        moment=moment,
        rule_key=firing.rule_key,
        document_id=firing.document_id,
        step=firing.step,
        index=index,
        action=action,
        recipient=recipient,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True, default=str),
    )


def _match(
    before: list[PlannedAction], after: list[PlannedAction]
) -> tuple[
    tuple[PlannedAction, ...],
    tuple[PlannedAction, ...],
    tuple[tuple[PlannedAction, PlannedAction], ...],
    tuple[tuple[PlannedAction, PlannedAction], ...],
]:
    olds: dict[tuple[str, str, str, int, str], list[PlannedAction]] = defaultdict(list)
    for action in before:
        olds[action.key].append(action)
    added: list[PlannedAction] = []
    moved: list[tuple[PlannedAction, PlannedAction]] = []
    changed: list[tuple[PlannedAction, PlannedAction]] = []
    for action in after:
        twins = olds.get(action.key)
        if not twins:
            added.append(action)
            continue
        twin = twins.pop(0)
        if twin.moment != action.moment:
            moved.append((twin, action))
        elif twin.params != action.params:
            changed.append((twin, action))
    removed = [a for twins in olds.values() for a in twins]
    return tuple(added), tuple(sorted(removed, key=_order)), tuple(moved), tuple(changed)


def _order(action: PlannedAction) -> tuple[datetime, str, str, str]:
    return (action.moment, action.rule_key, action.document_id, action.step)


def _replayed(
    store: Store, added: list[PlannedAction], rules: Sequence[RuleChange]
) -> list[PlannedAction]:
    """Added actions whose step the rule's previous id already fired for that document."""
    previous = {c.rule_key: c.previous for c in rules if c.change == "renamed"}
    replayed: list[PlannedAction] = []
    for action in added:
        old_key = previous.get(action.rule_key)
        if old_key is None:
            continue
        done = {f.step for f in store.firings_for(action.document_id) if f.rule_key == old_key}
        if action.step in done:
            replayed.append(action)
    return replayed


# -- rules -----------------------------------------------------------------------------------


def rule_changes(old: Sequence[Playbook], new: Sequence[Playbook]) -> tuple[RuleChange, ...]:
    """Rules added, removed, renamed (same content, other id) or changed, by rule key."""
    before = {rule.key: rule for rule in _rules(old)}
    after = {rule.key: rule for rule in _rules(new)}
    changes: list[RuleChange] = []
    gone = {key: before[key] for key in before.keys() - after.keys()}
    for key in sorted(after.keys() - before.keys()):
        twin = next((k for k, r in gone.items() if _same_content(r, after[key])), None)
        if twin is not None:
            del gone[twin]
            said = (msg("diff_renamed_from", rule=twin), msg("diff_replay_note"))
            changes.append(RuleChange(key, "renamed", said, previous=twin))
        else:
            changes.append(RuleChange(key, "added", _added_note(after[key])))
    changes += [RuleChange(key, "removed") for key in sorted(gone)]
    for key in sorted(before.keys() & after.keys()):
        details = _trigger_changes(before[key], after[key]) + _setting_changes(
            before[key], after[key]
        )
        if details:
            changes.append(RuleChange(key, "changed", details))
    return tuple(changes)


def _added_note(rule: Rule) -> tuple[Text, ...]:
    if isinstance(rule.trigger, TimeTrigger):
        return (msg("diff_new_ladder", policy=rule.catch_up.value),)
    return (msg("diff_new_status_rule"),)


def _rules(playbooks: Iterable[Playbook]) -> list[Rule]:
    return [rule for playbook in playbooks for rule in playbook.rules]


def _same_content(a: Rule, b: Rule) -> bool:
    return a.playbook == b.playbook and content(a.match, a.trigger) == content(b.match, b.trigger)


def content(*values: object) -> str:
    """What a rule part says, as canonical text: compiled expressions and templates by
    their source, positions in the file left out (moving a rule is no change)."""
    return json.dumps([_plain(value) for value in values], ensure_ascii=False, sort_keys=True)


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name != "location"
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(str(_plain(v)) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    source = getattr(value, "source", None)
    if isinstance(source, str):  # a compiled expression or template
        return source
    scalar = value is None or isinstance(value, bool | int | float | str)
    return value if scalar else str(value)  # enums, zones, decimals as text


def _trigger_changes(old: Rule, new: Rule) -> tuple[Text, ...]:
    a, b = old.trigger, new.trigger
    if isinstance(a, StatusTrigger) or isinstance(b, StatusTrigger):
        if type(a) is not type(b):
            return (msg("diff_trigger_kind"),)
        same = content(old.match, a) == content(new.match, b)
        return () if same else (msg("diff_actions_or_match"),)
    details: list[Text] = []
    if a.since != b.since:
        details.append(msg("diff_since", old=a.since, new=b.since))
    old_steps = {s.name: s.after.text for s in a.steps}
    new_steps = {s.name: s.after.text for s in b.steps}
    for name in sorted(new_steps.keys() - old_steps.keys()):
        details.append(msg("diff_new_step", step=name, after=new_steps[name]))
    for name in sorted(old_steps.keys() - new_steps.keys()):
        details.append(msg("diff_step_removed", step=name))
    for name in sorted(old_steps.keys() & new_steps.keys()):
        if old_steps[name] != new_steps[name]:
            details.append(
                msg("diff_step_after", step=name, old=old_steps[name], new=new_steps[name])
            )
    if not details and content(old.match, a) != content(new.match, b):
        details.append(msg("diff_actions_match_repeat"))
    return tuple(details)


def _setting_changes(old: Rule, new: Rule) -> tuple[Text, ...]:
    names = ("catch_up", "timezone", "working_hours")
    return tuple(
        msg(
            "diff_setting",
            name=name,
            old=_setting(getattr(old, name)),
            new=_setting(getattr(new, name)),
        )
        for name in names
        if content(getattr(old, name)) != content(getattr(new, name))
    )


def _setting(value: object) -> str:
    """A setting as the admin wrote it: ``latest``, not the canonical ``["latest"]``."""
    text = content(value)[1:-1]
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


# -- rendering -------------------------------------------------------------------------------


def _section(title: str, rows: list[str]) -> list[str]:
    """``title`` is a catalogue key; an empty section is left out."""
    if not rows:
        return []
    return [t("diff_section", title=t(title), count=len(rows)), *(f"  {row}" for row in rows)]


def _moved(old: PlannedAction, new: PlannedAction) -> str:
    return (
        f"{old.rule_key} {old.step}  {old.document_id}  {old.action}:"
        f" {old.moment:%Y-%m-%d %H:%M} → {new.moment:%Y-%m-%d %H:%M}"
    )


def _changed(old: PlannedAction, new: PlannedAction) -> str:
    was, now = t("diff_was", params=old.params), t("diff_now", params=new.params)
    return f"{new.line()}\n      {was}\n      {now}"


def _counts(diff: PlaybookDiff, key: Callable[[PlannedAction], str]) -> list[str]:
    plus = Counter(key(a) for a in diff.added)
    minus = Counter(key(a) for a in diff.removed)
    return [f"{name}: +{plus[name]} -{minus[name]}" for name in sorted(plus.keys() | minus.keys())]
