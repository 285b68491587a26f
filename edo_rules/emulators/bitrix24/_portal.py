"""The emulated portal's data: seeding for tests and demos, and inspection.

All records are kept the way Bitrix24 returns them (upper-case keys and string
values for classic CRM, camelCase for tasks and ``crm.item``). Every public
method takes the portal's lock, so tests may inspect while the server runs.
"""

from __future__ import annotations

import copy
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_STAGES = (
    "NEW",
    "PREPARATION",
    "PREPAYMENT_INVOICE",
    "EXECUTING",
    "FINAL_INVOICE",
    "WON",
    "LOSE",
)
SMART_INVOICE = 31


#: The seeded document list's properties (id → CODE, name), as an admin would make them;
#: :data:`DEMO_LIST_FIELDS` maps the mirror's facts onto them for the seeded configs.
DEMO_LIST_PROPERTIES: dict[int, tuple[str, str]] = {
    101: ("KIND", "Вид документа"),
    102: ("NUMBER", "Номер"),
    103: ("COUNTERPARTY", "Контрагент"),
    104: ("INN", "ИНН контрагента"),
    105: ("AMOUNT", "Сумма"),
    106: ("STATUS", "Статус ЭДО"),
    107: ("SENT_AT", "Отправлен"),
    108: ("SIGNED_AT", "Подписан контрагентом"),
    109: ("OVERDUE", "Просрочен"),
    110: ("COMPANY", "Компания"),
    111: ("DEAL", "Сделка"),
}
_FACTS = ("kind", "number", "counterparty", "inn", "amount", "status", "sent_at",
          "counterparty_signed_at", "overdue", "company", "deal")  # fmt: skip
DEMO_LIST_FIELDS: dict[str, str] = {
    "title": "NAME",
    **{fact: f"PROPERTY_{pid}" for fact, pid in zip(_FACTS, DEMO_LIST_PROPERTIES, strict=True)},
}


