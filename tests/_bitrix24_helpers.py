"""Shared pieces of the Bitrix24 tests: documents, requests, a wired set of actions."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from edo_rules.actions.base import Action
from edo_rules.actions.bitrix24 import Bitrix24Settings, RetryPolicy, build_adapters, make_client
from edo_rules.actions.bitrix24.client import Bitrix24Client
from edo_rules.emulators.bitrix24 import Bitrix24Emulator, PlanLimits
from edo_rules.model import (
    ActionRequest,
    ContractRef,
    Counterparty,
    Direction,
    Document,
    Kind,
    Side,
    Signer,
    Status,
)
from edo_rules.store.sqlite import SQLiteStore

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday
FAST = PlanLimits(capacity=10_000, rate=10_000.0)
_ids = itertools.count(1)


def make_doc(doc_id: str, inn: str | None, **changes: Any) -> Document:
    doc = Document(
        id=doc_id,
        kind=Kind.ACT,
        number="17",
        date=date(2026, 11, 20),
        direction=Direction.OUTGOING,
        status=Status.SENT,
        status_1c="ОжидаетсяПодписьКонтрагента",
        counterparty=Counterparty("ООО «Ромашка»", inn=inn),
        amount=Decimal("125000.50"),
        contract=ContractRef("Д-1", date(2026, 1, 10)),
        sent_at=NOW - timedelta(days=3),
        signers=(Signer(Side.OURS, "Иванов И. И.", NOW - timedelta(days=3)),),
        responsible="Петров П. П.",
        pdf_url="https://files.example.invalid/doc.pdf",
    )
    return replace(doc, **changes)


def make_request(
    action: str, params: Mapping[str, Any], doc_id: str, key: str | None = None
) -> ActionRequest:
    number = next(_ids)
    return ActionRequest(
        action=action,
        params=dict(params),
        idempotency_key=key or f"key-{number}",
        document_id=doc_id,
        rule_key="pb/rule",
        created_at=NOW,
        id=number,
    )


@dataclass
class Clock:
    """An aware clock the test moves by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """An emulated portal, a store, and the actions wired to both."""

    emulator: Bitrix24Emulator
    store: SQLiteStore
    webhook: str
    clock: Clock = field(default_factory=Clock)
    company: int = 0
    deal: int = 0
    manager: int = 0
    head: int = 0
    director: int = 0
    clients: list[Bitrix24Client] = field(default_factory=list)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.emulator.stop()
        self.store.close()

    def actions(self, **section: Any) -> dict[str, Action]:
        settings = self.settings(**section)
        return build_adapters(settings, self.store, client=self.client(settings), clock=self.clock)

    def settings(self, **section: Any) -> Bitrix24Settings:
        mapping: dict[str, Any] = {
            "webhook_url": self.webhook,
            "plan": {"capacity": 10_000, "rate": 10_000},
        }
        mapping.update(section)
        return Bitrix24Settings.from_mapping(mapping, where="edo-rules.yaml")

    def client(self, settings: Bitrix24Settings | None = None, **kwargs: Any) -> Bitrix24Client:
        retry = kwargs.pop("retry", RetryPolicy(backoff=0.01, max_backoff=0.05))
        client = make_client(settings or self.settings(), retry=retry, **kwargs)
        self.clients.append(client)
        return client

    def add_doc(self, doc_id: str, **changes: Any) -> Document:
        doc = make_doc(doc_id, "7700000001", **changes)
        self.store.upsert_documents([doc])
        return doc


def make_world(tmp_path: Path, **emulator_args: Any) -> World:
    """A started emulator with a small known portal (the caller stops it)."""
    emulator_args.setdefault("plan", FAST)
    emulator = Bitrix24Emulator(seed=None, **emulator_args).start()
    portal = emulator.portal
    director = portal.add_user("Анна Директорова", admin=True)
    root = portal.add_department("Компания", head=director)
    portal.t.users[director]["UF_DEPARTMENT"] = [root]
    sales = portal.add_department("Продажи", parent=root)
    head = portal.add_user("Борис Начальников", departments=[sales])
    portal.set_department_head(sales, head)
    manager = portal.add_user("Вера Менеджерова", departments=[sales])
    company = portal.add_company("ООО «Ромашка»", inn="7700000001", assigned_by=manager)
    deal = portal.add_deal(
        "Поставка", company_id=company, assigned_by=manager, fields={"UF_CRM_1C_CONTRACT": "Д-1"}
    )
    portal.add_list(42, "edo_documents")
    portal.add_smart_process(1046)
    portal.add_workflow_template(7, "Согласование")
    world = World(emulator, SQLiteStore(tmp_path / "store.db"), emulator.add_webhook(director))
    world.company, world.deal, world.manager, world.head, world.director = (
        company,
        deal,
        manager,
        head,
        director,
    )
    return world


def statuses(outcomes: Any) -> list[str]:
    return [o.status.value for o in outcomes]


Factory = Callable[..., World]
