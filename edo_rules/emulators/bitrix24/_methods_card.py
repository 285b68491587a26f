"""Emulated methods behind the CRM card: user fields, timeline log messages, company updates,
contacts, e-mail activities, smart-process types with relations, categories and stages.

Each behaviour follows the public REST docs (sources in docs/bitrix24.md):
``crm.timeline.logmessage.add`` requires entityTypeId, entityId, title, text
and iconCode and lists 10 entries a page, newest first; ``crm.type.*`` are
admin-only, take the settings id (not entityTypeId) in ``get``/``update``, and
a new type gets a default category; smart-process stage ids carry the prefix
``DT{entityTypeId}_{categoryId}:`` under ``ENTITY_ID`` ``DYNAMIC_{type}_STAGE_{category}``;
user field names get the ``UF_CRM_`` prefix and are at most 20 characters.
"""

from __future__ import annotations

import re
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
    selected,
    strings,
    to_int,
)
from edo_rules.emulators.bitrix24._portal import Portal
from edo_rules.emulators.bitrix24.card import COMPANY, CONTACT, DEAL, card

LOG_PAGE = 10
_UF_PREFIX = "UF_CRM_"
_UF_MAX = 20
_UF_TYPES = {"string", "enumeration", "url", "date", "datetime", "boolean", "integer", "double"}
_UF_ENTITY = {"deal": "CRM_DEAL", "company": "CRM_COMPANY"}
_DEFAULT_STAGES = (("NEW", "Начало", "P"), ("SUCCESS", "Успех", "S"), ("FAIL", "Провал", "F"))


