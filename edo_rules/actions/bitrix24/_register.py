"""The smart-process document register: one stage per canonical status, named in Russian.

Stage ids follow the portal's rule for smart processes: ``ENTITY_ID``
``DYNAMIC_{entityTypeId}_STAGE_{categoryId}`` and ``STATUS_ID`` prefixed with
``DT{entityTypeId}_{categoryId}:``.
"""

from __future__ import annotations

from typing import Final

from edo_rules import ru
from edo_rules.model import Status

#: The stage code of each status (the part after the ``DT…:`` prefix).
STAGE_CODES: Final[dict[Status, str]] = {
    Status.DRAFT: "EDO_DRAFT",
    Status.AWAITING_OUR_SIGNATURE: "EDO_OUR_SIGN",
    Status.SENT: "EDO_SENT",
    Status.SIGNED: "EDO_SIGNED",
    Status.SIGNED_WITH_CORRECTIONS: "EDO_SIGNED_CORR",
    Status.REJECTED: "EDO_REJECTED",
    Status.REVOKED: "EDO_REVOKED",
    Status.CLOSED: "EDO_CLOSED",
    Status.ERROR: "EDO_ERROR",
    Status.UNKNOWN: "EDO_UNKNOWN",
}


def stage_entity(entity_type_id: int, category_id: int) -> str:
    return f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"


def stage_id(entity_type_id: int, category_id: int, status: Status) -> str:
    return f"DT{entity_type_id}_{category_id}:{STAGE_CODES[status]}"


def stage_name(status: Status) -> str:
    """«Ждёт подписи контрагента» — the stage title a manager sees in the register."""
    text = ru.STATUS_LABELS[status]
    return text[:1].upper() + text[1:]
