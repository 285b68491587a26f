"""Every Jinja filter, test and global, bounded by the evaluation's budget.

The table is made from Jinja's own registries (``jinja2.filters.FILTERS``,
``jinja2.tests.TESTS``, ``jinja2.defaults.DEFAULT_NAMESPACE``), not from a
list of known bombs: each entry is either

* *sized*: the size of its result is computed from the arguments and charged
  before it runs (``center``, ``indent``, ``join``, ``sum``, ``replace``,
  ``format``, ``batch``, ``slice``, ``wordwrap``, ``range``, ``lipsum``…), or
* *linear*: it builds at most a small multiple of its input, which is already
  within the budget; it is counted and its result charged afterwards.

The load-time whitelist (:mod:`edo_rules.playbook._template_check`) decides
which of them an admin may write; the run time bounds all of them anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from jinja2 import pass_environment, pass_eval_context
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.filters import make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.tests import TESTS as JINJA_TESTS
from jinja2.utils import _PassArg

from edo_rules._messages import msg
from edo_rules.playbook._bounded import (
    MAX_ROUND_DIGITS,
    SandboxError,
    bounded_add,
    check_compared,
    format_percent,
)
from edo_rules.playbook._budget import (
    BudgetExceededError,
    check_result,
    meter,
    text_size,
    what_text,
)

_JINJA_GLOBALS: Final[Mapping[str, Callable[..., Any]]] = DEFAULT_NAMESPACE  # type: ignore[assignment]
_FILTERS: Final[Mapping[str, Callable[..., Any]]] = JINJA_FILTERS
_TESTS: Final[Mapping[str, Callable[..., Any]]] = JINJA_TESTS  # type: ignore[assignment]

#: Filters whose regular expressions cost more than linear time: a smaller input cap.
SLOW_INPUT: Final = 20_000


def linear(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    """Counted, result charged (keeps Jinja's ``pass_*`` marks through ``wraps``)."""

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        meter().tick()
        return check_result(func(*args, **kwargs), f"the result of {name!r}")

    return bounded


def _presized(func: Callable[..., Any], name: str, size: Callable[..., int]) -> Callable[..., Any]:
    """Charged ``size(*args, **kwargs)`` before ``func`` runs (without Jinja's first
    argument — the environment or eval context — when ``func`` takes one)."""

    skip = 0 if _PassArg.from_obj(func) is None else 1  # the environment or context

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        current = meter()
        current.tick()
        current.charge(size(*args[skip:], **kwargs), f"the result of {name!r}")
        return func(*args, **kwargs)

    return bounded


def _len(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else text_size(value, 10**9)


def _center(value: Any, width: Any = 80) -> int:
    return max(_len(value), width if isinstance(width, int) else 0)


def _indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> int:
    per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = str(value) if isinstance(value, str) else ""
    return len(text) + (text.count("\n") + 1) * max(per_line, 0)


def _batch(value: Any, linecount: Any, fill_with: Any = None) -> int:
    return _whole(linecount)


def _slice(value: Any, slices: Any, fill_with: Any = None) -> int:
    return _whole(slices)


def _whole(value: Any) -> int:
    if not isinstance(value, int):
        raise SandboxError(msg("sandbox_whole_number", type=type(value).__name__))
    return value


def _replace(s: Any, old: Any, new: Any, count: Any = None) -> int:
    text, old_text, new_text = str(s), str(old), str(new)
    found = text.count(old_text) if old_text else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new_text) - len(old_text), 0)


def _wordwrap(s: Any, *args: Any, **kwargs: Any) -> int:
    # (s, width, break_long_words, wrapstring, break_on_hyphens)
    wrapstring = kwargs.get("wrapstring", args[2] if len(args) > 2 else None)
    text = str(s)
    if len(text) > SLOW_INPUT:
        raise _slow_input("wordwrap", len(text))
    separator = len(str(wrapstring)) if wrapstring is not None else 2
    return len(text) * (1 + separator)


def _slow(value: Any, *_: Any, **__: Any) -> int:
    size = text_size(value, SLOW_INPUT + 1)
    if size > SLOW_INPUT:
        raise _slow_input("this filter", size)
    return size * 8


def _slow_input(what: str, size: int) -> BudgetExceededError:
    return BudgetExceededError(
        "length", msg("budget_slow_input", what=what_text(what), limit=SLOW_INPUT, size=size)
    )


def _printed(value: Any, *_: Any, **__: Any) -> int:
    return text_size(value, meter().max_length + 1)


def _escaped(value: Any, *args: Any, **kwargs: Any) -> int:
    return _printed(value) * 6  # escaping (&#34;, \\u0430) makes text up to six times longer


def _tojson(value: Any, indent: Any = None) -> int:
    if indent is not None and (not isinstance(indent, int) or not 0 <= indent <= 16):
        raise SandboxError(msg("sandbox_tojson_indent"))
    return _printed(value) * 6 * (1 + (indent or 0))