# -- user fields -------------------------------------------------------------------------------
def _userfield_add(kind: str) -> Handler:
    def handler(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
        fields = mapping(params, "fields")
        name = str(fields.get("FIELD_NAME") or "").upper()
        if not name:
            raise legacy("FIELD_NAME is not defined")
        name = name if name.startswith(_UF_PREFIX) else _UF_PREFIX + name
        if len(name) > _UF_MAX or not re.fullmatch(r"UF_CRM_[A-Z0-9_]+", name):
            raise legacy(f"Invalid field name {name}: at most 20 characters A-Z, 0-9, _")
        user_type = str(fields.get("USER_TYPE_ID") or "")
        if user_type not in _UF_TYPES:
            raise legacy(f"Unknown USER_TYPE_ID '{user_type}'")
        tables = card(portal)
        entity = _UF_ENTITY[kind]
        if any(f["ENTITY_ID"] == entity and f["FIELD_NAME"] == name for f in _fields(portal)):
            raise legacy(f"A user field {name} already exists")
        field_id = portal.next_id()
        record = _userfield_record(portal, field_id, entity, name, {**fields, "_TYPE": user_type})
        tables.userfields[field_id] = record
        return field_id

    return handler


def _fields(portal: Portal) -> list[dict[str, Any]]:
    return list(card(portal).userfields.values())


def _userfield_record(
    portal: Portal, field_id: int, entity: str, name: str, fields: dict[str, Any]
) -> dict[str, Any]:
    user_type = fields["_TYPE"]
    label = fields.get("EDIT_FORM_LABEL") or fields.get("LABEL") or name
    record: dict[str, Any] = {
        "ID": str(field_id),
        "ENTITY_ID": entity,
        "FIELD_NAME": name,
        "USER_TYPE_ID": user_type,
        "XML_ID": fields.get("XML_ID"),
        "MULTIPLE": str(fields.get("MULTIPLE", "N")),
        "MANDATORY": str(fields.get("MANDATORY", "N")),
        "EDIT_FORM_LABEL": _label(label),
        "LIST_COLUMN_LABEL": _label(fields.get("LIST_COLUMN_LABEL") or label),
    }
    if user_type == "enumeration":
        values = fields.get("LIST")
        record["LIST"] = [
            {"ID": str(portal.next_id()), "VALUE": str(v.get("VALUE")), "XML_ID": v.get("XML_ID")}
            for v in (values if isinstance(values, list) else [])
            if isinstance(v, Mapping) and v.get("VALUE")
        ]
    return record


def _label(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else str(value)


def _userfield_list(kind: str) -> Handler:
    def handler(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> list[Any]:
        entity = _UF_ENTITY[kind]
        flt = mapping(params, "filter")
        found = [f for f in _fields(portal) if f["ENTITY_ID"] == entity and matches(f, flt)]
        return [dict(f) for f in ordered(found, mapping(params, "order"))]

    return handler


def company_update(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> bool:
    record = portal.t.companies.get(to_int(param(params, "id")) or 0)
    if record is None:
        raise legacy("Not found")
    record.update(strings(mapping(params, "fields")))
    return True


# -- timeline log messages ---------------------------------------------------------------------
def logmessage_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    fields = mapping(params, "fields")
    for name in ("entityTypeId", "entityId", "title", "text", "iconCode"):
        if fields.get(name) in (None, ""):
            raise MethodError("ERROR_REQUIRED_FIELD", f"Required field '{name}' is empty")
    entity_type, entity = to_int(fields["entityTypeId"]), to_int(fields["entityId"])
    if entity_type is None or entity is None or not _exists(portal, entity_type, entity):
        raise MethodError("NOT_FOUND", "Element not found", 400)
    message_id = portal.next_id()
    record = {
        "id": message_id,
        "created": "2026-01-01T00:00:00+03:00",
        "authorId": ctx.user_id,
        "title": str(fields["title"]),
        "text": str(fields["text"]),
        "iconCode": str(fields["iconCode"]),
        "entityTypeId": entity_type,
        "entityId": entity,
    }
    card(portal).logmessages[message_id] = record
    return {"logMessage": _public(record)}


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("id", "created", "authorId", "title", "text", "iconCode")}


def _exists(portal: Portal, entity_type: int, entity: int) -> bool:
    tables: dict[int, Mapping[int, Any]] = {
        DEAL: portal.t.deals,
        COMPANY: portal.t.companies,
        CONTACT: card(portal).contacts,
    }
    table = tables.get(entity_type) or portal.t.items.get(entity_type)
    return table is not None and entity in table


def logmessage_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    entity_type, entity = to_int(param(params, "entityTypeId")), to_int(param(params, "entityId"))
    if entity_type is None or entity is None:
        raise MethodError("ERROR_REQUIRED_FIELD", "entityTypeId and entityId are required")
    found = [
        m
        for m in card(portal).logmessages.values()
        if m["entityTypeId"] == entity_type and m["entityId"] == entity
    ]
    order = {str(k).lower(): v for k, v in mapping(params, "order").items()} or {"id": "desc"}
    records = ordered(found, {k: v for k, v in order.items() if k in ("id", "created")})
    start = to_int(param(params, "start", 0)) or 0
    chunk = records[start : start + LOG_PAGE]
    more = start + LOG_PAGE < len(records)
    return ListResult(
        {"logMessages": [_public(m) for m in chunk]},
        len(records),
        start + LOG_PAGE if more else None,
    )


def logmessage_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    record = card(portal).logmessages.get(to_int(param(params, "id")) or 0)
    if record is None:
        raise MethodError("NOT_FOUND", "Element not found")
    return {"logMessage": _public(record)}


# -- contacts and e-mail activities ------------------------------------------------------------
def contact_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    record = card(portal).contacts.get(to_int(param(params, "id")) or 0)
    if record is None:
        raise legacy("Not found")
    return dict(record)


def contact_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt = mapping(params, "filter")
    found = [c for c in card(portal).contacts.values() if matches(c, flt)]
    select = param(params, "select")
    return page([selected(c, select) for c in ordered(found, mapping(params, "order"))], params)


def deal_contacts(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> list[Any]:
    deal = to_int(param(params, "id"))
    if deal is None or deal not in portal.t.deals:
        raise legacy("Not found")
    bound = card(portal).deal_contacts.get(deal, [])
    return [
        {"CONTACT_ID": c, "SORT": 10 * (n + 1), "ROLE_ID": 0, "IS_PRIMARY": "Y" if n == 0 else "N"}
        for n, c in enumerate(bound)
    ]


def activity_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
    fields = mapping(params, "fields")
    owner_type, owner = to_int(fields.get("OWNER_TYPE_ID")), to_int(fields.get("OWNER_ID"))
    if owner_type is None or owner is None or not _exists(portal, owner_type, owner):
        raise legacy("Owner is not found")
    if to_int(fields.get("TYPE_ID")) is None:
        raise legacy("TYPE_ID is not defined")
    communications = fields.get("COMMUNICATIONS")
    if not isinstance(communications, list) or not communications:
        raise legacy("COMMUNICATIONS is not defined")
    if to_int(fields.get("TYPE_ID")) == 4 and not all(_is_email(c) for c in communications):
        raise legacy("Invalid e-mail in COMMUNICATIONS")
    activity_id = portal.next_id()
    record = {"ID": str(activity_id), "AUTHOR_ID": str(ctx.user_id), **fields}
    record["ID"] = str(activity_id)
    card(portal).activities[activity_id] = record
    return activity_id


def _todo_activity(todo: Mapping[str, Any]) -> dict[str, Any]:
    """A to-do as ``crm.activity.list`` shows it: a universal activity (PROVIDER_ID
    CRM_TODO, the docs' filter for to-dos) whose SUBJECT is the title."""
    return {
        "ID": str(todo["id"]),
        "OWNER_TYPE_ID": str(todo["ownerTypeId"]),
        "OWNER_ID": str(todo["ownerId"]),
        "PROVIDER_ID": "CRM_TODO",
        "PROVIDER_TYPE_ID": "CRM_TODO",
        "SUBJECT": todo["title"],
        "DESCRIPTION": todo["description"],
        "DEADLINE": todo["deadline"],
        "RESPONSIBLE_ID": str(todo["responsibleId"]),
    }


def _is_email(communication: Any) -> bool:
    value = communication.get("VALUE") if isinstance(communication, Mapping) else None
    return isinstance(value, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None


def activity_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt = mapping(params, "filter")
    every = [*card(portal).activities.values(), *(_todo_activity(t) for t in portal.t.todos)]
    found = [a for a in every if matches(a, flt)]
    select = param(params, "select")
    return page([selected(a, select) for a in ordered(found, mapping(params, "order"))], params)


# -- smart-process types, categories, stages ---------------------------------------------------
def _admin(portal: Portal, ctx: CallContext) -> None:
    user = portal.t.users.get(ctx.user_id)
    if ctx.webhook and not (user and user.get("IS_ADMIN")):
        raise MethodError("ACCESS_DENIED", "Access denied", 403)


def type_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    _admin(portal, ctx)
    fields = mapping(params, "fields")
    if not fields.get("title"):
        raise MethodError("ERROR_REQUIRED_FIELD", "Required field 'title' is empty")
    tables = card(portal)
    wanted = to_int(fields.get("entityTypeId"))
    taken = {t["entityTypeId"] for t in tables.types.values()} | set(portal.t.items)
    if wanted is not None and (wanted < 1030 or wanted in taken):
        raise MethodError("ERROR_VALUE", f"entityTypeId {wanted} is taken or out of range")
    entity_type = wanted or max([1030, *taken]) + 2
    settings_id = portal.next_id()
    record = {
        "id": settings_id,
        "title": str(fields["title"]),
        "entityTypeId": entity_type,
        "isStagesEnabled": _yn(fields.get("isStagesEnabled", "Y")),
        "isCategoriesEnabled": _yn(fields.get("isCategoriesEnabled", "N")),
        "isClientEnabled": _yn(fields.get("isClientEnabled", "N")),
        "relations": _relations(fields.get("relations")),
    }
    tables.types[settings_id] = record
    portal.t.items[entity_type] = {}
    _default_category(portal, entity_type)
    return {"type": dict(record)}


def _yn(value: Any) -> str:
    return "Y" if value in (True, "Y", "y", 1, "1", "true") else "N"


def _relations(value: Any) -> dict[str, list[dict[str, Any]]]:
    source = value if isinstance(value, Mapping) else {}
    result: dict[str, list[dict[str, Any]]] = {}
    for side in ("parent", "child"):
        items = source.get(side)
        result[side] = [
            {
                "entityTypeId": to_int(r.get("entityTypeId")),
                "isChildrenListEnabled": _yn(r.get("isChildrenListEnabled", "N")),
                "isPredefined": "N",
            }
            for r in (items if isinstance(items, list) else [])
            if isinstance(r, Mapping) and to_int(r.get("entityTypeId"))
        ]
    return result


def _default_category(portal: Portal, entity_type: int) -> None:
    tables = card(portal)
    category = portal.next_id()
    tables.categories[category] = {
        "id": category,
        "name": "Общая",
        "sort": 500,
        "entityTypeId": entity_type,
        "isDefault": "Y",
    }
    entity = f"DYNAMIC_{entity_type}_STAGE_{category}"
    for n, (code, name, semantics) in enumerate(_DEFAULT_STAGES):
        status_id = portal.next_id()
        tables.statuses[status_id] = {
            "ID": str(status_id),
            "ENTITY_ID": entity,
            "STATUS_ID": f"DT{entity_type}_{category}:{code}",
            "NAME": name,
            "SORT": str(10 * (n + 1)),
            "SEMANTICS": semantics,
        }


def _stage_prefix(entity: str) -> str:
    match = re.fullmatch(r"DYNAMIC_(\d+)_STAGE_(\d+)", entity)
    return f"DT{match.group(1)}_{match.group(2)}" if match else ""


def _type_by_id(portal: Portal, params: Mapping[str, Any]) -> dict[str, Any]:
    record = card(portal).types.get(to_int(param(params, "id")) or 0)
    if record is None:
        raise MethodError("NOT_FOUND", "Smart process settings are not found")
    return record


def type_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    return {"type": dict(_type_by_id(portal, params))}


def type_update(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    _admin(portal, ctx)
    record = _type_by_id(portal, params)
    fields = mapping(params, "fields")
    if "title" in fields:
        record["title"] = str(fields["title"])
    if "relations" in fields:
        record["relations"] = _relations(fields["relations"])
    return {"type": dict(record)}


def type_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt = mapping(params, "filter")
    found = [t for t in card(portal).types.values() if matches(t, flt)]
    result = page([dict(t) for t in ordered(found, {"id": "ASC"})], params)
    return ListResult({"types": result.result}, result.total, result.next)


def category_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    entity_type = to_int(param(params, "entityTypeId"))
    if entity_type is None or entity_type not in portal.t.items:
        raise MethodError("NOT_FOUND", f"entityTypeId {entity_type} is not found")
    found = [c for c in card(portal).categories.values() if c["entityTypeId"] == entity_type]
    return ListResult({"categories": [dict(c) for c in found]}, len(found), None)


def status_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> list[Any]:
    flt = mapping(params, "filter")
    found = [s for s in card(portal).statuses.values() if matches(s, flt)]
    return [dict(s) for s in ordered(found, mapping(params, "order") or {"SORT": "ASC"})]


def status_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
    fields = mapping(params, "fields")
    entity, status, name = (str(fields.get(k) or "") for k in ("ENTITY_ID", "STATUS_ID", "NAME"))
    if not entity or not status or not name:
        raise legacy("ENTITY_ID, STATUS_ID and NAME are required")
    prefix = _stage_prefix(entity)
    if not prefix or _category(portal, entity) is None:
        raise legacy(f"Unknown ENTITY_ID '{entity}'")
    if not status.startswith(prefix + ":"):
        raise legacy(f"STATUS_ID must start with {prefix}:")
    if any(s["STATUS_ID"] == status for s in card(portal).statuses.values()):
        raise legacy(f"Status {status} already exists")
    status_id = portal.next_id()
    card(portal).statuses[status_id] = {
        "ID": str(status_id),
        "ENTITY_ID": entity,
        "STATUS_ID": status,
        "NAME": name,
        "SORT": str(to_int(fields.get("SORT")) or 500),
        "SEMANTICS": str(fields.get("SEMANTICS") or "P"),
    }
    return status_id


def _category(portal: Portal, entity: str) -> dict[str, Any] | None:
    match = re.fullmatch(r"DYNAMIC_(\d+)_STAGE_(\d+)", entity)
    if match is None:
        return None
    found = card(portal).categories.get(int(match.group(2)))
    return found if found and found["entityTypeId"] == int(match.group(1)) else None


# -- userfieldconfig (smart-process user fields) ---------------------------------------
_SPA_ENTITY = re.compile(r"CRM_(\d+)")


def ufconfig_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    if str(param(params, "moduleId") or "") != "crm":
        raise MethodError("ERROR_REQUIRED_FIELD", "moduleId is required ('crm')")
    fields = mapping(params, "field")
    entity, name = str(fields.get("entityId") or ""), str(fields.get("fieldName") or "")
    match = _SPA_ENTITY.fullmatch(entity)
    if match is None or to_int(match.group(1)) not in card(portal).types:
        raise MethodError("ERROR_VALUE", f"Unknown entityId '{entity}'")
    if not name.startswith(f"UF_{entity}_") or len(name) > 50 or not name.isupper():
        raise MethodError("ERROR_VALUE", f"fieldName must be UF_{entity}_<CODE>, at most 50")
    if str(fields.get("userTypeId") or "") not in _UF_TYPES:
        raise MethodError("ERROR_VALUE", "Unknown userTypeId")
    if any(f["fieldName"] == name for f in card(portal).spa_fields.values()):
        raise MethodError("ERROR_VALUE", f"Field {name} already exists")
    field_id = portal.next_id()
    record = {
        "id": str(field_id),
        "entityId": entity,
        "fieldName": name,
        "userTypeId": str(fields["userTypeId"]),
        "multiple": _yn(fields.get("multiple", "N")),
        "editFormLabel": _label(fields.get("editFormLabel") or {}),
    }
    card(portal).spa_fields[field_id] = record
    return {"field": dict(record)}


def ufconfig_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    if str(param(params, "moduleId") or "") != "crm":
        raise MethodError("ERROR_REQUIRED_FIELD", "moduleId is required ('crm')")
    flt = mapping(params, "filter")
    found = [f for f in card(portal).spa_fields.values() if matches(f, flt)]
    result = page([dict(f) for f in ordered(found, {"id": "ASC"})], params)
    return ListResult({"fields": result.result}, result.total, result.next)


METHODS: dict[str, tuple[str, Handler]] = {
    "userfieldconfig.add": ("userfieldconfig", ufconfig_add),
    "userfieldconfig.list": ("userfieldconfig", ufconfig_list),
    "crm.deal.userfield.add": ("crm", _userfield_add("deal")),
    "crm.deal.userfield.list": ("crm", _userfield_list("deal")),
    "crm.company.userfield.add": ("crm", _userfield_add("company")),
    "crm.company.userfield.list": ("crm", _userfield_list("company")),
    "crm.company.update": ("crm", company_update),
    "crm.timeline.logmessage.add": ("crm", logmessage_add),
    "crm.timeline.logmessage.list": ("crm", logmessage_list),
    "crm.timeline.logmessage.get": ("crm", logmessage_get),
    "crm.contact.get": ("crm", contact_get),
    "crm.contact.list": ("crm", contact_list),
    "crm.deal.contact.items.get": ("crm", deal_contacts),
    "crm.activity.add": ("crm", activity_add),
    "crm.activity.list": ("crm", activity_list),
    "crm.type.add": ("crm", type_add),
    "crm.type.get": ("crm", type_get),
    "crm.type.update": ("crm", type_update),
    "crm.type.list": ("crm", type_list),
    "crm.category.list": ("crm", category_list),
    "crm.status.list": ("crm", status_list),
    "crm.status.add": ("crm", status_add),
}
