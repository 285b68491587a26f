"""Bounded operations shared by expressions and templates.

Each refuses, with :class:`SandboxError`, an operation whose result or cost
would be unbounded (a huge power, repetition, string or ``%`` formatting),
so that neither a literal nor a document's value can stall the engine.
"""

from __future__ import annotations

import operator
from typing import Any, Final

MAX_STRING: Final = 10_000
MAX_EXPONENT: Final = 100
MAX_BASE: Final = 10**12
MAX_ROUND_DIGITS: Final = 20


class SandboxError(ValueError):
    """An expression or template does something the sandbox refuses (the message says what)."""


def bounded_pow(a: Any, b: Any) -> Any:
    if abs(b) > MAX_EXPONENT or abs(a) > MAX_BASE:
        raise SandboxError(f"number too large: {a!r} ** {b!r} (exponent at most {MAX_EXPONENT})")
    return operator.pow(a, b)


def bounded_mult(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        if hasattr(seq, "__len__") and isinstance(times, int) and len(seq) * times > MAX_STRING:
            raise SandboxError(f"repetition too long (at most {MAX_STRING} items)")
    return operator.mul(a, b)


def bounded_add(a: Any, b: Any) -> Any:
    if hasattr(a, "__len__") and hasattr(b, "__len__") and len(a) + len(b) > MAX_STRING:
        raise SandboxError(f"string too long (at most {MAX_STRING} characters)")
    return operator.add(a, b)


def numeric_mod(a: Any, b: Any) -> Any:
    # "%*d" % (10**9, 1) would allocate a gigabyte: no %-formatting of strings at all.
    if isinstance(a, str | bytes):
        raise SandboxError("'%' formatting of strings is not allowed")
    return operator.mod(a, b)


def bounded_round(number: Any, ndigits: int | None = None) -> Any:
    # round(5, -10**9) computes 10**(10**9).
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS):
        raise SandboxError(f"round: the precision must be a whole number up to {MAX_ROUND_DIGITS}")
    return round(number, ndigits)


def bounded_str(value: Any) -> str:
    text = str(value)
    if len(text) > MAX_STRING:
        raise SandboxError(f"string too long (at most {MAX_STRING} characters)")
    return text
