"""Compiled playbooks: the frozen objects the engine works with (it never sees a dict).

The loader (:mod:`edo_rules.playbook.loader`) turns YAML into these after
validating everything; nothing here is mutated after compilation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from edo_rules.model import Direction, Kind, Status

DurationUnit = Literal["working_days", "days", "hours", "minutes"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node came from in its YAML file (1-based line and column)."""

    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Duration:
    """A parsed duration such as "3 working days" / "3 рабочих дня" / "4 hours"."""

    amount: int
    unit: DurationUnit
    text: str  # as the admin wrote it

    def __str__(self) -> str:
        return self.text


class Expression(Protocol):
    """A compiled, sandboxed ``where`` expression."""

    source: str

    def evaluate(self, names: Mapping[str, Any]) -> Any: ...


class Template(Protocol):
    """A compiled, sandboxed message template."""

    source: str

    def render(self, names: Mapping[str, Any]) -> str: ...


@dataclass(frozen=True, slots=True)
class Match:
    """Which documents a rule applies to. ``None`` means "any".

    Every field but ``where`` is pushed down into the store's indexed query;
    ``where`` runs in Python on the candidates only.
    """

    kinds: frozenset[Kind] | None = None
    statuses: frozenset[Status] | None = None
    directions: frozenset[Direction] | None = None
    counterparty_inns: frozenset[str] | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    where: Expression | None = None


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One entry of a ``do`` list: the adapter name and its (templated) parameters.

    String values in ``params`` (at any depth) are compiled templates; other
    values are plain JSON data.
    """

    name: str
    params: Mapping[str, Any]
    location: Location
    #: (step name, action index) of an earlier action of the same episode: the engine
    #: passes that action's idempotency key as the ``of_key`` parameter (a repeat's
    #: comment on the task its step created).
    refers: tuple[str, int] | None = None
    #: (step name, action index) whose identity (idempotency key) this action takes:
    #: a repeat creating the task its skipped step would have created.
    same_as: tuple[str, int] | None = None


class TaskOnRepeat(StrEnum):
    """What a repeat does with the ``task`` of the step it repeats."""

    COMMENT = "comment"  # a comment on the task the step created (a ping), never a new task
    NEW = "new"  # a new task each time
    SKIP = "skip"  # nothing


@dataclass(frozen=True, slots=True)
class Repeat:
    """Repeat a step ``every`` after its due moment, ``times`` times.

    Repeat k (1-based) is due at ``due(step) + k × every``; it is the ladder
    position "repeat[k]" for the last step and "<step>.repeat[k]" for an
    earlier one. ``actions`` is what each repeat does (compiled from ``do``,
    or derived from the step: reminders only, see docs/playbooks.md); ``None``
    means the step's own actions.
    """

    every: Duration
    times: int
    actions: tuple[ActionSpec, ...] | None = None
    notify_head: bool = False
    task: TaskOnRepeat = TaskOnRepeat.COMMENT


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of a ladder. ``after`` counts from the rule's ``since`` timestamp.

    ``name`` is "do" for the first rung and "escalate[N]" (1-based) for the
    escalation steps; ``repeat`` repeats this rung (the rule-level ``repeat``
    is the last rung's).
    """

    name: str
    after: Duration
    actions: tuple[ActionSpec, ...]
    repeat: Repeat | None = None


class CatchUp(StrEnum):
    """What an overdue ladder does after downtime."""

    LATEST = "latest"  # fire the latest due step once, record earlier ones as skipped
    ALL = "all"  # fire every missed step
    NONE = "none"  # record the missed steps as skipped, fire nothing


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Deliver only within this window on working days (local time of the playbook)."""

    start_minute: int  # minutes after midnight, e.g. 9:00 → 540
    end_minute: int


@dataclass(frozen=True, slots=True)
class TimeTrigger:
    """``when: {after: …, since: <timestamp field>}``; the steps are the ladder."""

    since: str
    steps: tuple[Step, ...]  # "do" first, then escalations, ordered by `after`
    repeat: Repeat | None = None  # the last step's repeat (also on ``steps[-1].repeat``)


@dataclass(frozen=True, slots=True)
class StatusTrigger:
    """``when: {status_changed: {from: …, to: …}}``: fires once per recorded status event."""

    from_statuses: frozenset[Status] | None
    to_statuses: frozenset[Status] | None
    actions: tuple[ActionSpec, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    playbook: str
    description: str | None
    match: Match
    trigger: TimeTrigger | StatusTrigger
    catch_up: CatchUp
    timezone: ZoneInfo
    working_hours: WorkingHours | None
    location: Location
    #: Episodes (time rules) and events (event rules) before this moment are never acted on.
    go_live: datetime | None = None

    @property
    def key(self) -> str:
        """Unique across playbooks: "<playbook name>/<rule id>"."""
        return f"{self.playbook}/{self.id}"


@dataclass(frozen=True, slots=True)
class Playbook:
    name: str
    version: int
    description: str | None
    rules: tuple[Rule, ...]
    path: str
    content_hash: str  # sha256 of the file's bytes, recorded with every firing
    go_live: datetime | None = None  # the playbook's own go-live (its rules carry it too)
