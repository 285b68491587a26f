"""Small helpers for error messages: "did you mean …", YAML-ish type names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

_JSON_TYPES = {
    "object": "mapping",
    "array": "list",
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "null": "null",
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'after'?)`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def json_type(name: str) -> str:
    """JSON Schema type name → the word an admin knows from YAML."""
    return _JSON_TYPES.get(name, name)


def type_name(value: Any) -> str:
    """The YAML-ish name of a loaded value's type."""
    for kind, name in _PY_TYPES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


# Order matters: bool is an int.
_PY_TYPES: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),
    (dict, "mapping"),
    (list, "list"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
)
