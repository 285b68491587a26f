"""Explain's check of a rule's templates: render each action of each step for one document.

A template that fails on a document (an error, or the evaluation budget
exceeded) drops the firing at the tick; explain shows the same failure, with
the template's file, line and the limit hit, without recording anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from edo_rules.engine._match import Check
from edo_rules.playbook.context import render_params
from edo_rules.playbook.rules import ActionSpec, Rule, TimeTrigger


def template_check(rule: Rule, names_for: Callable[[], Mapping[str, Any]]) -> Check | None:
    """A failed check for the first action whose templates fail; None when all render."""
    names: Mapping[str, Any] | None = None
    for step, spec in _actions(rule):
        if not spec.params:
            continue
        names = names if names is not None else names_for()
        try:
            render_params(spec.params, names)
        except Exception as exc:  # admin code: shown, never raised
            return Check("templates", False, f"{step} {spec.name}: template failed: {exc}")
    return None


def _actions(rule: Rule) -> Iterator[tuple[str, ActionSpec]]:
    trigger = rule.trigger
    if isinstance(trigger, TimeTrigger):
        for step in trigger.steps:
            for spec in step.actions:
                yield step.name, spec
    else:
        for spec in trigger.actions:
            yield "event", spec
