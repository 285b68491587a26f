"""Incremental evaluation: look only at what can have changed since the last recorded tick.

At every recorded evaluation the engine stores, per time rule, the ``since``
range it decided for each ladder position and the store's document sequence
number (:class:`~edo_rules.store.base.RuleProgress`). Bounds only grow with
time, so at the next tick a position needs (a) the part of its range not
covered last time — documents that became due since — and (b) the documents
written since (new, changed, re-sent). Everything else was decided and is
either in the ledger or did not match, and cannot have changed without a write.

This holds only when the verdict of a document depends on nothing but the
document: a ``where`` that reads the time (``now``, ``elapsed``, ``since``,
``step``, ``working_days_since``) makes the rule fall back to full ranges, as
does any change of the playbook (the fingerprint).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from datetime import datetime

from edo_rules.playbook.rules import Rule
from edo_rules.store.base import RuleProgress

#: Bump when the meaning of recorded progress changes: old progress is then ignored.
_SEMANTICS = "progress-v1"
_TIME_NAMES = frozenset({"now", "since", "elapsed", "step", "working_days_since"})

Range = tuple[datetime | None, datetime]  # [low, high); low None is unbounded


def fingerprint(rule: Rule, playbook_hash: str) -> str:
    text = f"{_SEMANTICS}:{playbook_hash}:{rule.key}"
    # A go-live set (or moved) in the config changes what is skipped: start over.
    return text if rule.go_live is None else f"{text}:go-live={rule.go_live.isoformat()}"


def depends_only_on_the_document(rule: Rule) -> bool:
    """True when ``where`` (if any) cannot change its verdict without the document changing."""
    if rule.match.where is None:
        return True
    try:
        tree = ast.parse(rule.match.where.source, mode="eval")
    except SyntaxError:
        return False
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return not names & _TIME_NAMES


def usable_progress(
    progress: RuleProgress | None, rule: Rule, playbook_hash: str, positions: int
) -> RuleProgress | None:
    """The recorded progress if it may be relied on for this rule, else None."""
    if progress is None or progress.fingerprint != fingerprint(rule, playbook_hash):
        return None
    if len(progress.ranges) != positions or not depends_only_on_the_document(rule):
        return None
    return progress


def is_empty(span: Range) -> bool:
    low, high = span
    return low is not None and low >= high


def uncovered(now: Range, before: Range) -> list[Range]:
    """The parts of ``now`` outside ``before`` (at most two ranges; they may overlap)."""
    low, high = now
    parts: list[Range] = []
    if before[0] is not None:
        top = min(high, before[0])
        if low is None or low < top:
            parts.append((low, top))
    bottom = before[1] if low is None else max(low, before[1])
    if bottom < high:
        parts.append((bottom, high))
    return parts


def position_ranges(bounds: Sequence[datetime]) -> tuple[Range, ...]:
    """Per position j: the since values whose latest due position is j."""
    return tuple((max(bounds[j + 1 :], default=None), bounds[j]) for j in range(len(bounds)))
