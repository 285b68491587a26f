"""A small, coherent company seeded into both emulators.

The Bitrix24 portal gets a commercial department with two sales teams (each
with a head), managers, customer companies with their ИНН requisites and one
open deal each in the sales pipeline; the 1C base gets the same managers as
users, the same customers as counterparties (same ИНН) with their contracts.
So the CRM binding finds every document's company and deal, as in a real
deployment where both systems describe one business.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from edo_rules.emulators.bitrix24 import Portal
from edo_rules.emulators.bitrix24._portal import DEMO_LIST_PROPERTIES
from edo_rules.emulators.bitrix24.card import add_contact
from edo_rules.emulators.onec import OneCBase

ORGANIZATION = "ООО «Дигиматикс»"
PIPELINE = 1
STAGES = ("NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "WON", "LOSE")
MIRROR_LIST = 42
WORKFLOW_TEMPLATE = 7

_USERS_SET = "Catalog_Пользователи"
_ORGANIZATIONS_SET = "Catalog_Организации"

_TEAMS = (
    ("Продажи: Москва", "Борис Начальников", ("Мария Соколова", "Игорь Петров", "Ольга Лебедева")),
    ("Продажи: Регионы", "Елена Руководова", ("Павел Морозов", "Анна Волкова", "Сергей Зайцев")),
)
_NAMES = (
    "Альфастрой", "Вектор", "Гарант", "Северснаб", "Технопарк", "Ресурс", "Логистик",
    "Прогресс", "Энергомаркет", "Инвестпроф", "Уралкомплект", "Сибтрейд", "Волгасистем",
    "Оптима", "Стандарт", "Меридиан", "Кварц", "Полюс", "Рубикон", "Гефест", "Атлант",
    "Байкал", "Орион", "Форвард",
)  # fmt: skip
_FORMS = ("ООО", "ООО", "АО", "ПАО")
_ACCOUNTANT = "Галина Бухгалтерова"
_CONTACTS = ("Ирина Смирнова", "Алексей Кузнецов", "Наталья Попова", "Дмитрий Васильев")


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer as both systems know it."""

    name: str
    inn: str
    counterparty_key: str  # 1C Catalog_Контрагенты
    contract_key: str  # 1C Catalog_ДоговорыКонтрагентов
    company_id: int  # Bitrix24 company
    deal_id: int  # Bitrix24 open deal in the sales pipeline
    manager: str  # the responsible manager's name
    answer_rate: float  # chance per working day that the customer answers a document


@dataclass(slots=True)
class Company:
    """Keys and ids of the seeded company in both emulators."""

    organization_key: str
    managers: dict[str, str] = field(default_factory=dict)  # name → 1C user key
    user_ids: dict[str, int] = field(default_factory=dict)  # name → Bitrix24 user id
    customers: list[Customer] = field(default_factory=list)
    accounting_department: int = 0  # its head gets accounting's tasks


def seed_company(portal: Portal, base: OneCBase, rng: random.Random, customers: int) -> Company:
    """Seed the portal and the 1C base with one consistent company."""
    organization = base.add_catalog_item(
        _ORGANIZATIONS_SET, ORGANIZATION, ИНН="7701234560", КПП="770101001"
    )
    company = Company(organization_key=organization)
    _seed_people(portal, base, company)
    portal.add_pipeline(PIPELINE, STAGES)
    portal.add_list(MIRROR_LIST, "edo_documents", DEMO_LIST_PROPERTIES)
    portal.add_workflow_template(WORKFLOW_TEMPLATE, "Согласование счёта")
    for number in range(customers):
        customer = _seed_customer(portal, base, rng=rng, number=number, company=company)
        company.customers.append(customer)
    return company


def _seed_people(portal: Portal, base: OneCBase, company: Company) -> None:
    director = portal.add_user("Анна Директорова", admin=True)
    root = portal.add_department("Коммерческая дирекция", head=director)
    portal.t.users[director]["UF_DEPARTMENT"] = [root]
    for team, head_name, members in _TEAMS:
        department = portal.add_department(team, parent=root)
        head = portal.add_user(head_name, departments=[department])
        portal.set_department_head(department, head)
        for name in members:
            company.user_ids[name] = portal.add_user(name, departments=[department])
            company.managers[name] = base.add_catalog_item(_USERS_SET, name)
    accounting = portal.add_department("Бухгалтерия", parent=root)
    portal.set_department_head(accounting, portal.add_user(_ACCOUNTANT, departments=[accounting]))
    company.accounting_department = accounting


def _seed_customer(
    portal: Portal, base: OneCBase, *, rng: random.Random, number: int, company: Company
) -> Customer:
    name = f"{rng.choice(_FORMS)} «{_NAMES[number % len(_NAMES)]}»"
    inn = company_inn(rng)
    managers = sorted(company.managers)
    manager = managers[number % len(managers)]
    owner = company.user_ids[manager]
    counterparty = base.add_counterparty(name, inn, f"{inn[:4]}01001")
    signed_on = date(2025, 1 + number % 12, 1 + number % 28)
    contract = base.add_contract(
        counterparty, f"Д-{number + 1}", signed_on, company.organization_key
    )
    company_id = portal.add_company(name, inn=inn, assigned_by=owner)
    deal_id = portal.add_deal(
        f"Поставка для {name}",
        company_id=company_id,
        assigned_by=owner,
        category_id=PIPELINE,
        stage=f"C{PIPELINE}:PREPARATION",
    )
    # The customer's contact person, with an e-mail, bound to the company and the deal:
    # reminders go to them from the CRM.
    add_contact(
        portal,
        _CONTACTS[number % len(_CONTACTS)],
        emails=[f"edo{number + 1}@customer{number + 1}.example"],
        company_id=company_id,
        deal_ids=[deal_id],
    )
    # Some customers answer within days, some drag on for weeks (they get escalations).
    rate = rng.choice((0.45, 0.3, 0.3, 0.2, 0.08))
    return Customer(name, inn, counterparty, contract, company_id, deal_id, manager, rate)


def company_inn(rng: random.Random) -> str:
    """A ten-digit ИНН of a legal entity with a valid check digit."""
    digits = [rng.randint(0, 9) for _ in range(9)]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    digits.append(sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 % 10)
    return "".join(map(str, digits))
