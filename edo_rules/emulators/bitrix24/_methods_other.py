"""Emulated methods outside the CRM: notifications, tasks, lists, bizproc, users, departments."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from edo_rules.emulators.bitrix24._common import (
    CallContext,
    Handler,
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
from edo_rules.emulators.bitrix24._portal import Portal


# -- notifications ------------------------------------------------------------------------
def _notify(kind: str) -> Handler:
    def handler(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
        user = to_int(param(params, "USER_ID"))
        if not user:
            raise MethodError("USER_ID_EMPTY", "Recipient ID can't be empty")
        if not param(params, "MESSAGE"):
            raise MethodError("MESSAGE_EMPTY", "Message can't be empty")
        tag = _tag(params, ctx)
        note = {
            "id": portal.next_id(),
            "kind": kind,
            "user_id": user,
            "message": str(param(params, "MESSAGE")),
            "tag": param(params, "TAG"),
            "tag_key": tag,
            "deleted": False,
            "author_id": ctx.user_id,
        }
        if tag is not None:
            earlier = portal.t.tagged.get(tag)
            if earlier is not None:
                earlier["deleted"] = True  # a new notification with the same TAG replaces it
            portal.t.tagged[tag] = note
        portal.t.notifications.append(note)
        return int(note["id"])

    return handler


def _tag(params: Mapping[str, Any], ctx: CallContext) -> str | None:
    tag = param(params, "TAG")
    if not tag:
        return None
    client = ctx.client_id if not ctx.webhook else param(params, "CLIENT_ID")
    if not client:
        raise MethodError(
            "WRONG_AUTH_TYPE",
            "Get access to browser const: a webhook needs CLIENT_ID to use TAG",
            403,
        )
    return f"{client}|{tag}"


# -- tasks -----------------------------------------------------------------------------------------
_TASK_FIELDS = {
    "TITLE": "title",
    "RESPONSIBLE_ID": "responsibleId",
    "DESCRIPTION": "description",
    "DEADLINE": "deadline",
    "XML_ID": "xmlId",
    "CREATED_BY": "createdBy",
    "GROUP_ID": "groupId",
    "UF_CRM_TASK": "ufCrmTask",
    "AUDITORS": "auditors",
    "ID": "id",
}


def _camel(name: str) -> str:
    if name in _TASK_FIELDS:
        return _TASK_FIELDS[name]
    head, *rest = name.lower().split("_")
    return head + "".join(p.title() for p in rest)


def task_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
    fields = mapping(params, "fields")
    if not fields.get("TITLE"):
        raise MethodError("ERROR_CORE", "Task title is not specified<br>")
    responsible = to_int(fields.get("RESPONSIBLE_ID"))
    if responsible is None:
        raise MethodError("ERROR_CORE", "Assignee is not specified<br>")
    if responsible not in portal.t.users:
        raise MethodError("ERROR_CORE", f"User {responsible} not found<br>")
    task_id = portal.next_id()
    task = {_camel(k): v for k, v in fields.items()}
    task.update(
        {
            "id": str(task_id),
            "responsibleId": str(responsible),
            "status": "2",
            "createdBy": str(fields.get("CREATED_BY", ctx.user_id)),
        }
    )
    portal.t.tasks[task_id] = task
    return {"task": dict(task)}


def task_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt, select = mapping(params, "filter"), param(params, "select")
    records = [t for t in portal.t.tasks.values() if matches(t, flt, rename=_camel)]
    camel_select = [_camel(str(s)) for s in select] if isinstance(select, list) else None
    result = page([selected(t, camel_select) for t in ordered(records, {"id": "ASC"})], params)
    return ListResult({"tasks": result.result}, result.total, result.next)


# -- universal lists -------------------------------------------------------------------------------
def _iblock(portal: Portal, params: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    return portal.t.elements[_iblock_id(portal, params)]


def _iblock_id(portal: Portal, params: Mapping[str, Any]) -> int:
    if str(param(params, "IBLOCK_TYPE_ID", "")) not in (
        "lists",
        "bitrix_processes",
        "lists_socnet",
    ):
        raise MethodError("ERROR_IBLOCK_TYPE_ID", "IBLOCK_TYPE_ID is wrong or missing")
    iblock_id = to_int(param(params, "IBLOCK_ID"))
    code = param(params, "IBLOCK_CODE")
    if iblock_id is None and code:
        iblock_id = next((i for i, c in portal.t.iblocks.items() if c == code), None)
    if iblock_id is None or iblock_id not in portal.t.iblocks:
        raise MethodError("ERROR_IBLOCK_NOT_FOUND", "Iblock not found")
    return iblock_id


def field_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> Any:
    """``lists.field.get``: the list's fields keyed by FIELD_ID (a property's is
    ``PROPERTY_<id>``); with ``FIELD_ID`` only that one, or ``[]`` when there is none."""
    fields = portal.t.list_fields.get(_iblock_id(portal, params), {})
    wanted = param(params, "FIELD_ID")
    if wanted:
        found = fields.get(str(wanted))
        return [] if found is None else {str(wanted): dict(found)}
    return {field_id: dict(record) for field_id, record in fields.items()}


def _element_fields(portal: Portal, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = mapping(params, "FIELDS")
    if not fields.get("NAME"):
        raise MethodError("ERROR_ADD_ELEMENT", "Поле «Название» обязательно для заполнения")
    stored: dict[str, Any] = {"NAME": str(fields["NAME"])}
    for key, value in fields.items():
        if re.fullmatch(r"PROPERTY_\w+", key):
            stored[key] = _property_values(portal, value)
    return stored


def _property_values(portal: Portal, value: Any) -> dict[str, str]:
    """Property values are stored and returned as maps ``{"<value id>": "<value>"}``."""
    if isinstance(value, Mapping):
        values = list(value.values())
    else:
        values = value if isinstance(value, list) else [value]
    return {str(portal.next_id()): str(v) for v in values if v is not None and str(v) != ""}


def element_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
    table = _iblock(portal, params)
    code = param(params, "ELEMENT_CODE")
    if not code:
        raise MethodError("ERROR_ELEMENT_CODE", "ELEMENT_CODE is required")
    key = (_iblock_id(portal, params), str(code))
    if key in portal.t.element_codes:
        raise MethodError("ERROR_ELEMENT_ALREADY_EXISTS", "Element with this code already exists")
    element_id = portal.next_id()
    table[element_id] = {
        "ID": str(element_id),
        "CODE": str(code),
        **_element_fields(portal, params),
    }
    portal.t.element_codes[key] = element_id
    return element_id


def element_update(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> bool:
    table = _iblock(portal, params)
    element = _find_element(portal, params)
    if element is None:
        raise MethodError("ERROR_ELEMENT_NOT_FOUND", "Element not found")
    fields = _element_fields(portal, params)
    # update REPLACES the element: properties not sent are cleared
    table[int(element["ID"])] = {"ID": element["ID"], "CODE": element["CODE"], **fields}
    return True


def element_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    table = _iblock(portal, params)
    if param(params, "ELEMENT_CODE") or param(params, "ELEMENT_ID"):
        found = _find_element(portal, params)
        return ListResult([dict(found)] if found else [], 1 if found else 0, None)
    return page([dict(e) for e in ordered(table.values(), {"ID": "ASC"})], params)


def _find_element(portal: Portal, params: Mapping[str, Any]) -> dict[str, Any] | None:
    iblock_id = _iblock_id(portal, params)
    table = portal.t.elements[iblock_id]
    code, element_id = param(params, "ELEMENT_CODE"), to_int(param(params, "ELEMENT_ID"))
    if element_id is None:
        element_id = portal.t.element_codes.get((iblock_id, str(code)))
    return None if element_id is None else table.get(element_id)


# -- bizproc, users, departments --------------------------------------------------
_DOCUMENT_TABLES = {
    "CCrmDocumentDeal": ("DEAL_", "deals"),
    "CCrmDocumentCompany": ("COMPANY_", "companies"),
}


def workflow_start(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> str:
    user = portal.t.users.get(ctx.user_id)
    if ctx.webhook and not (user and user.get("IS_ADMIN")):
        raise MethodError(
            "ACCESS_DENIED", "Access denied! Only an administrator can start workflows", 403
        )
    template = to_int(param(params, "TEMPLATE_ID"))
    if template not in portal.t.templates:
        raise MethodError("ERROR_TEMPLATE_NOT_FOUND", "Workflow template not found")
    document = param(params, "DOCUMENT_ID")
    if not _document_exists(portal, document):
        raise MethodError("ERROR_WRONG_DOCUMENT_ID", "Wrong document ID")
    workflow_id = f"{portal.next_id():08x}.{template}"
    portal.t.workflows.append(
        {
            "id": workflow_id,
            "template_id": template,
            "document_id": list(document),
            "parameters": mapping(params, "PARAMETERS"),
        }
    )
    return workflow_id


def _document_exists(portal: Portal, document: Any) -> bool:
    if not isinstance(document, list) or len(document) != 3:
        return False
    prefix, table = _DOCUMENT_TABLES.get(str(document[1]), ("?", ""))
    text = str(document[2])
    return (
        bool(table)
        and text.startswith(prefix)
        and to_int(text[len(prefix) :]) in getattr(portal.t, table)
    )


def user_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt = {k: v for k, v in params.items() if k.upper() not in ("FILTER", "SORT", "ORDER", "START")}
    flt.update(mapping(params, "FILTER"))
    return page([dict(u) for u in ordered(portal.t.users.values(), {}) if matches(u, flt)], params)


def department_get(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    flt = {k: v for k, v in params.items() if k.upper() not in ("SORT", "ORDER", "START")}
    return page(
        [dict(d) for d in ordered(portal.t.departments.values(), {}) if matches(d, flt)], params
    )


METHODS: dict[str, tuple[str, Handler]] = {
    "im.notify.system.add": ("im", _notify("system")),
    "im.notify.personal.add": ("im", _notify("personal")),
    "tasks.task.add": ("tasks", task_add),
    "tasks.task.list": ("tasks", task_list),
    "lists.element.add": ("lists", element_add),
    "lists.element.update": ("lists", element_update),
    "lists.element.get": ("lists", element_get),
    "lists.field.get": ("lists", field_get),
    "bizproc.workflow.start": ("bizproc", workflow_start),
    "user.get": ("user", user_get),
    "department.get": ("department", department_get),
}
