"""``explain`` as the admin reads it: the engine's :class:`Explanation` in the CLI's language.

Moments are shown in the configured zone, one way (``edo_rules._display``);
the engine's arithmetic and condition details go through
:func:`edo_rules._messages.engine_text`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from edo_rules import _display as show
from edo_rules._messages import engine_text, t
from edo_rules._untrusted import printable
from edo_rules.engine import EventExplanation, Explanation, RuleExplanation, StepExplanation
from edo_rules.model import CounterpartyStats, Firing

_EVENT_STATES = {
    "historical": "event_historical",
    "before the rule": "event_before",
    "pending": "event_pending",
    "does not match": "event_no_match",
}


def render(explanation: Explanation, zone: ZoneInfo) -> str:
    doc = explanation.document
    lines = [
        t("explain_head", title=printable(doc.title), id=printable(doc.id),
          status=show.status(doc.status), counterparty=printable(doc.counterparty.name),
          at=show.moment(explanation.now, zone))
    ]  # fmt: skip
    stats = getattr(explanation, "counterparty", None)
    if stats is not None:
        lines.append(_stats(stats))
    for rule in explanation.rules:
        lines.append("")
        lines.extend(_rule(rule, zone))
    return "\n".join(lines)


def _stats(stats: CounterpartyStats) -> str:
    if stats.median_working_days is None:
        signed = t("explain_stats_none")
    else:
        signed = t("explain_stats_signed", signed=stats.signed,
                   median=stats.median_working_days, p90=stats.p90_working_days)  # fmt: skip
    return t("explain_stats", inn=stats.inn or "—", signed=signed, rejections=stats.rejections)


def _rule(rule: RuleExplanation, zone: ZoneInfo) -> list[str]:
    lines = [show.rule(rule.rule_key, rule.description)]
    lines.append(t("explain_match", verdict=t("yes" if rule.matches else "no")))
    lines += [f"    {'✓' if c.passed else '✗'} {engine_text(c.detail)}" for c in rule.checks]
    if rule.snooze:
        reason = f": {rule.snooze.reason}" if rule.snooze.reason else ""
        until = show.moment(rule.snooze.until, zone)
        lines.append("  " + t("explain_snoozed", until=until, id=rule.snooze.id, reason=reason))
    if rule.note:
        lines.append(f"  {engine_text(rule.note)}")
    for step in rule.steps:
        lines.append(f"  {show.step(step.name)}: {engine_text(step.arithmetic)}")
        lines.append(f"    {_step_state(step, rule, zone)}")
    lines += [_event(item, rule, zone) for item in rule.events]
    if rule.fired:
        lines.append(t("explain_ledger"))
        lines += [_ledger(f, zone) for f in rule.fired]
    return lines


def _step_state(step: StepExplanation, rule: RuleExplanation, zone: ZoneInfo) -> str:
    if step.firing is not None:
        key = "explain_skipped" if step.firing.skipped else "explain_fired"
        return t(key, at=show.moment(step.firing.fired_at, zone))
    if not rule.matches and step.state != "not yet due":
        return t("explain_no_match")
    if step.state == "due":
        return t("explain_held") if rule.snooze else t("explain_due")
    if step.state == "due, to be skipped":
        return t("explain_due_skip")
    if step.state == "not yet due":
        return t("explain_not_yet")
    return engine_text(step.state)  # a state this renderer does not know yet: as the engine says


def _event(item: EventExplanation, rule: RuleExplanation, zone: ZoneInfo) -> str:
    event = item.event
    change = f"{show.status(event.from_status) if event.from_status else '—'} → " + show.status(
        event.to_status
    )
    if item.firing is not None:
        state = t("explain_fired", at=show.moment(item.firing.fired_at, zone))
    elif item.state == "pending" and rule.snooze:
        state = t("explain_held")
    else:
        key = _EVENT_STATES.get(item.state)
        state = t(key) if key else item.state
    return t("explain_event", id=event.id, at=show.moment(event.at, zone), change=change,
             state=state)  # fmt: skip


def _ledger(firing: Firing, zone: ZoneInfo) -> str:
    return t(
        "explain_ledger_line",
        step=show.step(firing.step),
        episode=firing.episode,
        verb=t("skipped" if firing.skipped else "fired"),
        at=show.moment(firing.fired_at, zone),
        due=show.moment(firing.due_at, zone),
        hash=firing.playbook_hash[:12],
    )
