"""JSON Schemas of the Bitrix24 actions' playbook parameters (checked by ``validate``).

String values are templates rendered by the engine before a request is written
to the outbox, so a schema only constrains their type and presence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: ``responsible``, ``head_of_responsible`` or an explicit Bitrix24 user id.
RECIPIENT: Mapping[str, Any] = {
    "description": "responsible, head_of_responsible, accounting or a Bitrix24 user id",
    "oneOf": [
        {"enum": ["responsible", "head_of_responsible", "accounting"]},
        {"type": "integer", "minimum": 1},
    ],
}

#: A duration such as "1 working day", "2 days", "4 hours", "3 рабочих дня".
DURATION: Mapping[str, Any] = {
    "type": "string",
    "pattern": r"^\s*\d+\s*\S+",
    "description": "a duration such as '1 working day', '2 days', '4 hours'",
}

_TEXT: Mapping[str, Any] = {"type": "string", "minLength": 1}


def _object(properties: Mapping[str, Any], *required: str) -> Mapping[str, Any]:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(required),
        "additionalProperties": False,
    }


NOTIFY = _object(
    {
        "to": RECIPIENT,
        "text": _TEXT,
        "tag": {"type": "string", "maxLength": 100},
        "delivery": {
            "enum": ["now", "digest"],
            "description": "now (default) or in the recipient's daily digest",
        },
    },
    "to",
    "text",
)

TASK = _object(
    {
        "responsible": RECIPIENT,
        "title": _TEXT,
        "description": {"type": "string"},
        "deadline": DURATION,
        "auditors": {"type": "array", "items": RECIPIENT},
    },
    "responsible",
    "title",
)

COMMENT = _object({"text": _TEXT, "on": {"enum": ["deal", "company"]}}, "text")

DEAL_STAGE = _object(
    {
        "stage": {
            "type": "string",
            "pattern": r"^(C\d+:)?[A-Z0-9_]+$",
            "description": "a stage id such as 'WON' or 'C1:PREPAYMENT_INVOICE'",
        },
        "allow_backward": {
            "type": "boolean",
            "description": "move the deal even when it is at a later stage (default: false)",
        },
    },
    "stage",
)

TODO = _object(
    {
        "title": _TEXT,
        "description": {"type": "string"},
        "deadline": DURATION,
        "responsible": RECIPIENT,
        "on": {"enum": ["deal", "company"]},
    },
    "title",
    "deadline",
)

INVOICE = _object(
    {
        "title": {"type": "string"},
        "amount": {
            "oneOf": [
                {"const": "from_document"},
                {"type": "number", "exclusiveMinimum": 0},
            ]
        },
        "stage": {"type": "string"},
    }
)

WORKFLOW = _object(
    {
        "template_id": {"type": "integer", "minimum": 1},
        "on": {"enum": ["deal", "company"]},
        "parameters": {"type": "object"},
    },
    "template_id",
)

MIRROR = _object(
    {
        "target": {"enum": ["list", "smart_process"]},
        "overdue": {"type": "boolean"},
    }
)

CARD_STATUS = _object({"on": {"enum": ["deal", "company", "both"]}})

TIMELINE = _object(
    {
        "title": _TEXT,
        "text": _TEXT,
        "icon": {"type": "string", "pattern": r"^[a-z0-9_-]{1,50}$"},
        "on": {"enum": ["deal", "company"]},
    },
    "title",
    "text",
)

REMIND = _object(
    {
        "subject": {"type": "string"},
        "text": _TEXT,
        "every": DURATION,
        "no_email": {"enum": ["task", "fail"]},
        "on": {"enum": ["deal", "company"]},
    },
    "text",
)
