"""Emulated stage lists (``crm.status.list``) and task comments (``task.commentitem.*``).

Facts reproduced (docs/bitrix24.md and the public REST reference):

* ``crm.status.list`` with ``filter[ENTITY_ID]`` ``DEAL_STAGE`` (the default
  pipeline) or ``DEAL_STAGE_{categoryId}`` lists a pipeline's stages with
  ``STATUS_ID``, ``NAME``, ``SORT`` (their order) and ``SEMANTICS`` (``S``
  success, ``F`` failure, empty while in progress);
* ``task.commentitem.add`` takes ``TASKID`` and ``FIELDS`` (``POST_MESSAGE``),
  in that order, and answers the new comment's id; ``task.commentitem.getlist``
  takes ``TASKID`` and lists the comments with ``ID`` and ``POST_MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edo_rules.emulators.bitrix24 import _methods_card
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
    to_int,
)
from edo_rules.emulators.bitrix24._portal import Portal

_SEMANTICS = {"WON": "S", "LOSE": "F", "APOLOGY": "F"}


def _stage_rows(portal: Portal) -> list[dict[str, Any]]:
    rows = []
    for category, stages in sorted(portal.t.pipelines.items()):
        entity = "DEAL_STAGE" if category == 0 else f"DEAL_STAGE_{category}"
        for index, stage in enumerate(stages):
            rows.append(
                {
                    "ID": str(category * 1000 + index + 1),
                    "ENTITY_ID": entity,
                    "STATUS_ID": stage,
                    "NAME": stage.split(":")[-1].replace("_", " ").title(),
                    "SORT": str((index + 1) * 10),
                    "SEMANTICS": _SEMANTICS.get(stage.split(":")[-1]),
                    "CATEGORY_ID": str(category),
                }
            )
    return rows


def status_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> ListResult:
    """Deal pipelines' stages, and the smart-process stages added with ``crm.status.add``."""
    flt = mapping(params, "filter")
    records = [r for r in _stage_rows(portal) if matches(r, flt)]
    records += _methods_card.status_list(portal, params, ctx)
    order = mapping(params, "order") or {"SORT": "ASC"}
    return page(ordered(records, order), params)


def _task(portal: Portal, params: Mapping[str, Any]) -> int:
    task_id = to_int(param(params, "TASKID"))
    if task_id is None or task_id not in portal.t.tasks:
        raise MethodError("ERROR_CORE", f"Task {task_id} not found or not accessible<br>")
    return task_id


def comment_item_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
    task_id = _task(portal, params)
    fields = mapping(params, "FIELDS")
    if not fields.get("POST_MESSAGE"):
        raise MethodError("ERROR_CORE", "Comment text is not specified<br>")
    comment_id = portal.next_id()
    portal.t.task_comments.setdefault(task_id, []).append(
        {
            "ID": str(comment_id),
            "AUTHOR_ID": str(fields.get("AUTHOR_ID", ctx.user_id)),
            "POST_MESSAGE": str(fields["POST_MESSAGE"]),
        }
    )
    return comment_id


def comment_item_list(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> list[Any]:
    task_id = _task(portal, params)
    return [dict(c) for c in portal.t.task_comments.get(task_id, [])]


METHODS: dict[str, tuple[str, Handler]] = {
    "crm.status.list": ("crm", status_list),
    "task.commentitem.add": ("tasks", comment_item_add),
    "task.commentitem.getlist": ("tasks", comment_item_list),
}
