"""The run-time budget of one evaluation of a ``where`` expression or a template.

Every operator, call, filter, test, attribute read and loop iteration of the
sandbox goes through the :class:`Meter` of the running evaluation: it counts
operations, watches the clock and, *before* anything is built, checks the
size the result will have (computed from the operands), so that one C-level
operation such as ``[1] * 10**9`` is refused before it allocates. The meter
lives in a context variable that no name of the sandbox reaches, so an
expression cannot switch it off.

The limits come from :class:`Budget` (the ``evaluation`` section of the
config); :func:`use_budget` and :func:`configure_budget` choose it.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from edo_rules._messages import Text, msg


class SandboxError(ValueError):
    """An expression or template does something the sandbox refuses (the message says what)."""


@dataclass(frozen=True, slots=True)
class Budget:
    """The limits of one evaluation (config section ``evaluation``).

    ``time_ms``: the evaluation's own processor time (not the time the machine
    spends on other work, nor garbage collection); ``operations``: operations
    counted by the sandbox; ``max_length``: characters of any string, items of
    any list or mapping built;
    ``max_total``: characters and items built over the whole evaluation (about
    bytes: the default keeps one evaluation within a few MB); ``max_digits``:
    digits of any whole number built; ``max_output``: characters of one rendered
    template (a message text, a title); ``max_depth``: calls nested in one
    another (a macro or a recursive loop calling itself). ``enabled=False``
    evaluates without the budget (for measuring what it costs; never in production).
    """

    time_ms: float = 100.0
    operations: int = 100_000
    max_length: int = 100_000
    max_total: int = 4_000_000
    max_digits: int = 1_000
    max_output: int = 20_000
    max_depth: int = 50
    enabled: bool = True

    @property
    def max_bits(self) -> int:
        return int(self.max_digits * 3.33) + 4


DEFAULT_BUDGET: Final = Budget()

#: The config key of each limit, as the error messages name it.
LIMIT_KEYS: Final = {
    "time": "evaluation.time_ms",
    "operations": "evaluation.operations",
    "length": "evaluation.max_length",
    "total": "evaluation.max_total",
    "digits": "evaluation.max_digits",
    "output": "evaluation.max_output",
    "depth": "evaluation.max_depth",
}


# -- the clock: this thread's own processor time, without garbage collection -------------

_GC = threading.local()  # per thread: seconds spent collecting, and when the current run began


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    # Collections run in the thread that triggered them; a full one over a large heap
    # can take longer than a whole evaluation's budget without being its doing.
    now = time.thread_time()
    if phase == "start":
        _GC.started = now
    else:
        _GC.seconds = getattr(_GC, "seconds", 0.0) + now - getattr(_GC, "started", now)


gc.callbacks.append(_on_gc)


def evaluation_clock() -> float:
    """Seconds of this thread's processor time, less its garbage collections.

    The time budget counts what the evaluation itself does: time the machine
    gave other processes (a busy shared host) and the collector's pauses are
    not the expression's doing and must not fail an honest template.
    """
    return time.thread_time() - getattr(_GC, "seconds", 0.0)


class BudgetExceededError(SandboxError):
    """One evaluation went over one limit of its :class:`Budget`; ``limit`` names which."""

    def __init__(self, limit: str, message: Text):
        self.limit = limit
        super().__init__(msg("budget_exceeded", text=message, setting=LIMIT_KEYS[limit]))


#: What was being built, as the sandbox names it (English notation) → its catalogue text.
_WHAT: Final = {
    "the result of a call": "budget_what_call",
    "the result of '*' (repetition)": "budget_what_repetition",
    "a comparison of lists": "budget_what_list_comparison",
    "the printed value": "budget_what_printed",
    "the 'int' filter": "budget_what_int_filter",
    "this filter": "budget_what_this_filter",
}


def what_text(what: str) -> Text | str:
    """``what`` for the admin: ``the result of '+'`` → «результат '+'»; code (``str()``) as is.

    Only an error pays for this: the hot paths pass the plain English string.
    """
    key = _WHAT.get(what)
    if key is not None:
        return msg(key)
    if what.startswith("the result of "):
        return msg("budget_what_result", what=what.removeprefix("the result of "))
    return what


_LARGE: Final = 4096  # characters/items: a smaller value costs less than a clock read


class Meter:
    """What one evaluation has used so far; raises :class:`BudgetExceededError` past a limit."""

    __slots__ = ("budget", "deadline", "depth", "max_length", "operations", "total")

    def __init__(self, budget: Budget):
        self.budget = budget
        self.max_length = budget.max_length
        self.operations = 0
        self.total = 0
        self.depth = 0
        self.deadline = evaluation_clock() + budget.time_ms / 1000

    def tick(self) -> None:
        """Count one operation; look at the clock every 16 (and at every size charged)."""
        self.operations += 1
        if self.operations > self.budget.operations:
            raise BudgetExceededError(
                "operations", msg("budget_operations", limit=self.budget.operations)
            )
        if not self.operations & 15:
            self.check_time()

    def enter(self) -> None:
        """One call deeper (a macro, a recursive loop); :meth:`leave` when it returns."""
        self.tick()
        self.depth += 1
        if self.depth > self.budget.max_depth:
            raise BudgetExceededError("depth", msg("budget_depth", limit=self.budget.max_depth))

    def leave(self) -> None:
        self.depth -= 1

    def check_time(self) -> None:
        if evaluation_clock() > self.deadline:
            raise BudgetExceededError("time", msg("budget_time", limit=self.budget.time_ms))

    def charge(self, size: int, what: str) -> None:
        """Allow building ``what`` of ``size`` characters/items (called before it is built)."""
        if size > self.max_length:
            raise BudgetExceededError(
                "length",
                msg("budget_length", what=what_text(what), size=size, limit=self.max_length),
            )
        self.total += max(size, 0)
        if self.total > self.budget.max_total:
            raise BudgetExceededError(
                "total", msg("budget_total", what=what_text(what), limit=self.budget.max_total)
            )
        if size > _LARGE:  # building it took a while: look at the clock now
            self.check_time()

    def check_digits(self, text: Any, what: str) -> None:
        """Refuse reading a number from a text longer than ``max_digits`` (before parsing it)."""
        if isinstance(text, str | bytes) and len(text) > self.budget.max_digits + 2:
            raise BudgetExceededError(
                "digits",
                msg(
                    "budget_number_text",
                    what=what_text(what),
                    size=len(text),
                    limit=self.budget.max_digits,
                ),
            )

    def charge_bits(self, bits: int, what: str) -> None:
        """Allow a whole number of about ``bits`` bits (called before it is computed)."""
        if bits > self.budget.max_bits:
            digits = int(bits / 3.33)
            raise BudgetExceededError(
                "digits",
                msg(
                    "budget_digits",
                    what=what_text(what),
                    digits=digits,
                    limit=self.budget.max_digits,
                ),
            )


_ACTIVE: ContextVar[Meter | None] = ContextVar("edo_rules_meter", default=None)
_BUDGET: ContextVar[Budget | None] = ContextVar("edo_rules_budget", default=None)
_default: list[Budget] = [DEFAULT_BUDGET]


def configure_budget(budget: Budget) -> None:
    """Make ``budget`` the process-wide default (the runner calls it with the config's)."""
    _default[0] = budget


def current_budget() -> Budget:
    """The budget an evaluation started now gets (see :func:`use_budget`)."""
    return _BUDGET.get() or _default[0]


@contextmanager
def use_budget(budget: Budget) -> Iterator[Budget]:
    """Evaluate with ``budget`` inside the ``with`` block (this thread/context only)."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


class metered:  # noqa: N801 -- used like the context manager functions next to it
    """Run one evaluation under a fresh :class:`Meter` of ``budget`` (``with metered(b) as m``).

    A class rather than ``@contextmanager``: it runs once per evaluation, and
    a generator-based context manager would cost a noticeable share of a
    small template's rendering.
    """

    __slots__ = ("meter", "token")

    def __init__(self, budget: Budget):
        self.meter = Meter(budget)

    def __enter__(self) -> Meter:
        self.token = _ACTIVE.set(self.meter)
        return self.meter

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self.token)


def meter() -> Meter:
    """The running evaluation's meter; outside one (load-time folding) a fresh default one."""
    active = _ACTIVE.get()
    return active if active is not None else Meter(current_budget())


# -- the size of what str() would print ------------------------------------------------

_SCALAR_SIZE: Final = 40  # a float, a date, a Decimal: never longer than this in practice


def text_size(value: Any, limit: int) -> int:
    """An upper estimate of ``len(str(value))``, stopping as soon as it passes ``limit``.

    Containers are walked (a list of a million references to one long string
    prints a million copies); the walk stops early, so it costs at most about
    ``limit / 2`` steps.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += _flat_size(item, stack)
        if total > limit:
            return total
    return total


def _flat_size(item: Any, stack: list[Any]) -> int:
    if isinstance(item, str | bytes):
        return len(item) + 2
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        return item.bit_length() // 3 + 2
    if isinstance(item, list | tuple | set | frozenset):
        stack.extend(item)
        return 2 + 2 * len(item)
    if isinstance(item, dict):
        stack.extend(item.keys())
        stack.extend(item.values())
        return 2 + 4 * len(item)
    return _SCALAR_SIZE


def sized_length(value: Any) -> int | None:
    """The length of a built string, list, tuple or mapping (None for anything else)."""
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return None


def check_result(value: Any, what: str) -> Any:
    """Charge a value some library code built (its size is bounded by its inputs)."""
    size = sized_length(value)
    current = meter()
    if size is not None:
        current.charge(size, what)
    elif isinstance(value, int) and not isinstance(value, bool):
        current.charge_bits(value.bit_length(), what)
    return value


def budget_limit(exc: BaseException | None) -> str | None:
    """The budget limit behind ``exc`` (followed through ``raise … from``), if any."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, BudgetExceededError):
            return exc.limit
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None
