"""Small helpers for error messages: "did you mean …", YAML-ish type names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from edo_rules._messages import Text, msg

_JSON_TYPES = {
    "object": "mapping",
    "array": "list",
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "null": "null",
}


def did_you_mean(word: str, choices: Iterable[str]) -> Text | str:
    """`` (did you mean 'after'?)`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return msg("did_you_mean", word=close[0]) if close else ""


def json_type(name: str) -> Text | str:
    """JSON Schema type name → the word an admin knows from YAML (in the language shown)."""
    known = _JSON_TYPES.get(name)
    return msg(f"type:{known}") if known else name


def type_name(value: Any) -> Text | str:
    """The YAML-ish name of a loaded value's type (in the language shown)."""
    name = yaml_type(value)
    return msg(f"type:{name}") if name in _JSON_TYPES.values() else name


def yaml_type(value: Any) -> str:
    """The YAML-ish name of a loaded value's type, as a fixed English word (for comparisons)."""
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
