"""Documents a rule failed on during a tick, reported once per rule with a count.

A rule whose template or ``where`` fails (an error, or the evaluation budget
exceeded) would fail on every matching document: one log line per document
would bury everything else, so the tick logs one line per rule with the
count and the first document's error, and the tick report and ``/metrics``
count them by rule and reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

_log = logging.getLogger("edo_rules.runner")


class Failure(Protocol):
    """What the tick needs of :class:`edo_rules.engine.DocumentFailure`."""

    @property
    def rule_key(self) -> str: ...
    @property
    def document_id(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def text(self) -> object: ...  # rendered when the log line is written (in English)
    @property
    def limit(self) -> str | None: ...


def reason(failure: Failure) -> str:
    """``budget:<limit>`` when the evaluation budget was exceeded, else ``error``."""
    return f"budget:{failure.limit}" if failure.limit else "error"


def failure_counts(failures: Sequence[Failure]) -> dict[tuple[str, str], int]:
    """Failed documents by (rule key, reason)."""
    counts: dict[tuple[str, str], int] = {}
    for failure in failures:
        key = (failure.rule_key, reason(failure))
        counts[key] = counts.get(key, 0) + 1
    return counts


def log_failures(failures: Sequence[Failure]) -> None:
    """One warning per failing rule: how many documents, and the first one's error."""
    first: dict[str, Failure] = {}
    counts: dict[str, int] = {}
    for failure in failures:
        first.setdefault(failure.rule_key, failure)
        counts[failure.rule_key] = counts.get(failure.rule_key, 0) + 1
    for rule_key, failure in first.items():
        count = counts[rule_key]
        others = f" (and {count - 1} more document(s) this tick)" if count > 1 else ""
        _log.warning(
            "rule %s failed on %d document(s), first %s%s: %s",
            rule_key,
            count,
            failure.document_id,
            others,
            failure.text,
            extra={"rule": rule_key, "document": failure.document_id, "count": count},
        )


def summary_text(counts: Mapping[tuple[str, str], int]) -> str:
    """``3 document(s) failed: pb/r (budget:time) ×3`` for the tick's log line."""
    total = sum(counts.values())
    parts = [f"{rule} ({why}) ×{n}" for (rule, why), n in sorted(counts.items())]
    return f"{total} document(s) failed: {', '.join(parts)}"
