"""PHP-style bracket encoding of parameters (``fields[TITLE]=…&select[]=ID``).

``batch`` commands carry their parameters in this form inside the command
string, so the client must encode exactly as PHP's ``http_build_query`` does:
lists become ``key[0]=…&key[1]=…``, booleans ``1``/``0``, ``None`` an empty
value; empty lists and maps vanish (PHP cannot express them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote


def encode(params: Mapping[str, Any]) -> str:
    """Encode a parameter map as a bracketed query string."""
    return "&".join(
        f"{quote(key, safe='[]')}={quote(value, safe='')}" for key, value in _pairs(params, "")
    )


def _pairs(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _pairs(item, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _pairs(item, f"{prefix}[{index}]")
    else:
        yield prefix, _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
