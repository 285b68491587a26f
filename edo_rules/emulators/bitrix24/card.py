"""The emulated portal's card-related data: user fields, log messages, smart-process types,
stages, contacts and activities — kept beside the :class:`Portal` so its tables stay as they are.

:func:`card` gives the tables of one portal (created on first use); the seeding
and inspection helpers take the portal's lock like the portal's own methods.
"""

from __future__ import annotations

import copy
import weakref
from dataclasses import dataclass, field
from typing import Any

from edo_rules.emulators.bitrix24._portal import Portal

#: Owner type ids of the classic CRM entities (crm.enum.ownertype).
DEAL, CONTACT, COMPANY = 2, 3, 4


@dataclass
class CardTables:
    userfields: dict[int, dict[str, Any]] = field(default_factory=dict)
    logmessages: dict[int, dict[str, Any]] = field(default_factory=dict)
    types: dict[int, dict[str, Any]] = field(default_factory=dict)
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    deal_contacts: dict[int, list[int]] = field(default_factory=dict)
    activities: dict[int, dict[str, Any]] = field(default_factory=dict)
    spa_fields: dict[int, dict[str, Any]] = field(default_factory=dict)  # userfieldconfig


_TABLES: weakref.WeakKeyDictionary[Portal, CardTables] = weakref.WeakKeyDictionary()


def card(portal: Portal) -> CardTables:
    """The card tables of ``portal`` (made on first use)."""
    with portal.lock:
        tables = _TABLES.get(portal)
        if tables is None:
            tables = _TABLES[portal] = CardTables()
        return tables


# -- seeding ---------------------------------------------------------------------------------
def add_contact(
    portal: Portal,
    name: str,
    *,
    emails: list[str] | None = None,
    company_id: int | None = None,
    deal_ids: list[int] | None = None,
) -> int:
    """A contact (with EMAIL multi-field values), bound to a company and to deals."""
    with portal.lock:
        contact_id = portal.next_id()
        first, _, last = name.partition(" ")
        record: dict[str, Any] = {
            "ID": str(contact_id),
            "NAME": first,
            "LAST_NAME": last,
            "COMPANY_ID": str(company_id or 0),
            "ASSIGNED_BY_ID": "1",
            "HAS_EMAIL": "Y" if emails else "N",
        }
        if emails:
            record["EMAIL"] = [
                {"ID": str(portal.next_id()), "VALUE_TYPE": "WORK", "VALUE": e, "TYPE_ID": "EMAIL"}
                for e in emails
            ]
        tables = card(portal)
        tables.contacts[contact_id] = record
        for deal in deal_ids or []:
            tables.deal_contacts.setdefault(deal, []).append(contact_id)
        return contact_id


def set_user_email(portal: Portal, user_id: int, email: str) -> None:
    with portal.lock:
        portal.t.users[user_id]["EMAIL"] = email


# -- inspection ---------------------------------------------------------------------------------
def logmessages(portal: Portal, entity_type_id: int, entity_id: int) -> list[dict[str, Any]]:
    """Log messages of one CRM record, oldest first."""
    with portal.lock:
        found = [
            m
            for m in card(portal).logmessages.values()
            if m["entityTypeId"] == entity_type_id and m["entityId"] == entity_id
        ]
        return copy.deepcopy(sorted(found, key=lambda m: int(m["id"])))


def activities(portal: Portal) -> list[dict[str, Any]]:
    with portal.lock:
        return copy.deepcopy(list(card(portal).activities.values()))


def userfields(portal: Portal) -> list[dict[str, Any]]:
    with portal.lock:
        return copy.deepcopy(list(card(portal).userfields.values()))


def types(portal: Portal) -> list[dict[str, Any]]:
    with portal.lock:
        return copy.deepcopy(list(card(portal).types.values()))


def stages(portal: Portal, entity_id: str) -> list[dict[str, Any]]:
    with portal.lock:
        found = [s for s in card(portal).statuses.values() if s["ENTITY_ID"] == entity_id]
        return copy.deepcopy(sorted(found, key=lambda s: int(s["SORT"])))


def company(portal: Portal, company_id: int) -> dict[str, Any]:
    with portal.lock:
        return copy.deepcopy(portal.t.companies[company_id])


def snapshot(portal: Portal) -> dict[str, Any]:
    """Everything setup may write, for "nothing was written" checks."""
    with portal.lock:
        tables = card(portal)
        return copy.deepcopy(
            {
                "userfields": tables.userfields,
                "types": tables.types,
                "categories": tables.categories,
                "statuses": tables.statuses,
                "spa_fields": tables.spa_fields,
                "items": {k: len(v) for k, v in portal.t.items.items()},
            }
        )


def spa_fields(portal: Portal) -> list[dict[str, Any]]:
    """Smart-process user fields made through ``userfieldconfig.add``."""
    with portal.lock:
        return copy.deepcopy(list(card(portal).spa_fields.values()))
