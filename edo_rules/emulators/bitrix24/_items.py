"""``crm.item.*``: typed values and the defaults a real portal fills in.

The portal answers ``crm.item.*`` with typed values whatever the request's
encoding: ids and user ids as integers, amounts as numbers, flags as ``"Y"`` /
``"N"``, times as ISO 8601 with the portal's offset, and every standard field
present (``entityTypeId``, ``categoryId``, ``stageId``, ``createdTime`` …) —
the ``crm.item.add`` reference example and "CRM Object Fields" in the official
REST docs. A form-encoded request (every command inside ``batch``) carries only
strings; the portal converts them by the field's type, and so does the emulator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from edo_rules.emulators.bitrix24._common import (
    CallContext,
    ListResult,
    MethodError,
    mapping,
    matches,
    ordered,
    page,
    param,
    selected,
    to_int,
)
from edo_rules.emulators.bitrix24._portal import SMART_INVOICE, Portal

_INT = re.compile(
    r"^(id|entityTypeId|categoryId|assignedById|createdBy|updatedBy|movedBy|lastActivityBy"
    r"|companyId|contactId|mycompanyId|leadId|quoteId|webformId|parentId\d+)$"
)
_FLOAT = frozenset({"opportunity", "taxValue", "opportunityAccount", "taxValueAccount"})
_FLAGS = frozenset({"opened", "closed", "isManualOpportunity"})
_INT_LISTS = frozenset({"observers", "contactIds"})
_READ_ONLY = frozenset({"id", "entityTypeId", "createdTime", "createdBy"})
#: The portal's time zone in the replies (a Moscow portal).
_ZONE = timezone(timedelta(hours=3))


def _invalid(name: str) -> MethodError:
    return MethodError("CRM_FIELD_ERROR_VALUE_NOT_VALID", f'Invalid value for field "{name}"')


def _coerce(name: str, value: Any) -> Any:
    """One field's value as the portal stores and returns it."""
    if value is None or (value == "" and name not in _FLAGS):
        return None
    try:
        if _INT.match(name):
            return int(float(value))
        if name in _FLOAT:
            return float(value)
        if name in _INT_LISTS:
            values = value if isinstance(value, list) else [value]
            return [int(float(v)) for v in values]
    except (TypeError, ValueError):
        raise _invalid(name) from None
    if name in _FLAGS:
        return "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"
    return value


def typed(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``fields`` of a request, converted by type (strings from a form become numbers)."""
    return {name: _coerce(name, value) for name, value in fields.items()}


def stamp(portal: Portal) -> str:
    return datetime.fromtimestamp(portal.clock(), UTC).astimezone(_ZONE).isoformat("T", "seconds")


def _category(portal: Portal, type_id: int) -> int:
    """The type's default pipeline id (category ids come from the portal's own sequence)."""
    categories = portal.t.item_categories
    if type_id not in categories:
        categories[type_id] = max(categories.values(), default=0) + 2
    return categories[type_id]


def first_stage(type_id: int, category_id: int) -> str:
    """``DT31_2:N`` for a smart invoice, ``DT1046_3:NEW`` for a smart process."""
    return f"DT{type_id}_{category_id}:{'N' if type_id == SMART_INVOICE else 'NEW'}"


def _defaults(portal: Portal, type_id: int, item_id: int, user: int) -> dict[str, Any]:
    now = stamp(portal)
    category = _category(portal, type_id)
    return {
        "id": item_id,
        "xmlId": None,
        "title": f"#{item_id}",
        "createdBy": user,
        "updatedBy": user,
        "movedBy": user,
        "createdTime": now,
        "updatedTime": now,
        "movedTime": now,
        "lastActivityBy": user,
        "lastActivityTime": now,
        "assignedById": user,
        "opened": "Y",
        "categoryId": category,
        "stageId": first_stage(type_id, category),
        "previousStageId": None,
        "begindate": now,
        "closedate": None,
        "companyId": 0,
        "contactId": None,
        "mycompanyId": 0,
        "opportunity": 0.0,
        "isManualOpportunity": "N",
        "taxValue": 0.0,
        "currencyId": "RUB",
        "sourceId": None,
        "observers": [],
        "contactIds": [],
        "entityTypeId": type_id,
    }


def _table(portal: Portal, params: Mapping[str, Any]) -> tuple[int, dict[int, dict[str, Any]]]:
    type_id = to_int(param(params, "entityTypeId"))
    table = portal.t.items.get(type_id or 0)
    if type_id is None or table is None:
        raise MethodError("NOT_FOUND", f"Smart process with entityTypeId {type_id} is not found")
    return type_id, table


def item_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    type_id, table = _table(portal, params)
    fields = {k: v for k, v in typed(mapping(params, "fields")).items() if k not in _READ_ONLY}
    item_id = portal.next_id()
    item = _defaults(portal, type_id, item_id, ctx.user_id)
    if "categoryId" in fields and "stageId" not in fields:
        item["stageId"] = first_stage(type_id, int(fields["categoryId"] or item["categoryId"]))
    item.update(fields)
    table[item_id] = item
    return {"item": dict(item)}


def item_update(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    item = _item(portal, params)
    fields = {k: v for k, v in typed(mapping(params, "fields")).items() if k not in _READ_ONLY}
    if "stageId" in fields and fields["stageId"] != item["stageId"]:
        fields.update(previousStageId=item["stageId"], movedBy=ctx.user_id, movedTime=stamp(portal))
    item.update(fields, updatedBy=ctx.user_id, updatedTime=stamp(portal))
    return {"item": dict(item)}


def item_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    return {"item": dict(_item(portal, params))}


def _item(portal: Portal, params: Mapping[str, Any]) -> dict[str, Any]:
    _, table = _table(portal, params)
    item = table.get(to_int(param(params, "id")) or 0)
    if item is None:
        raise MethodError("NOT_FOUND", "Element not found")
    return item


def item_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt, select = mapping(params, "filter"), param(params, "select")
    records = [r for r in _table(portal, params)[1].values() if matches(r, flt)]
    order = mapping(params, "order") or {"id": "ASC"}
    result = page([selected(r, select) for r in ordered(records, order)], params)
    return ListResult({"items": result.result}, result.total, result.next)
