"""The ``counterparty`` name: the document's counterparty with its signing statistics.

``counterparty.name``/``inn``/``kpp`` are the document's; ``counterparty.stats``
is read from the store only when an expression or template touches it (most
rules never do), through the engine's per-tick reader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edo_rules.model import Counterparty, CounterpartyStats

StatsLookup = Callable[[Counterparty], CounterpartyStats]


def no_stats(counterparty: Counterparty) -> CounterpartyStats:
    """The statistics of a counterparty nobody has history for."""
    return CounterpartyStats(counterparty.inn)


class LazyCounterparty:
    """Read-only; ``stats`` looked up on first read."""

    __slots__ = ("_counterparty", "_lookup", "_stats")
    _counterparty: Counterparty
    _lookup: StatsLookup
    _stats: CounterpartyStats | None

    def __init__(self, counterparty: Counterparty, lookup: StatsLookup):
        object.__setattr__(self, "_counterparty", counterparty)
        object.__setattr__(self, "_lookup", lookup)
        object.__setattr__(self, "_stats", None)

    @property
    def name(self) -> str:
        return self._counterparty.name

    @property
    def inn(self) -> str | None:
        return self._counterparty.inn

    @property
    def kpp(self) -> str | None:
        return self._counterparty.kpp

    @property
    def stats(self) -> CounterpartyStats:
        found = self._stats
        if found is None:
            found = self._lookup(self._counterparty)
            object.__setattr__(self, "_stats", found)
        return found

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"counterparty.{name} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"counterparty.{name} is read-only")

    def __repr__(self) -> str:
        return repr(self._counterparty)
