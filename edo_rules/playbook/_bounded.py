"""Bounded operators shared by expressions and templates.

Each operator counts one operation on the running evaluation's meter
(:mod:`edo_rules.playbook._budget`) and, before computing anything that
allocates, checks the size of the result from the operands: ``[1] * 10**9``,
``'x' * 10**9``, ``9 ** 9 ** 9`` or ``'%*d' % (10**9, 1)`` are refused before
Python builds them, so no single C-level operation can outgrow the budget.
The load-time check folds literal arithmetic with these same functions.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from edo_rules._messages import msg
from edo_rules.playbook._budget import SandboxError, meter, text_size

MAX_ROUND_DIGITS: Final = 20
#: ``Decimal ** n`` with a huge ``n`` is refused: no honest amount needs it.
MAX_DECIMAL_EXPONENT: Final = 10_000

__all__ = [
    "MAX_ROUND_DIGITS",
    "SandboxError",
    "bounded_add",
    "bounded_mod",
    "bounded_mult",
    "bounded_pow",
    "bounded_round",
    "bounded_str",
    "format_percent",
]

_SEQUENCES: Final = (str, bytes, list, tuple)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def bounded_add(a: Any, b: Any) -> Any:
    current = meter()
    current.tick()
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        current.charge(len(a) + len(b), "the result of '+'")
    elif _is_int(a) and _is_int(b):
        current.charge_bits(max(a.bit_length(), b.bit_length()) + 1, "the result of '+'")
    return operator.add(a, b)


def bounded_sub(a: Any, b: Any) -> Any:
    current = meter()
    current.tick()
    if _is_int(a) and _is_int(b):
        current.charge_bits(max(a.bit_length(), b.bit_length()) + 1, "the result of '-'")
    return operator.sub(a, b)


def bounded_mult(a: Any, b: Any) -> Any:
    current = meter()
    current.tick()
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, _SEQUENCES) and isinstance(times, int):
            current.charge(len(seq) * max(times, 0), "the result of '*' (repetition)")
    if _is_int(a) and _is_int(b):
        current.charge_bits(a.bit_length() + b.bit_length(), "the result of '*'")
    return operator.mul(a, b)


def bounded_pow(a: Any, b: Any) -> Any:
    current = meter()
    current.tick()
    if _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
        current.charge_bits(a.bit_length() * b, f"{_short(a)} ** {_short(b)}")
    if isinstance(a, Decimal) and abs(b) > MAX_DECIMAL_EXPONENT:
        raise SandboxError(msg("sandbox_exponent", value=_short(b), limit=MAX_DECIMAL_EXPONENT))
    return operator.pow(a, b)


def bounded_mod(a: Any, b: Any) -> Any:
    """``%``: the remainder, or %-formatting of a string with its output size checked first."""
    if isinstance(a, str):
        return format_percent(a, b)
    meter().tick()
    return operator.mod(a, b)


def _ticked(func: Callable[..., Any]) -> Callable[..., Any]:
    """An operator whose result is no larger than its operands: only counted."""

    def counted(*args: Any) -> Any:
        meter().tick()
        return func(*args)

    counted.__name__ = getattr(func, "__name__", "operator")
    return counted


bounded_truediv: Final = _ticked(operator.truediv)
bounded_floordiv: Final = _ticked(operator.floordiv)
bounded_neg: Final = _ticked(operator.neg)
bounded_pos: Final = _ticked(operator.pos)


_CONTAINERS: Final = (list, tuple, dict, set, frozenset)


def check_compared(a: Any, b: Any) -> None:
    """Comparing or searching a list compares every item in C: size the lists first."""
    if isinstance(a, _CONTAINERS) or isinstance(b, _CONTAINERS):
        current = meter()
        limit = current.max_length
        size = text_size(a, limit + 1) + text_size(b, limit + 1)
        if size > limit:
            current.charge(size, "a comparison of lists")


def _compared(func: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def compare(a: Any, b: Any) -> Any:
        check_compared(a, b)
        return func(a, b)

    compare.__name__ = getattr(func, "__name__", "compare")
    return compare


#: The comparison operators by Jinja's names, with lists sized before they are compared.
COMPARISONS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "eq": _compared(operator.eq),
    "ne": _compared(operator.ne),
    "lt": _compared(operator.lt),
    "lteq": _compared(operator.le),
    "gt": _compared(operator.gt),
    "gteq": _compared(operator.ge),
    "in": _compared(lambda a, b: a in b),
    "notin": _compared(lambda a, b: a not in b),
}


def bounded_round(number: Any, ndigits: int | None = None) -> Any:
    # round(5, -10**9) computes 10**(10**9).
    meter().tick()
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS):
        raise SandboxError(msg("sandbox_round_precision", limit=MAX_ROUND_DIGITS))
    return round(number, ndigits)


def bounded_str(value: Any) -> str:
    current = meter()
    current.tick()
    current.charge(text_size(value, current.max_length), "str()")
    return str(value)


# -- %-formatting ----------------------------------------------------------------------

_SPEC: Final = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?[hlL]?(?P<kind>.?)",
    re.S,
)
#: The widest a number prints without width or precision (a float like 1e308 with %f).
_NUMBER_WIDTH: Final = 330


def format_percent(template: str, args: Any) -> str:
    """``template % args`` after checking an upper bound of the output's length.

    Widths and precisions written in the template, the numbers a ``*`` takes
    from ``args``, and what ``str()`` of the arguments prints all count.
    """
    current = meter()
    current.tick()
    current.charge(_percent_size(template, args, current.max_length), "the result of '%'")
    return str(template % args)


def _percent_size(template: str, args: Any, limit: int) -> int:
    size = len(template) + text_size(args, limit)
    star = False
    for spec in _SPEC.finditer(template):
        size += _NUMBER_WIDTH
        for part in (spec.group("width"), spec.group("precision")):
            if part == "*":
                star = True
            elif part:
                size += int(part) if len(part) < 12 else limit + 1
    if star:
        values = args.values() if isinstance(args, Mapping) else args
        items = values if isinstance(values, tuple | list) else (values,)
        size += sum(abs(v) for v in items if _is_int(v) and v.bit_length() < 64)
        size += sum(limit + 1 for v in items if _is_int(v) and v.bit_length() >= 64)
    return size


def _short(value: Any) -> str:
    text = repr(value) if not _is_int(value) or value.bit_length() < 64 else "a huge number"
    return text if len(text) <= 40 else text[:37] + "..."
