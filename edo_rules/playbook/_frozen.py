"""A read-only base for compiled objects that must satisfy a protocol with plain attributes.

mypy treats a frozen dataclass's fields as read-only properties, which do not
satisfy a protocol declaring ``source: str``; this base keeps plain attributes
for the type checker and refuses assignment at run time.
"""

from __future__ import annotations

from typing import Any


class ReadOnly:
    """Attributes are set once in ``__init__`` (via :meth:`_init`) and never again."""

    __slots__ = ()

    def _init(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self, 'source', '')!r})"
