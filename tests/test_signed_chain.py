"""The bundled ``signed.yaml`` over HTTP against both emulators: payment and accounting.

A customer's deal gets a contract, an act and a УПД, all signed; another
customer signs a contract, then 1C shows it unsigned again and signed once
more (a re-signed contract: the rule fires twice); we sign a supplier's
incoming УПД. Ticks run through ``edo-rules tick`` as an admin runs them, and
the portal is read at the end: one invoice per (deal, contract) on the deal and
company, the deals moved to «Выставление счёта», accounting's head tasked to
expect each payment and to pay the supplier — in Russian, nothing twice.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from _runner_helpers import onec_now, write_config

from edo_rules.cli import main
from edo_rules.demo._company import Company, Customer, seed_company
from edo_rules.demo._world import World

SIGNED = (Path(__file__).parent.parent / "playbooks" / "signed.yaml").read_text("utf-8")


def _document(world: World, company: Company, customer: Customer, kind: str, **kw: bool) -> str:
    now = world.base.now
    return world.base.create_document(
        counterparty=customer.counterparty_key,
        responsible=company.managers[customer.manager],
        organization=company.organization_key,
        kind=kind,
        amount=120_000.0,
        contract=customer.contract_key,
        at=now - timedelta(days=2),
        **kw,
    )


def _tick(config: Path) -> None:
    assert main(["tick", "--config", str(config)]) == 0


def test_signed_yaml_invoices_once_moves_the_deal_and_tasks_accounting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with World.started(seed=8, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(9), customers=3)
        config, env = write_config(tmp_path, world, company, SIGNED, interval=3600)
        data = yaml.safe_load(config.read_text("utf-8"))
        data["bitrix24"]["accounting"] = {"department": company.accounting_department}
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        world.base.now = onec_now()
        first, second, supplier = company.customers
        outgoing = [_document(world, company, first, kind) for kind in ("contract", "act", "upd")]
        resigned = _document(world, company, second, "contract")
        incoming = _document(world, company, supplier, "upd", outgoing=False)
        for key in [*outgoing, resigned]:
            world.base.send(key, at=world.base.now - timedelta(days=1))
        _tick(config)  # sent and awaiting our signature: nothing for signed.yaml yet
        assert world.portal.items(31) == [] and world.portal.tasks() == []
        at = onec_now()
        for key in [*outgoing, resigned]:
            world.base.sign(key, at=at)
        world.base.set_state(incoming, "ОбменЗавершен", at=at, action="Подписание")
        _tick(config)
        # 1C shows the second contract unsigned again, then signed once more.
        world.base.set_state(resigned, "ОжидаетсяПодтверждение", at=at + timedelta(minutes=1))
        _tick(config)
        world.base.sign(resigned, at=at + timedelta(minutes=2))
        _tick(config)
        _tick(config)
        _check(world, company)


def _check(world: World, company: Company) -> None:
    portal = world.portal
    first, second, supplier = company.customers
    invoices = portal.items(31)
    # One invoice per (deal, contract): not for the act or the УПД, not again when re-signed.
    assert sorted((i["parentId2"], i["companyId"]) for i in invoices) == sorted(
        [(first.deal_id, first.company_id), (second.deal_id, second.company_id)]
    ), invoices
    assert all(i["title"].startswith("Счёт по договору № ") for i in invoices), invoices
    assert all(float(i["opportunity"]) == 120_000.0 for i in invoices), invoices
    for customer in (first, second):
        assert portal.deal(customer.deal_id)["STAGE_ID"] == "C1:PREPAYMENT_INVOICE"
    assert portal.deal(supplier.deal_id)["STAGE_ID"] == "C1:PREPARATION"
    with portal.lock:
        head = portal.t.departments[company.accounting_department]["UF_HEAD"]
    tasks = portal.tasks()
    titles = Counter(t["title"] for t in tasks)
    # An event rule fires once per recorded change (docs/playbooks.md): the re-signed
    # contract tells accounting again, while its invoice stays one.
    assert titles == {
        f"Ожидать оплату: {first.name}, договор № {_number(portal, first.deal_id)}": 1,
        f"Ожидать оплату: {second.name}, договор № {_number(portal, second.deal_id)}": 2,
        f"Оплатить поставщику {supplier.name}: УПД № {_upd_number(titles)}": 1,
    }, titles
    assert {t["responsibleId"] for t in tasks} == {head}, tasks
    assert all(f"ИНН {c.inn}" in t["description"] for t, c in _owners(tasks, company)), tasks
    assert len(tasks) == len({t["xmlId"] for t in tasks}), tasks
    comments = [c["COMMENT"] for c in portal.comments()]
    assert len(comments) == 3 and all(
        c.startswith("Договор подписан контрагентом ") for c in comments
    )


def _number(portal: Any, deal: int) -> str:
    [invoice] = [i for i in portal.items(31) if i["parentId2"] == deal]
    return str(invoice["title"]).removeprefix("Счёт по договору № ")


def _upd_number(titles: Counter[str]) -> str:
    [title] = [t for t in titles if t.startswith("Оплатить поставщику ")]
    return title.partition(": УПД № ")[2]


def _owners(tasks: list[dict[str, Any]], company: Company) -> list[tuple[dict[str, Any], Customer]]:
    by_name = {c.name: c for c in company.customers}
    return [(t, next(c for n, c in by_name.items() if n in t["title"])) for t in tasks]
