"""Both emulators describing one business, as a real deployment's 1C and Bitrix24 do.

:func:`wire` copies what the 1C base knows into the portal: every 1C user
becomes a Bitrix24 user in a sales department (with a head, under a director),
every 1C counterparty becomes a company with its ИНН in the requisites,
assigned to a manager, with one open deal in the sales pipeline and a contact
person with an e-mail; an accounting department has a head. So the CRM
binding finds a company (and a deal) for every document, and ``responsible``
maps to a real user. Used by ``edo-rules emulate all``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edo_rules.emulators.bitrix24 import Portal
from edo_rules.emulators.bitrix24._portal import DEMO_LIST_PROPERTIES
from edo_rules.emulators.bitrix24.card import add_contact
from edo_rules.emulators.onec import OneCBase

PIPELINE = 1
STAGES = ("NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "WON", "LOSE")
MIRROR_LIST = 42
_USERS_SET = "Catalog_Пользователи"
_COUNTERPARTIES_SET = "Catalog_Контрагенты"
_TEAMS = ("Продажи: Москва", "Продажи: Регионы")


@dataclass(slots=True)
class Wiring:
    """What :func:`wire` created: 1C user name → Bitrix24 user id, and the counts."""

    users: dict[str, int] = field(default_factory=dict)
    heads: list[int] = field(default_factory=list)
    accounting_department: int = 0  # its head gets the `accounting` recipient's tasks
    companies: int = 0
    deals: int = 0


def wire(base: OneCBase, portal: Portal) -> Wiring:
    """Seed ``portal`` from ``base`` (users, departments, companies with ИНН, open deals)."""
    wiring = Wiring()
    _people(base, portal, wiring)
    portal.add_pipeline(PIPELINE, STAGES)
    portal.add_list(MIRROR_LIST, "edo_documents", DEMO_LIST_PROPERTIES)
    managers = sorted(wiring.users.values()) or [1]
    with base.lock:
        counterparties = list(base.sets[_COUNTERPARTIES_SET].rows)
    for number, row in enumerate(counterparties):
        owner = managers[number % len(managers)]
        name = str(row["Description"])
        company = portal.add_company(name, inn=str(row.get("ИНН") or "") or None, assigned_by=owner)
        deal = portal.add_deal(
            f"Поставка для {name}",
            company_id=company,
            assigned_by=owner,
            category_id=PIPELINE,
            stage=f"C{PIPELINE}:PREPARATION",
        )
        # The customer's contact person with an e-mail: reminders to clients go to them.
        add_contact(
            portal,
            f"Контакт {number + 1}",
            emails=[f"edo{number + 1}@customer{number + 1}.example"],
            company_id=company,
            deal_ids=[deal],
        )
        wiring.companies += 1
        wiring.deals += 1
    return wiring


def _people(base: OneCBase, portal: Portal, wiring: Wiring) -> None:
    director = portal.add_user("Анна Директорова", admin=True)
    root = portal.add_department("Коммерческая дирекция", head=director)
    portal.t.users[director]["UF_DEPARTMENT"] = [root]
    accounting = portal.add_department("Бухгалтерия", parent=root)
    portal.set_department_head(
        accounting, portal.add_user("Главный Бухгалтер", departments=[accounting])
    )
    wiring.accounting_department = accounting
    teams = []
    for number, team in enumerate(_TEAMS):
        department = portal.add_department(team, parent=root)
        head = portal.add_user(f"Руководитель {number + 1} Продаж", departments=[department])
        portal.set_department_head(department, head)
        wiring.heads.append(head)
        teams.append(department)
    with base.lock:
        names = [str(row["Description"]) for row in base.sets[_USERS_SET].rows]
    for number, name in enumerate(names):
        wiring.users[name] = portal.add_user(name, departments=[teams[number % len(teams)]])