@pass_eval_context
def _join(eval_ctx: EvalContext, value: Any, d: str = "", attribute: Any = None) -> str:
    """Jinja's ``join`` after sizing the joined text (a generator is read once)."""
    items = list(value)
    if attribute is not None:
        items = list(map(make_attrgetter(eval_ctx.environment, attribute), items))
    current = meter()
    current.tick()
    size = text_size(items, current.max_length + 1) + len(str(d)) * len(items)
    current.charge(size, "the result of 'join'")
    result: str = JINJA_FILTERS["join"](eval_ctx, items, d)
    return result


@pass_environment
def _sum(environment: Any, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
    """Jinja's ``sum`` with every addition bounded (``sum(start=[])`` concatenates lists)."""
    items: Iterable[Any] = iterable
    if attribute is not None:
        items = map(make_attrgetter(environment, attribute), iterable)
    total = start
    for item in items:
        total = bounded_add(total, item)
    return total


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    """Jinja's ``format``: %-formatting with the output sized first."""
    if args and kwargs:
        raise SandboxError(msg("sandbox_format_arguments"))
    return format_percent(str(value), kwargs or args)


def _round(value: Any, precision: Any = 0, method: str = "common") -> Any:
    """Jinja's ``round`` with the precision bounded (``round(5, -10**9)`` would never end)."""
    meter().tick()
    if not isinstance(precision, int) or abs(precision) > MAX_ROUND_DIGITS:
        raise SandboxError(msg("sandbox_round_precision", limit=MAX_ROUND_DIGITS))
    return JINJA_FILTERS["round"](value, precision, method)


def _int(value: Any, default: int = 0, base: int = 10) -> int:
    """Jinja's ``int`` with a long text refused before it is parsed."""
    current = meter()
    current.tick()
    current.check_digits(value, "the 'int' filter")
    result: int = _FILTERS["int"](value, default, base)
    return result


def _compared(value: Any, *_: Any, **__: Any) -> int:
    """Sorting and comparing filters read every item, and lower-case a copy of each text
    (``case_sensitive=False``): the whole content is what they cost, not the item count."""
    return text_size(value, meter().max_length + 1)


#: Filters sized before they run: name → the function giving the result's size.
_SIZED: Final[Mapping[str, Callable[..., int]]] = {
    "sort": _compared,
    "unique": _compared,
    "min": _compared,
    "max": _compared,
    "dictsort": _compared,
    "groupby": _compared,
    "batch": _batch,
    "center": _center,
    "indent": _indent,
    "replace": _replace,
    "slice": _slice,
    "wordwrap": _wordwrap,
    "urlize": _slow,
    "striptags": _slow,
    "string": _printed,
    "pprint": lambda value: _printed(value) * 2,
    "tojson": _tojson,
    "xmlattr": _escaped,
    "urlencode": lambda value: _printed(value) * 3,
    "filesizeformat": lambda value, binary=False: 0,
    "wordcount": lambda s: 0,
}
#: Filters replaced by a bounded rewrite of Jinja's own.
_REWRITTEN: Final[Mapping[str, Callable[..., Any]]] = {
    "format": _format,
    "int": _int,
    "join": _join,
    "round": _round,
    "sum": _sum,
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    if name in _REWRITTEN:
        return _REWRITTEN[name]
    if name in _SIZED:
        return _presized(func, name, _SIZED[name])
    return linear(func, name)


#: Every Jinja filter, bounded.
BOUNDED_FILTERS: Final[Mapping[str, Callable[..., Any]]] = {
    name: _bounded_filter(name, func) for name, func in _FILTERS.items()
}
#: Tests comparing their two arguments (a list is compared item by item, in C).
_COMPARING_TESTS: Final = frozenset(
    {"eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt",
     "greaterthan", ">", "ge", ">=", "in", "sameas"}
)  # fmt: skip


def _comparing(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(func)
    def bounded(value: Any, other: Any) -> Any:
        meter().tick()
        check_compared(value, other)
        return func(value, other)

    return bounded


#: Every Jinja test, counted (a test answers True or False: it builds nothing);
#: the comparing ones size the lists they compare first.
BOUNDED_TESTS: Final[Mapping[str, Callable[..., Any]]] = {
    name: _comparing(func, name) if name in _COMPARING_TESTS else linear(func, name)
    for name, func in _TESTS.items()
}


def _range(*args: Any) -> range:
    result = range(*args)
    current = meter()
    current.tick()
    try:
        length = len(result)
    except OverflowError:  # more items than a machine word counts
        length = current.max_length + 1
    current.charge(length, "range()")
    return result


def _lipsum(n: Any = 5, html: bool = True, min: Any = 20, max: Any = 100) -> Any:
    size = _whole(n) * _whole(max) * 16
    current = meter()
    current.tick()
    current.charge(size, "lipsum()")
    return _JINJA_GLOBALS["lipsum"](n, html, min, max)


#: Every Jinja global, bounded (``dict``, ``cycler``, ``joiner`` and ``namespace``
#: hold what they are given, which the budget has already charged).
BOUNDED_GLOBALS: Final[Mapping[str, Callable[..., Any]]] = {
    **{name: linear(func, name) for name, func in _JINJA_GLOBALS.items()},
    "range": _range,
    "lipsum": _lipsum,
}
