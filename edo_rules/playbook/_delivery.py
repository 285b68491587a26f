"""``delivery: digest`` on a playbook: every ``notify`` of its rules goes into the daily digest.

An action's own ``delivery`` wins; the playbook's value fills in the rest.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from edo_rules.playbook.rules import ActionSpec, Repeat, Rule, StatusTrigger, Step, TimeTrigger


def with_delivery(rule: Rule, delivery: str | None) -> Rule:
    """``rule`` with ``delivery`` set on every ``notify`` that does not say otherwise."""
    if delivery is None:
        return rule
    trigger = rule.trigger
    if isinstance(trigger, StatusTrigger):
        return replace(rule, trigger=replace(trigger, actions=_actions(trigger.actions, delivery)))
    steps = tuple(_step(step, delivery) for step in trigger.steps)
    timed: TimeTrigger = replace(trigger, steps=steps, repeat=steps[-1].repeat)
    return replace(rule, trigger=timed)


def _step(step: Step, delivery: str) -> Step:
    repeat = step.repeat
    if repeat is not None and repeat.actions is not None:
        repeat = _repeat(repeat, delivery)
    return replace(step, actions=_actions(step.actions, delivery), repeat=repeat)


def _repeat(repeat: Repeat, delivery: str) -> Repeat:
    assert repeat.actions is not None
    return replace(repeat, actions=_actions(repeat.actions, delivery))


def _actions(actions: tuple[ActionSpec, ...], delivery: str) -> tuple[ActionSpec, ...]:
    return tuple(
        replace(a, params=MappingProxyType({**a.params, "delivery": delivery}))
        if a.name == "notify" and "delivery" not in a.params
        else a
        for a in actions
    )
