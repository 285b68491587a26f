"""Located, schema-checked data → frozen :class:`~edo_rules.playbook.rules.Playbook`.

The compiler runs even when the schema found problems, so that one pass
reports everything: it skips nodes of the wrong type (the schema has already
said so) and checks what the schema cannot: durations, expressions,
templates, action names and parameters, the shape of ``when``, duplicate ids,
time zones and step order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from edo_rules._messages import Text, msg, reason
from edo_rules.errors import Problem
from edo_rules.model import Direction, Kind, Status
from edo_rules.playbook._actions import ActionChecker
from edo_rules.playbook._delivery import with_delivery
from edo_rules.playbook._repeat import check_before_next, compile_repeat
from edo_rules.playbook._text import did_you_mean
from edo_rules.playbook._yaml import LocatedData, NodePath, format_path
from edo_rules.playbook.durations import DurationSyntaxError, parse_duration
from edo_rules.playbook.expressions import (
    CompiledExpression,
    ExpressionCheckError,
    compile_expression,
)
from edo_rules.playbook.golive import GoLiveError, parse_go_live
from edo_rules.playbook.rules import (
    ActionSpec,
    CatchUp,
    Duration,
    Location,
    Match,
    Playbook,
    Rule,
    StatusTrigger,
    Step,
    TimeTrigger,
    WorkingHours,
)

DEFAULT_TIMEZONE: Final = "Europe/Moscow"

_E = TypeVar("_E", bound=StrEnum)


class PlaybookCompiler:
    """Compiles one located playbook, collecting every problem in ``problems``."""

    def __init__(self, located: LocatedData, *, content_hash: str, require_adapters: bool = True):
        self.located = located
        self.content_hash = content_hash
        self.problems: list[Problem] = []
        self.actions = ActionChecker(located, self.problems, require_adapters=require_adapters)
        self.playbook_name = "?"

    # -- helpers ---------------------------------------------------------------
    def report(self, path: NodePath, message: str | Text, *, key: bool = False) -> None:
        self.problems.append(self.located.problem(path, message, key=key))

    def location(self, path: NodePath) -> Location:
        mark = self.located.mark(path)
        return Location(self.located.file, mark.line, mark.column)

    def get(self, path: NodePath) -> Any:
        node: Any = self.located.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def mapping(self, path: NodePath) -> Mapping[str, Any]:
        node = self.get(path)
        return node if isinstance(node, dict) else {}

    def items(self, path: NodePath) -> Iterator[tuple[NodePath, Any]]:
        node = self.get(path)
        for index, item in enumerate(node if isinstance(node, list) else []):
            yield (*path, index), item

    # -- playbook ------------------------------------------------------------
    def compile(self) -> Playbook | None:
        """The playbook, or None when the root is not a mapping (already reported)."""
        root = self.get(())
        if not isinstance(root, dict):
            return None
        name = root.get("name")
        self.playbook_name = name if isinstance(name, str) else "?"
        defaults = self._defaults()
        delivery = root.get("delivery") if root.get("delivery") in ("now", "digest") else None
        rules = [
            with_delivery(rule, delivery) if rule is not None else None
            for rule in (self._rule(path, defaults) for path, _ in self.items(("rules",)))
        ]
        self._check_duplicate_ids()
        version = root.get("version")
        return Playbook(
            name=self.playbook_name,
            version=version if isinstance(version, int) else 1,
            description=_str_or_none(root.get("description")),
            rules=tuple(r for r in rules if r is not None),
            path=self.located.file,
            content_hash=self.content_hash,
            go_live=defaults.go_live,
        )

    def _defaults(self) -> _Defaults:
        timezone = self._timezone(("timezone",)) or ZoneInfo(DEFAULT_TIMEZONE)
        return _Defaults(
            timezone=timezone,
            working_hours=self._working_hours(("working_hours",)),
            catch_up=self._enum(("catch_up",), CatchUp) or CatchUp.LATEST,
            go_live=self._go_live(("go_live",), timezone),
        )

    def _go_live(self, path: NodePath, timezone: ZoneInfo) -> datetime | None:
        value = self.get(path)
        if value is None:
            return None
        try:
            return parse_go_live(value, timezone)
        except GoLiveError as exc:
            self.report(path, reason(exc))
            return None

    def _check_duplicate_ids(self) -> None:
        seen: dict[str, int] = {}
        for path, rule in self.items(("rules",)):
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            if not isinstance(rule_id, str):
                continue
            if rule_id in seen:
                first = self.located.mark(("rules", seen[rule_id], "id")).line
                self.report((*path, "id"), msg("pb_duplicate_id", id=rule_id, line=first))
            else:
                seen[rule_id] = int(path[-1])

    # -- rules ---------------------------------------------------------------
    def _rule(self, path: NodePath, defaults: _Defaults) -> Rule | None:
        data = self.mapping(path)
        rule_id = data.get("id")
        rule_key = f"{self.playbook_name}/{rule_id}"
        match = self._match((*path, "match"), rule_key)
        trigger = self._trigger(path, rule_key)
        if not isinstance(rule_id, str) or trigger is None:
            return None
        return Rule(
            id=rule_id,
            playbook=self.playbook_name,
            description=_str_or_none(data.get("description")),
            match=match,
            trigger=trigger,
            catch_up=self._enum((*path, "catch_up"), CatchUp) or defaults.catch_up,
            timezone=self._timezone((*path, "timezone")) or defaults.timezone,
            working_hours=self._working_hours((*path, "working_hours")) or defaults.working_hours,
            location=self.location(path),
            go_live=defaults.go_live,
        )

    def _match(self, path: NodePath, rule_key: str) -> Match:
        amount = self.mapping((*path, "amount"))
        amount_min, amount_max = _decimal(amount.get("min")), _decimal(amount.get("max"))
        for bound in ("min", "max"):
            if isinstance(amount.get(bound), float) and not math.isfinite(amount[bound]):
                self.report((*path, "amount", bound), msg("pb_amount_not_finite"))
        if amount_min is not None and amount_max is not None and amount_min > amount_max:
            self.report((*path, "amount"), msg("pb_amount_min_max"))
        return Match(
            kinds=self._enum_set((*path, "kind"), Kind),
            statuses=self._enum_set((*path, "status"), Status),
            directions=self._enum_set((*path, "direction"), Direction),
            counterparty_inns=self._str_set((*path, "counterparty", "inn")),
            amount_min=amount_min,
            amount_max=amount_max,
            where=self._expression((*path, "where"), rule_key),
        )

    def _expression(self, path: NodePath, rule_key: str) -> CompiledExpression | None:
        source = self.get(path)
        if not isinstance(source, str):
            return None
        try:
            return compile_expression(
                source, location=self.location(path), path=format_path(path), rule_key=rule_key
            )
        except ExpressionCheckError as exc:
            self.report(path, msg("pb_invalid_expression", source=_clip(source), error=reason(exc)))
            return None

    # -- triggers --------------------------------------------------------------
    def _trigger(self, path: NodePath, rule_key: str) -> TimeTrigger | StatusTrigger | None:
        when = self.mapping((*path, "when"))
        timed = "after" in when or "since" in when
        if timed and "status_changed" in when:
            self.report((*path, "when"), msg("pb_time_or_event"))
            return None
        if "status_changed" in when:
            return self._status_trigger(path, rule_key)
        if timed:
            return self._time_trigger(path, rule_key)
        if isinstance(self.get((*path, "when")), dict) and when:
            self.report((*path, "when"), msg("pb_needs_trigger"))
        return None

    def _status_trigger(self, path: NodePath, rule_key: str) -> StatusTrigger | None:
        for extra in ((*path, "escalate"), (*path, "repeat"), (*path, "when", "repeat")):
            if self.get(extra) is not None:
                self.report(extra, msg("pb_time_rules_only", key=extra[-1]), key=True)
        change = (*path, "when", "status_changed")
        actions = self.actions.action_list((*path, "do"), rule_key)
        if actions is None:
            return None
        return StatusTrigger(
            from_statuses=self._enum_set((*change, "from"), Status),
            to_statuses=self._enum_set((*change, "to"), Status),
            actions=actions,
        )

    def _time_trigger(self, path: NodePath, rule_key: str) -> TimeTrigger | None:
        when = self.mapping((*path, "when"))
        for needed in ("after", "since"):
            if needed not in when:
                self.report((*path, "when"), msg("pb_time_rule_needs", key=needed))
        steps = self._steps(path, rule_key)
        since = when.get("since")
        if steps is None or not isinstance(since, str):
            return None
        steps = self._last_repeat(path, steps, rule_key)
        return TimeTrigger(since=since, steps=steps, repeat=steps[-1].repeat)

    def _steps(self, path: NodePath, rule_key: str) -> tuple[Step, ...] | None:
        first = self._step("do", (*path, "when"), (*path, "do"), rule_key)
        steps = [first]
        repeats: list[NodePath] = [(*path, "when", "repeat")]
        for index, (step_path, _) in enumerate(self.items((*path, "escalate")), start=1):
            steps.append(self._step(f"escalate[{index}]", step_path, (*step_path, "do"), rule_key))
            self._check_order(steps, (*step_path, "after"))
            repeats.append((*step_path, "repeat"))
        if any(step is None for step in steps):
            return None
        done = tuple(step for step in steps if step is not None)
        for step, following, where in zip(done, done[1:], repeats, strict=False):
            check_before_next(self, where, step, following)
        return done

    def _step(self, name: str, where: NodePath, do: NodePath, rule_key: str) -> Step | None:
        duration = self.duration((*where, "after"))
        actions = self.actions.action_list(do, rule_key)
        if duration is None or actions is None:
            return None
        for index, action in enumerate(actions):
            if action.name == "task_comment":
                self.report((*do, index), msg("pb_task_comment_outside_repeat"))
        step = Step(name=name, after=duration, actions=actions)
        repeat = compile_repeat(self, (*where, "repeat"), step, rule_key)
        return replace(step, repeat=repeat) if repeat is not None else step

    def _last_repeat(
        self, path: NodePath, steps: tuple[Step, ...], rule_key: str
    ) -> tuple[Step, ...]:
        """The rule-level ``repeat`` is the last step's (which must not have its own)."""
        if self.get((*path, "repeat")) is None:
            return steps
        last = steps[-1]
        if last.repeat is not None:
            self.report((*path, "repeat"), msg("pb_repeat_twice", step=last.name), key=True)
            return steps
        repeat = compile_repeat(self, (*path, "repeat"), last, rule_key)
        return steps if repeat is None else (*steps[:-1], replace(last, repeat=repeat))

    def _check_order(self, steps: list[Step | None], path: NodePath) -> None:
        previous, current = steps[-2], steps[-1]
        if previous is None or current is None or previous.after.unit != current.after.unit:
            return
        if current.after.amount <= previous.after.amount:
            order = msg(
                "pb_step_order",
                step=current.name,
                after=str(current.after),
                previous=previous.name,
                previous_after=str(previous.after),
            )
            self.report(path, order)

    # -- scalars ---------------------------------------------------------------
    def duration(self, path: NodePath) -> Duration | None:
        text = self.get(path)
        if not isinstance(text, str):
            return None
        try:
            return parse_duration(text)
        except DurationSyntaxError as exc:
            self.report(path, reason(exc))
            return None

    def _timezone(self, path: NodePath) -> ZoneInfo | None:
        name = self.get(path)
        if not isinstance(name, str):
            return None
        try:
            return ZoneInfo(name)
        except Exception:  # zoneinfo raises several types for a bad key
            hint = did_you_mean(name, sorted(available_timezones()))
            self.report(path, msg("pb_unknown_zone", name=name, hint=hint))
            return None

    def _working_hours(self, path: NodePath) -> WorkingHours | None:
        text = self.get(path)
        if not isinstance(text, str) or text.count("-") != 1:
            return None  # the schema reports the form
        try:
            start, end = (_minutes(part) for part in text.split("-"))
        except ValueError:
            return None
        if start >= end:
            self.report(path, msg("pb_hours_order", text=text))
            return None
        return WorkingHours(start, end)

    def _enum(self, path: NodePath, enum: type[_E]) -> _E | None:
        value = self.get(path)
        try:
            return enum(value) if isinstance(value, str) else None
        except ValueError:
            return None  # the schema reports unknown values with "did you mean"

    def _enum_set(self, path: NodePath, enum: type[_E]) -> frozenset[_E] | None:
        values = self._str_set(path)
        if values is None:
            return None
        members = {m for m in enum if m.value in values}
        return frozenset(members)

    def _str_set(self, path: NodePath) -> frozenset[str] | None:
        value = self.get(path)
        if isinstance(value, str):
            return frozenset({value})
        if isinstance(value, list):
            return frozenset(v for v in value if isinstance(v, str))
        return None


@dataclass(frozen=True, slots=True)
class _Defaults:
    """Playbook-level settings a rule inherits unless it sets its own."""

    timezone: ZoneInfo
    working_hours: WorkingHours | None
    catch_up: CatchUp
    go_live: datetime | None = None


def _minutes(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    return int(hours) * 60 + int(minutes)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _clip(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


__all__ = ["DEFAULT_TIMEZONE", "ActionSpec", "PlaybookCompiler"]
