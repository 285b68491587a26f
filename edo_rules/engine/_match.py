"""A rule's ``match`` as small predicates: pushed down to the store, re-checked, explained.

Each predicate says whether a document passes and why not, with the values,
so that ``explain`` can show exactly which one failed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from edo_rules.model import Document
from edo_rules.playbook.rules import Match
from edo_rules.store.base import DocumentFilter


@dataclass(frozen=True, slots=True)
class Check:
    """The verdict of one predicate on one document."""

    name: str  # "kind", "status", "direction", "counterparty_inn", "amount", "where"
    passed: bool
    detail: str  # e.g. "status is 'signed', expected one of: sent"


def document_filter(match: Match) -> DocumentFilter:
    """The part of ``match`` that the store evaluates in its indexed query.

    Amount bounds that ``where`` implies go along as a pre-filter, so that the
    store leaves out the documents ``where`` would reject on their amount alone
    (``where`` still runs on the rest).
    """
    low, high = where_amount_bounds(match.where.source) if match.where else (None, None)
    return DocumentFilter(
        kinds=match.kinds,
        statuses=match.statuses,
        directions=match.directions,
        counterparty_inns=match.counterparty_inns,
        amount_min=match.amount_min,
        amount_max=match.amount_max,
        where_amount_min=low,
        where_amount_max=high,
    )


_LOWER = {ast.GtE: True, ast.Gt: True, ast.LtE: False, ast.Lt: False}
_MIRROR = {ast.GtE: ast.LtE, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.Lt: ast.Gt}


def where_amount_bounds(source: str) -> tuple[Decimal | None, Decimal | None]:
    """Inclusive amount bounds that ``where`` implies, from its leading ``and`` operands.

    Only comparisons of ``doc.amount`` with a number count (``doc.amount >= 100000``,
    ``5000 > doc.amount``), and only while every operand before them is one too:
    an earlier operand of another kind may fail, and its failure must still be
    reported for the documents a bound would leave out. Strict comparisons give
    inclusive bounds (a superset: ``where`` decides).
    """
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None, None
    operands = (
        tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    )
    low: Decimal | None = None
    high: Decimal | None = None
    for operand in operands:
        bound = _amount_bound(operand)
        if bound is None:
            break
        value, lower = bound
        if lower:
            low = value if low is None else max(low, value)
        else:
            high = value if high is None else min(high, value)
    return low, high


def _amount_bound(node: ast.expr) -> tuple[Decimal, bool] | None:
    """(value, is a lower bound) for ``doc.amount <op> number`` (either side), else None."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    op, left, right = type(node.ops[0]), node.left, node.comparators[0]
    if op not in _LOWER:
        return None
    if _is_amount(right):
        left, right, op = right, left, _MIRROR[op]
    number = _number(right)
    if not _is_amount(left) or number is None:
        return None
    return number, _LOWER[op]


def _is_amount(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "amount"
        and isinstance(node.value, ast.Name)
        and node.value.id == "doc"
    )


def _number(node: ast.expr) -> Decimal | None:
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return None
    if not isinstance(node.value, int | float):
        return None
    value = Decimal(repr(node.value)) if isinstance(node.value, float) else Decimal(node.value)
    return -value if negative else value


def _one_of(name: str, value: str | None, allowed: frozenset[Any] | None) -> Check | None:
    if allowed is None:
        return None
    expected = ", ".join(sorted(str(item) for item in allowed))
    passed = value is not None and value in {str(item) for item in allowed}
    shown = "not set" if value is None else f"is {value!r}"
    return Check(name, passed, f"{name} {shown}, expected one of: {expected}")


def _amount(doc: Document, match: Match) -> Check | None:
    low, high = match.amount_min, match.amount_max
    if low is None and high is None:
        return None
    wanted = " and ".join(
        part
        for part in (
            None if low is None else f">= {low}",
            None if high is None else f"<= {high}",
        )
        if part
    )
    amount = doc.amount
    passed = amount is not None and (low is None or amount >= low)
    passed = passed and (high is None or amount is None or amount <= high)
    shown = "not set" if amount is None else f"is {amount}"
    return Check("amount", passed, f"amount {shown}, expected {wanted}")


def static_checks(doc: Document, match: Match) -> list[Check]:
    """The pushed-down predicates, evaluated in Python (for explain)."""
    checks = [
        _one_of("kind", doc.kind.value, match.kinds),
        _one_of("status", doc.status.value, match.statuses),
        _one_of("direction", doc.direction.value, match.directions),
        _one_of("counterparty_inn", doc.counterparty.inn, match.counterparty_inns),
        _amount(doc, match),
    ]
    return [check for check in checks if check is not None]


def where_check(match: Match, names_for: Callable[[], Mapping[str, Any]]) -> Check | None:
    """Run the ``where`` expression; a failure is a failed check carrying the error text."""
    if match.where is None:
        return None
    try:
        value = match.where.evaluate(names_for())
    except Exception as exc:  # admin code: any failure is this document's failure
        return Check("where", False, f"where {match.where.source!r} failed: {exc}")
    verdict = "true" if value else "false"
    return Check("where", bool(value), f"where {match.where.source!r} is {verdict}")


def amount_in_range(doc: Document, match: Match) -> bool:
    """The exact Decimal re-check of the amount bounds (the store compares floats)."""
    low, high, amount = match.amount_min, match.amount_max, doc.amount
    if low is None and high is None:
        return True
    if amount is None:
        return False
    return (low is None or amount >= low) and (high is None or amount <= high)
