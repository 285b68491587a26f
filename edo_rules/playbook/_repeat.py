"""Compiling ``repeat``: when a step repeats, and what a repeat does.

A repeat is a reminder, not the step again. Unless the playbook gives the
repeat its own ``do``, each repeat of a step does the step's actions except
those that would pile up or re-escalate:

* ``task`` — a comment on the task the step created in this episode
  (``task_comment``), never a second task (``task: new`` or ``task: skip``
  choose otherwise);
* ``notify`` to ``head_of_responsible`` — not again (``notify_head: true``
  sends those too);
* ``todo`` and ``workflow`` — not again (a new to-do or business process
  each time is what a repeat must not do);
* everything else (``notify`` to others, ``log``, ``comment``, ``timeline``,
  ``remind_counterparty``, ``card_status``, ``mirror`` …) — again.

The repeats of an earlier step must all come before the next step (same unit,
``after + times × every`` below the next ``after``), so the ladder's order is
the same for every document.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from edo_rules._messages import msg
from edo_rules.playbook._yaml import NodePath
from edo_rules.playbook.rules import ActionSpec, Duration, Location, Repeat, Step, TaskOnRepeat
from edo_rules.playbook.templates import compile_template

if TYPE_CHECKING:
    from edo_rules.playbook.compile import PlaybookCompiler

#: Actions a repeat does not do again by default: each would add one more object.
NOT_REPEATED: Final = frozenset({"todo", "workflow"})
HEAD: Final = "head_of_responsible"
PING_TEXT: Final = (
    "Напоминание: {{ doc.title }}, {{ doc.counterparty.name }} —"
    " прошло {{ elapsed.working_days }} раб. дн., задача ещё открыта."
)
_FAMILY = {"working_days": "working_days", "days": "days", "hours": "minutes", "minutes": "minutes"}


def compile_repeat(
    compiler: PlaybookCompiler, path: NodePath, step: Step, rule_key: str
) -> Repeat | None:
    """The repeat at ``path`` of ``step`` (None when absent or already reported)."""
    data = compiler.get(path)
    if not isinstance(data, dict):
        return None
    every = compiler.duration((*path, "every"))
    times = data.get("times")
    if every is not None and every.amount == 0:
        compiler.report((*path, "every"), msg("pb_repeat_every_zero"))
        return None
    if every is None or not isinstance(times, int) or isinstance(times, bool):
        return None
    task = _task_choice(data.get("task"))
    notify_head = data.get("notify_head") is True
    repeat = Repeat(every=every, times=times, notify_head=notify_head, task=task)
    if "do" in data:
        actions = compiler.actions.action_list((*path, "do"), rule_key)
        if actions is None:
            return None
        return replace(repeat, actions=_linked(compiler, path, step, actions))
    location = _location(compiler, path)
    return replace(repeat, actions=derived(step, repeat, location, rule_key))


def _task_choice(value: Any) -> TaskOnRepeat:
    try:
        return TaskOnRepeat(value) if isinstance(value, str) else TaskOnRepeat.COMMENT
    except ValueError:
        return TaskOnRepeat.COMMENT  # the schema reports the value


def _location(compiler: PlaybookCompiler, path: NodePath) -> Location:
    mark = compiler.located.mark(path, key=True)
    return Location(compiler.located.file, mark.line, mark.column)


def derived(
    step: Step, repeat: Repeat, location: Location, rule_key: str
) -> tuple[ActionSpec, ...]:
    """What a repeat of ``step`` does when the playbook does not say (see the module doc)."""
    result: list[ActionSpec] = []
    for index, spec in enumerate(step.actions):
        if spec.name == "task":
            result += _task_on_repeat(spec, (step.name, index), repeat, location, rule_key)
        elif spec.name == "notify" and _recipient(spec) == HEAD and not repeat.notify_head:
            continue
        elif spec.name not in NOT_REPEATED:
            result.append(spec)
    return tuple(result)


def _task_on_repeat(
    spec: ActionSpec, task: tuple[str, int], repeat: Repeat, location: Location, rule_key: str
) -> list[ActionSpec]:
    if repeat.task is TaskOnRepeat.NEW:
        return [spec]
    if repeat.task is TaskOnRepeat.SKIP:
        return []
    text = compile_template(PING_TEXT, location=location, path="repeat", rule_key=rule_key)
    return [ActionSpec("task_comment", {"text": text}, location, refers=task)]


def _recipient(spec: ActionSpec) -> Any:
    to = spec.params.get("to")
    return getattr(to, "source", to)


def _linked(
    compiler: PlaybookCompiler, path: NodePath, step: Step, actions: tuple[ActionSpec, ...]
) -> tuple[ActionSpec, ...]:
    """An explicit ``task_comment`` in a repeat's ``do`` comments on the step's task."""
    task = next((i for i, a in enumerate(step.actions) if a.name == "task"), None)
    linked = []
    for index, spec in enumerate(actions):
        if spec.name != "task_comment":
            linked.append(spec)
        elif task is None:
            compiler.report((*path, "do", index), msg("pb_task_comment_no_task", step=step.name))
        else:
            linked.append(replace(spec, refers=(step.name, task)))
    return tuple(linked)


def check_before_next(
    compiler: PlaybookCompiler, path: NodePath, step: Step, following: Step
) -> None:
    """An earlier step's repeats must all be due before the next step (for every document)."""
    repeat = step.repeat
    if repeat is None:
        return
    units = {_FAMILY[d.unit] for d in (step.after, repeat.every, following.after)}
    last = _minutes_or_amount(step.after) + repeat.times * _minutes_or_amount(repeat.every)
    if len(units) == 1 and last < _minutes_or_amount(following.after):
        return
    order = msg(
        "pb_repeats_before_next",
        step=step.name,
        following=following.name,
        after=str(step.after),
        times=repeat.times,
        every=str(repeat.every),
        next_after=str(following.after),
    )
    compiler.report(path, order)


def _minutes_or_amount(duration: Duration) -> int:
    return duration.amount * 60 if duration.unit == "hours" else duration.amount