@dataclass
class _Tables:
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    departments: dict[int, dict[str, Any]] = field(default_factory=dict)
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    requisites: dict[int, dict[str, Any]] = field(default_factory=dict)
    deals: dict[int, dict[str, Any]] = field(default_factory=dict)
    pipelines: dict[int, tuple[str, ...]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    #: The visible notification of each TAG (a new one with the TAG replaces it): found
    #: without walking every notification, which made a long run quadratic.
    tagged: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    items: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    iblocks: dict[int, str] = field(default_factory=dict)
    #: Each list's fields as ``lists.field.get`` gives them: FIELD_ID → the field.
    list_fields: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    elements: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    #: (list, element CODE) → element id: a code is found without walking the list.
    element_codes: dict[tuple[int, str], int] = field(default_factory=dict)
    templates: dict[int, str] = field(default_factory=dict)
    workflows: list[dict[str, Any]] = field(default_factory=list)
    todos: list[dict[str, Any]] = field(default_factory=list)
    #: The default pipeline (category) of each crm.item type, allocated on first use.
    item_categories: dict[int, int] = field(default_factory=dict)
    task_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


class Portal:
    """Users, departments, CRM, tasks, lists… of one emulated Bitrix24 portal."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.t = _Tables()
        self._ids = itertools.count(1)
        self.t.pipelines[0] = DEFAULT_STAGES
        self.t.items[SMART_INVOICE] = {}
        #: The portal's clock (the emulator injects its own): creation and update times.
        self.clock: Callable[[], float] = time.time

    def next_id(self) -> int:
        """A portal-wide id sequence (unique across kinds, which Bitrix24 does not promise)."""
        return next(self._ids)

    # -- seeding ------------------------------------------------------------------------
    def add_department(
        self, name: str, *, head: int | None = None, parent: int | None = None
    ) -> int:
        with self.lock:
            dep_id = self.next_id()
            self.t.departments[dep_id] = {
                "ID": str(dep_id),
                "NAME": name,
                "SORT": "500",
                "PARENT": str(parent) if parent else None,
                "UF_HEAD": str(head) if head else "0",
            }
            return dep_id

    def set_department_head(self, department_id: int, head: int) -> None:
        with self.lock:
            self.t.departments[department_id]["UF_HEAD"] = str(head)

    def add_user(self, name: str, *, departments: Iterable[int] = (), admin: bool = False) -> int:
        with self.lock:
            user_id = self.next_id()
            first, _, last = name.partition(" ")
            self.t.users[user_id] = {
                "ID": str(user_id),
                "ACTIVE": True,
                "NAME": first,
                "LAST_NAME": last,
                "UF_DEPARTMENT": list(departments),
                "IS_ADMIN": admin,
            }
            return user_id

    def add_pipeline(self, category_id: int, stages: Iterable[str]) -> None:
        with self.lock:
            self.t.pipelines[category_id] = tuple(f"C{category_id}:{s}" for s in stages)

    def add_company(self, title: str, *, inn: str | None = None, assigned_by: int = 1) -> int:
        with self.lock:
            company_id = self.next_id()
            self.t.companies[company_id] = {
                "ID": str(company_id),
                "TITLE": title,
                "ASSIGNED_BY_ID": str(assigned_by),
                "COMPANY_TYPE": "CUSTOMER",
            }
            if inn:
                req_id = self.next_id()
                self.t.requisites[req_id] = {
                    "ID": str(req_id),
                    "ENTITY_TYPE_ID": "4",
                    "ENTITY_ID": str(company_id),
                    "NAME": title,
                    "RQ_INN": inn,
                }
            return company_id

    def add_deal(
        self,
        title: str,
        *,
        company_id: int | None = None,
        assigned_by: int = 1,
        category_id: int = 0,
        stage: str | None = None,
        closed: bool = False,
        fields: Mapping[str, Any] | None = None,
    ) -> int:
        with self.lock:
            deal_id = self.next_id()
            stages = self.t.pipelines[category_id]
            record = {
                "ID": str(deal_id),
                "TITLE": title,
                "COMPANY_ID": str(company_id or 0),
                "ASSIGNED_BY_ID": str(assigned_by),
                "CATEGORY_ID": str(category_id),
                "STAGE_ID": stage or stages[0],
                "CLOSED": "Y" if closed else "N",
                "DATE_CREATE": f"2026-01-01T00:00:{deal_id % 60:02d}+03:00",
                "OPPORTUNITY": "0.00",
                "ORIGIN_ID": None,
                "ORIGINATOR_ID": None,
            }
            record.update({k: str(v) for k, v in (fields or {}).items()})
            self.t.deals[deal_id] = record
            return deal_id

    def add_list(
        self, iblock_id: int, code: str, properties: Mapping[int, tuple[str, str]] | None = None
    ) -> None:
        """A universal list with its system field NAME and ``properties``: id → (CODE, NAME)."""
        with self.lock:
            self.t.iblocks[iblock_id] = code
            self.t.elements.setdefault(iblock_id, {})
            fields = self.t.list_fields.setdefault(iblock_id, {})
            fields["NAME"] = {"FIELD_ID": "NAME", "NAME": "Название", "TYPE": "NAME",
                              "IS_REQUIRED": "Y", "MULTIPLE": "N", "SORT": 10}  # fmt: skip
            for n, (property_id, (property_code, name)) in enumerate((properties or {}).items()):
                fields[f"PROPERTY_{property_id}"] = {
                    "FIELD_ID": f"PROPERTY_{property_id}",
                    "ID": str(property_id),
                    "CODE": property_code,
                    "NAME": name,
                    "TYPE": "S",
                    "PROPERTY_TYPE": "S",
                    "IS_REQUIRED": "N",
                    "MULTIPLE": "N",
                    "SORT": 20 + 10 * n,
                }

    def add_smart_process(self, entity_type_id: int) -> None:
        with self.lock:
            self.t.items.setdefault(entity_type_id, {})

    def add_workflow_template(self, template_id: int, name: str) -> None:
        with self.lock:
            self.t.templates[template_id] = name

    def seed(self, seed: int = 1, *, companies: int = 20) -> None:
        """A deterministic demo portal: a department tree with heads, users, companies with
        ИНН requisites and deals in two pipelines, the mirror list 42, smart process 1046."""
        rng = random.Random(seed)
        with self.lock:
            director = self.add_user("Анна Директорова", admin=True)
            root = self.add_department("Компания", head=director)
            self.t.users[director]["UF_DEPARTMENT"] = [root]
            sales = self.add_department("Отдел продаж", parent=root)
            head = self.add_user("Борис Начальников", departments=[sales])
            self.set_department_head(sales, head)
            managers = [self.add_user(f"Менеджер {i}", departments=[sales]) for i in range(1, 4)]
            self.add_pipeline(1, ("NEW", "PREPARATION", "PREPAYMENT_INVOICE", "WON", "LOSE"))
            for n in range(companies):
                owner = rng.choice(managers)
                inn = f"77{rng.randrange(10**7, 10**8)}"
                company = self.add_company(f"ООО Контрагент {n + 1}", inn=inn, assigned_by=owner)
                self.add_deal(
                    f"Сделка {n + 1}",
                    company_id=company,
                    assigned_by=owner,
                    category_id=n % 2,
                    fields={"UF_CRM_1C_CONTRACT": f"Д-{n + 1}"},
                )
            self.add_list(42, "edo_documents", DEMO_LIST_PROPERTIES)
            self.add_smart_process(1046)
            self.add_workflow_template(7, "Согласование счёта")

    # -- inspection -------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """How many records of each kind exist (notifications: visible ones only)."""
        with self.lock:
            t = self.t
            return {
                "notifications": len(self.notifications()),
                "tasks": len(t.tasks),
                "comments": len(t.comments),
                "deals": len(t.deals),
                "companies": len(t.companies),
                "items": sum(len(v) for v in t.items.values()),
                "list_elements": sum(len(v) for v in t.elements.values()),
                "workflows": len(t.workflows),
                "todos": len(t.todos),
            }

    def notifications(
        self, *, user_id: int | None = None, tag: str | None = None
    ) -> list[dict[str, Any]]:
        """Visible notifications (replaced ones are gone), optionally for one user or TAG."""
        with self.lock:
            return [
                copy.deepcopy(n)
                for n in self.t.notifications
                if not n["deleted"]
                and (user_id is None or n["user_id"] == user_id)
                and (tag is None or n["tag"] == tag)
            ]

    def tasks(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.t.tasks.values()))

    def comments(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.t.comments.values()))

    def deal(self, deal_id: int) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.t.deals[deal_id])

    def items(self, entity_type_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.t.items.get(entity_type_id, {}).values()))

    def list_elements(self, iblock_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.t.elements.get(iblock_id, {}).values()))

    def workflows(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.t.workflows)

    def todos(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.t.todos)

    def users(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.t.users.values()))

    def companies(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.t.companies.values()))

    def requisites(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.t.requisites.values()))
