"""Calls made inside the sandbox: methods of strings, lists and mappings, and builtins.

The load-time check allows only a few string methods, but the run time does
not rely on it: every method of ``str``, ``list``, ``tuple`` and ``dict`` is
either sized before it runs (``center``, ``replace``, ``join``…), refused
(``format``), or known to build no more than its input (``lower``, ``split``…)
and charged afterwards. :data:`STR_METHODS` etc. classify them all (a test
compares them with ``dir(str)`` so that a new Python method is not missed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import BuiltinMethodType
from typing import Any, Final

from edo_rules._messages import msg
from edo_rules.playbook._budget import SandboxError, check_result, meter, text_size


def counted_builtin(func: Callable[..., Any]) -> Callable[..., Any]:
    """A builtin whose result is bounded by its arguments: counted, and its result charged."""

    def counted(*args: Any) -> Any:
        meter().tick()
        return check_result(func(*args), f"{func.__name__}()")

    counted.__name__ = func.__name__
    return counted


def bounded_int(value: Any, *args: Any) -> int:
    """``int()``: a text of more than ``max_digits`` digits is refused before it is parsed."""
    current = meter()
    current.tick()
    current.check_digits(value, "int()")
    return int(value, *args)


# -- sizes of the methods that can build more than their input -------------------------


def _width(text: str, width: Any, *_: Any) -> int:
    return max(len(text), width if isinstance(width, int) else 0)


def _expandtabs(text: str, tabsize: Any = 8) -> int:
    return len(text) + text.count("\t") * max(tabsize if isinstance(tabsize, int) else 8, 0)


def _replace(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(text)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def _join(separator: str, items: Any) -> int:
    limit = meter().max_length
    values = list(items) if not isinstance(items, list | tuple) else items
    return text_size(values, limit) + len(separator) * len(values)


#: str methods sized before they run: name → result length from (text, *args).
STR_SIZED: Final[Mapping[str, Callable[..., int]]] = {
    "center": _width,
    "ljust": _width,
    "rjust": _width,
    "zfill": _width,
    "expandtabs": _expandtabs,
    "replace": _replace,
    "join": _join,
}
#: str methods refused at run time (their own mini-language reaches attributes and widths):
#: name → catalogue key.
STR_REFUSED: Final[Mapping[str, str]] = {
    "format": "sandbox_str_format",
    "format_map": "sandbox_str_format_map",
}
#: str methods whose result is no larger than a small multiple of the input.
STR_LINEAR: Final = frozenset(
    {
        "capitalize", "casefold", "count", "encode", "endswith", "find", "index", "isalnum",
        "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
        "isprintable", "isspace", "istitle", "isupper", "lower", "lstrip", "maketrans",
        "partition", "removeprefix", "removesuffix", "rfind", "rindex", "rpartition",
        "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
        "title", "translate", "upper",
    }
)  # fmt: skip
#: Methods of lists, tuples and mappings that the immutable sandbox lets through.
CONTAINER_LINEAR: Final = frozenset({"copy", "count", "index", "get", "items", "keys", "values"})


def bounded_call(func: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Call ``func`` (a method or function the sandbox let through) within the budget."""
    current = meter()
    current.tick()
    owner = getattr(func, "__self__", None)
    if isinstance(func, BuiltinMethodType) and isinstance(owner, str):
        return _str_method(owner, func.__name__, func, args, kwargs)
    container = isinstance(owner, list | tuple | dict)
    if isinstance(func, BuiltinMethodType) and container and func.__name__ not in CONTAINER_LINEAR:
        raise SandboxError(msg("sandbox_method", name=func.__name__))
    return check_result(func(*args, **kwargs), f"the result of {_name(func)}()")


def _str_method(
    text: str, name: str, func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
) -> Any:
    refused = STR_REFUSED.get(name)
    if refused is not None:
        raise SandboxError(msg(refused))
    if name == "join" and args and not isinstance(args[0], list | tuple):
        args = [list(args[0]), *args[1:]]  # sized, then joined: read a generator once
    sized = STR_SIZED.get(name)
    if sized is not None:
        meter().charge(sized(text, *args, *kwargs.values()), f"the result of .{name}()")
        return func(*args, **kwargs)
    if name not in STR_LINEAR:
        raise SandboxError(msg("sandbox_str_method", name=name))
    return check_result(func(*args, **kwargs), f"the result of .{name}()")


def _name(func: Any) -> str:
    return str(getattr(func, "__name__", "a function"))
