"""Emulated CRM methods: deals, companies, requisites, timeline, smart items, to-dos."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edo_rules.emulators.bitrix24._common import (
    CallContext,
    Handler,
    ListResult,
    MethodError,
    legacy,
    mapping,
    matches,
    ordered,
    page,
    param,
    require_int,
    selected,
    strings,
    to_int,
)
from edo_rules.emulators.bitrix24._items import item_add, item_get, item_list, item_update
from edo_rules.emulators.bitrix24._legacy import company_add, deal_add, list_order
from edo_rules.emulators.bitrix24._portal import Portal

_COMMENT_TYPES = {"deal": "deals", "company": "companies"}


def _classic_get(table: str) -> Handler:
    def handler(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> Any:
        record_id = to_int(param(params, "id"))
        if record_id is None:
            raise legacy("ID is not defined or invalid.")
        record = getattr(portal.t, table).get(record_id)
        if record is None:
            raise legacy("Not found")
        return dict(record)

    return handler


def _classic_list(table: str) -> Handler:
    def handler(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
        flt, select = mapping(params, "filter"), param(params, "select")
        records = [r for r in getattr(portal.t, table).values() if matches(r, flt)]
        return page([selected(r, select) for r in list_order(records, params, table)], params)

    return handler


def deal_update(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> bool:
    deal_id = to_int(param(params, "id"))
    deal = portal.t.deals.get(deal_id or 0)
    if deal is None:
        raise legacy("Not found")
    fields = mapping(params, "fields")
    stage = fields.get("STAGE_ID")
    if stage is not None:
        stages = portal.t.pipelines.get(int(deal["CATEGORY_ID"]), ())
        if stage not in stages:
            raise legacy(f"Stage '{stage}' is not found in the deal's pipeline.")
        final = str(stage).split(":")[-1]
        fields["CLOSED"] = "Y" if final in ("WON", "LOSE") else "N"
    deal.update(strings(fields))
    return True


def comment_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
    fields = mapping(params, "fields")
    kind = str(fields.get("ENTITY_TYPE", "")).lower()
    entity = to_int(fields.get("ENTITY_ID"))
    if not fields.get("COMMENT"):
        raise MethodError("INVALID_ARG_VALUE", "COMMENT is required")
    table = _COMMENT_TYPES.get(kind)
    if table is None or entity is None or entity not in getattr(portal.t, table):
        raise MethodError("NOT_FOUND", f"the {kind or 'entity'} {entity} is not found")
    comment_id = portal.next_id()
    portal.t.comments[comment_id] = {
        "ID": str(comment_id),
        "ENTITY_ID": str(entity),
        "ENTITY_TYPE": kind,
        "COMMENT": str(fields["COMMENT"]),
        "AUTHOR_ID": str(ctx.user_id),
    }
    return comment_id


def comment_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt = mapping(params, "filter")
    records = [r for r in portal.t.comments.values() if matches(r, flt)]
    ordered_records = ordered(records, mapping(params, "order"))
    return page([selected(r, param(params, "select")) for r in ordered_records], params)


def todo_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    owner_type = to_int(param(params, "ownerTypeId"))
    owner = require_int(params, "ownerId", MethodError("ERROR_WRONG_PARAMS", "ownerId is required"))
    if not param(params, "deadline"):
        raise MethodError("ERROR_WRONG_PARAMS", "deadline is required")
    table = {2: portal.t.deals, 4: portal.t.companies}.get(owner_type or 0)
    if table is None or owner not in table:
        raise MethodError("NOT_FOUND", f"the owner {owner_type}:{owner} is not found")
    todo_id = portal.next_id()
    portal.t.todos.append(
        {
            "id": todo_id,
            "ownerTypeId": owner_type,
            "ownerId": owner,
            "deadline": param(params, "deadline"),
            "title": param(params, "title", ""),
            "description": param(params, "description", ""),
            "responsibleId": to_int(param(params, "responsibleId")) or ctx.user_id,
        }
    )
    return {"id": todo_id}


METHODS: dict[str, tuple[str, Handler]] = {
    "crm.deal.get": ("crm", _classic_get("deals")),
    "crm.deal.list": ("crm", _classic_list("deals")),
    "crm.deal.update": ("crm", deal_update),
    "crm.deal.add": ("crm", deal_add),
    "crm.company.get": ("crm", _classic_get("companies")),
    "crm.company.list": ("crm", _classic_list("companies")),
    "crm.company.add": ("crm", company_add),
    "crm.requisite.list": ("crm", _classic_list("requisites")),
    "crm.timeline.comment.add": ("crm", comment_add),
    "crm.timeline.comment.list": ("crm", comment_list),
    "crm.item.add": ("crm", item_add),
    "crm.item.update": ("crm", item_update),
    "crm.item.get": ("crm", item_get),
    "crm.item.list": ("crm", item_list),
    "crm.activity.todo.add": ("crm", todo_add),
}
