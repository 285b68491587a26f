"""What the emulated methods share: errors, list results, parameters, filters, paging."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edo_rules.emulators.bitrix24._portal import Portal

PAGE = 50


class MethodError(Exception):
    """A documented Bitrix24 error: ``{"error": code, "error_description": …}`` with a status."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status


def legacy(description: str) -> MethodError:
    """Legacy CRM methods (crm.deal.get/update …) answer ``"error": ""`` with HTTP 400."""
    return MethodError("", description, 400)


@dataclass(frozen=True, slots=True)
class ListResult:
    """A page of a list method: the envelope adds ``total`` and ``next``."""

    result: Any
    total: int | None
    next: int | None


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who is calling: a webhook (its user id) or an OAuth app (its client id)."""

    user_id: int
    webhook: bool
    client_id: str | None


Handler = Callable[[Portal, Mapping[str, Any], CallContext], Any]


def param(params: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A parameter by name, case-insensitively (the portal accepts ``id`` and ``ID``)."""
    if name in params:
        return params[name]
    lower = name.lower()
    for key, value in params.items():
        if key.lower() == lower:
            return value
    return default


def mapping(params: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = param(params, name)
    return dict(value) if isinstance(value, Mapping) else {}


def to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def require_int(params: Mapping[str, Any], name: str, error: MethodError) -> int:
    number = to_int(param(params, name))
    if number is None or number <= 0:
        raise error
    return number


_OPS = re.compile(r"^(>=|<=|!=|=|!|>|<|%)?(.+)$")


def matches(
    record: Mapping[str, Any], flt: Mapping[str, Any], *, rename: Callable[[str], str] = str
) -> bool:
    """Bitrix24 filter semantics for the operators we need: = ! > < >= <= % (substring)."""
    for raw_key, wanted in flt.items():
        match = _OPS.match(str(raw_key))
        assert match is not None
        op, key = match.group(1) or "=", rename(match.group(2))
        if not _compare(op, _field(record, key), wanted):
            return False
    return True


def _field(record: Mapping[str, Any], key: str) -> Any:
    if key in record:
        return record[key]
    lower = key.lower()
    return next((v for k, v in record.items() if k.lower() == lower), None)


def _compare(op: str, have: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        hit = any(_compare("=", have, w) for w in wanted)
        return hit if op == "=" else not hit
    if op == "%":
        return str(wanted).lower() in str(have or "").lower()
    a, b = _key(have), _key(wanted)
    if isinstance(a, float) and isinstance(b, float):
        return _OPERATORS[op](a, b)
    return _OPERATORS[op](str(have or ""), str(wanted))


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!": operator.ne,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def _key(value: Any) -> float | str:
    if isinstance(value, bool):
        return str(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)


def ordered(records: Iterable[dict[str, Any]], order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Sort by the ``order`` map (stable, last key first), default by ID ascending."""
    result = list(records)
    keys = list(order.items()) or [("ID", "ASC")]
    for key, direction in reversed(keys):
        result.sort(key=_sort_key(str(key)), reverse=str(direction).upper() == "DESC")
    return result


def _sort_key(key: str) -> Callable[[dict[str, Any]], tuple[int, float, str]]:
    return lambda record: _sortable(_field(record, key))


def _sortable(value: Any) -> tuple[int, float, str]:
    key = _key(value)
    return (0, key, "") if isinstance(key, float) else (1, 0.0, key)


def selected(record: Mapping[str, Any], select: Any) -> dict[str, Any]:
    """Project a record to the ``select`` list (``*`` or nothing → every field)."""
    if not isinstance(select, list) or not select or "*" in select:
        return dict(record)
    wanted = {str(s).lower() for s in select} | {"id"}
    return {k: v for k, v in record.items() if k.lower() in wanted}


def page(records: list[Any], params: Mapping[str, Any]) -> ListResult:
    """One page of 50 from ``start``; ``start=-1`` skips the total (and paging), as documented."""
    start = to_int(param(params, "start", 0)) or 0
    if start == -1:
        return ListResult(records[:PAGE], None, None)
    chunk = records[start : start + PAGE]
    more = start + PAGE < len(records)
    return ListResult(chunk, len(records), start + PAGE if more else None)


def strings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Classic CRM returns scalar values as strings."""
    return {
        k: (v if v is None or isinstance(v, list | dict) else str(v)) for k, v in values.items()
    }
