"""PHP-style bracket decoding: ``fields[TITLE]=x&select[]=ID`` → nested maps and lists.

Decodes as PHP fills ``$_REQUEST``: ``a[]=`` appends, ``a[k]=`` sets a key,
and a map whose keys are exactly ``0..n-1`` in order is a list (PHP arrays
with sequential integer keys encode to JSON lists).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[]+)((?:\[[^\]]*\])*)$")
_PART = re.compile(r"\[([^\]]*)\]")


def decode(query: str) -> dict[str, Any]:
    """Decode a bracketed query string into nested data."""
    root: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        match = _KEY.match(name)
        if match is None:
            root[name] = value
            continue
        path = [match.group(1), *_PART.findall(match.group(2))]
        _assign(root, path, value)
    result: dict[str, Any] = listify(root)
    return result


def _assign(node: dict[str, Any], path: list[str], value: str) -> None:
    for index, part in enumerate(path):
        last = index == len(path) - 1
        key = str(len(node)) if part == "" else part
        if last:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


def listify(value: Any) -> Any:
    """Turn maps with keys ``"0".."n-1"`` (in order) into lists, recursively."""
    if isinstance(value, dict):
        items = {k: listify(v) for k, v in value.items()}
        if items and list(items) == [str(i) for i in range(len(items))]:
            return list(items.values())
        return items
    if isinstance(value, list):
        return [listify(v) for v in value]
    return value
