"""A document's life in the Bitrix24 card, with the real runner SIGKILLed while it dispatches.

Contracts were sent to customers ten days ago and are overdue when the
runner (``edo-rules run``, a separate process) first syncs them; while it is
killed again and again, the customers sign. Half-way (overdue and reminded)
and at the end every deal's card, its timeline, the document register (a smart
process made by ``bitrix24 setup``), the e-mails to the customers, the deal's
stage, the invoices and accounting's tasks are read at the Bitrix24 emulator:
everything once, in Russian. The closing line prints the kills, the actions
done and what the portal holds.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import yaml
from _runner_helpers import onec_now, write_config
from test_crash import _outstanding, _Runner, _wait_until_drained

from edo_rules.actions.bitrix24 import Bitrix24Settings, make_client
from edo_rules.actions.bitrix24.setup import setup_portal
from edo_rules.cli import main
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24 import PlanLimits
from edo_rules.emulators.bitrix24.card import DEAL, activities, logmessages
from edo_rules.model import RequestState
from edo_rules.store.sqlite import SQLiteStore

KILLS = 12
CONTRACTS = 16
REGISTER = 1100
PLAN = PlanLimits(capacity=10, rate=5.0)

LIFE = dedent(
    """
    version: 1
    name: life
    rules:
      - id: card
        when: {after: 0 минут, since: status_changed_at}
        do:
          - card_status: {}
          - mirror: {overdue: false}
      - id: history
        when: {status_changed: {}}
        do:
          - timeline:
              title: "ЭДО: {{ doc.title }}"
              text: "{{ doc.status | ru | capitalize }} {{ doc.status_changed_at | datetime }}"
      - id: overdue
        match: {status: sent}
        when: {after: 3 рабочих дня, since: sent_at}
        do:
          - mirror: {overdue: true}
          - remind_counterparty:
              subject: "Просим подписать {{ doc.title }}"
              text: "Добрый день! {{ doc.sent_at | date }} мы направили вам {{ doc.title }}."
              every: 5 рабочих дней
          - timeline:
              title: "ЭДО: {{ doc.title }}"
              text: "Просрочен: ждёт подписи с {{ doc.sent_at | date }}, клиенту напомнили"
      - id: signed
        match: {kind: contract}
        when: {status_changed: {to: signed}}
        do:
          - deal_stage: {stage: "C1:PREPAYMENT_INVOICE"}
          - invoice: {title: "Счёт по {{ doc.title }}"}
          - task:
              responsible: accounting
              title: "Ожидать оплату: {{ doc.title }}, {{ doc.counterparty.name }}"
    """
).lstrip()


def _send_overdue_contracts(world: World, company: Company, rng: random.Random) -> list[str]:
    now = onec_now()
    world.base.now = now
    keys = []
    for number in range(CONTRACTS):
        customer = company.customers[number % len(company.customers)]
        key = world.base.create_document(
            counterparty=customer.counterparty_key,
            responsible=company.managers[customer.manager],
            organization=company.organization_key,
            kind="contract",
            amount=round(rng.uniform(10_000, 500_000), -2),
            contract=customer.contract_key,
            at=now - timedelta(days=10, hours=1),
        )
        world.base.send(key, at=now - timedelta(days=10))
        keys.append(key)
    return keys


def _config(tmp_path: Path, world: World, company: Company) -> tuple[Path, dict[str, str]]:
    config, env = write_config(
        tmp_path, world, company, LIFE, plan={"capacity": 10, "rate": 5}, batch_size=10
    )
    settings = Bitrix24Settings.from_mapping(
        {"webhook_url": world.webhook_url, "mirror": _register(None)}, where="test"
    )
    client = make_client(settings)
    try:
        report = setup_portal(client, settings)
        categories = client.call("crm.category.list", {"entityTypeId": REGISTER}).result
    finally:
        client.close()
    assert report.steps and not report.problems
    data = yaml.safe_load(config.read_text("utf-8"))
    data["bitrix24"].update(
        card={"deal_field": "UF_CRM_EDO_STATUS", "company_field": "UF_CRM_EDO_STATUS"},
        accounting={"department": company.accounting_department},
        mirror=_register(categories["categories"][0]["id"]),
    )
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config, env


def _register(category: int | None) -> dict[str, Any]:
    register: dict[str, Any] = {
        "target": "smart_process",
        "entity_type_id": REGISTER,
        "fields": {"status": "ufCrmEdoStatus", "overdue": "ufCrmEdoOverdue"},
    }
    return register if category is None else {**register, "category_id": category}


def _kill_some(config: Path, env: dict[str, str], rng: random.Random, kills: int) -> int:
    """Kill the runner ``kills`` times; returns how many kills left requests in flight."""
    store_path = config.parent / "edo-rules.db"
    in_flight = 0
    for _ in range(kills):
        runner = _Runner(config, env)
        assert runner.started.wait(30), "".join(runner.lines)
        time.sleep(rng.uniform(0.05, 0.6))
        runner.kill()
        in_flight += _outstanding(store_path)[1] > 0
    return in_flight


@pytest.mark.slow
def test_a_documents_life_shows_in_the_card_once_in_russian_through_sigkills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20261204)
    with World.started(seed=3, first_day=date(2026, 11, 2), plan=PLAN, now=onec_now()) as world:
        company = seed_company(world.portal, world.base, rng, customers=8)
        config, env = _config(tmp_path, world, company)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        keys = _send_overdue_contracts(world, company, rng)
        store_path = tmp_path / "edo-rules.db"
        flying = _kill_some(config, env, rng, KILLS // 2)  # sync, card, register, e-mails
        runner = _Runner(config, env)
        assert runner.started.wait(30), "".join(runner.lines)  # its SIGTERM handler is set
        _wait_until_drained(store_path, runner, len(keys))
        assert runner.stop() == 0, "".join(runner.lines[-20:])
        _check_overdue_and_reminded(world, company)
        for key in keys:
            world.base.sign(key, at=onec_now())
        flying += _kill_some(config, env, rng, KILLS - KILLS // 2)  # timeline, invoice, tasks
        runner = _Runner(config, env)
        assert runner.started.wait(30), "".join(runner.lines)
        _wait_until_drained(store_path, runner, len(keys))
        assert runner.stop() == 0, "".join(runner.lines[-20:])
        assert main(["tick", "--config", str(config)]) == 0
        with SQLiteStore(store_path) as store:
            states = Counter(r.state.value for r in store.requests(list(RequestState)))
        _check_portal(world, company, states, flying)


def _deals(company: Company) -> list[int]:
    return sorted({c.deal_id for c in company.customers})


def _flag(value: Any) -> bool:
    """A boolean field as the portal holds it (through a batch it arrives as text)."""
    return str(value).lower() in {"true", "y", "1"}


def _check_overdue_and_reminded(world: World, company: Company) -> None:
    """Half-way: every card, register item and timeline shows the overdue, reminded contract."""
    portal = world.portal
    deals = _deals(company)
    lines = [
        line for d in deals for line in portal.deal(d).get("UF_CRM_EDO_STATUS", "").splitlines()
    ]
    assert len(lines) == CONTRACTS, lines
    assert all(
        line.startswith("Договор № ") and ": ждёт подписи " in line and line.endswith("⚠")
        for line in lines
    ), lines
    items = portal.items(REGISTER)
    assert len(items) == CONTRACTS, items
    assert {i["ufCrmEdoStatus"] for i in items} == {"ждёт подписи контрагента"}, items
    assert all(i["stageId"].endswith(":EDO_SENT") and _flag(i["ufCrmEdoOverdue"]) for i in items)
    entries = [e for d in deals for e in logmessages(portal, DEAL, d)]
    assert len(entries) == CONTRACTS, entries
    assert all(e["text"].startswith("Просрочен: ждёт подписи с ") for e in entries), entries
    emails = activities(portal)
    assert len(emails) == CONTRACTS, emails
    assert {int(e["OWNER_ID"]) for e in emails} <= set(deals)
    assert all(str(e["OWNER_TYPE_ID"]) == str(DEAL) for e in emails), emails
    assert all(e["SUBJECT"].startswith("Просим подписать Договор № ") for e in emails), emails
    assert all(e["DESCRIPTION"].startswith("Добрый день! ") for e in emails), emails
    assert portal.items(31) == [] and portal.tasks() == []


def _check_portal(world: World, company: Company, states: Counter[str], flying: int) -> None:
    portal = world.portal
    deals = _deals(company)
    found = {
        "timeline": sum(len(logmessages(portal, DEAL, d)) for d in deals),
        "register": len(portal.items(REGISTER)),
        "e-mails": len(activities(portal)),
        "invoices": len(portal.items(31)),
        "tasks": len(portal.tasks()),
    }
    report = (
        f"\noutbox: {dict(states)}; kills: {KILLS}, with requests in flight: {flying}; "
        f"in the portal: {found}"
    )
    print(report)
    assert set(states) == {"done"}, report
    assert flying >= KILLS // 2, report  # the kills did hit the dispatch
    # the card: one Russian line per contract, all signed
    lines = [
        line for d in deals for line in portal.deal(d).get("UF_CRM_EDO_STATUS", "").splitlines()
    ]
    assert len(lines) == CONTRACTS, report
    assert all(": подписан " in line and line.startswith("Договор № ") for line in lines), lines
    # the timeline: per contract one «Просрочен …» and one «Подписан …» entry, nothing twice
    entries = [e for d in deals for e in logmessages(portal, DEAL, d)]
    texts = Counter((e["title"], e["text"]) for e in entries)
    assert len(entries) == 2 * CONTRACTS == len(texts), f"{texts}{report}"
    signed = [text for _, text in texts if text.startswith("Подписан ")]
    overdue = [text for _, text in texts if text.startswith("Просрочен: ждёт подписи с ")]
    assert len(signed) == len(overdue) == CONTRACTS, texts
    assert len({title for title, _ in texts}) == CONTRACTS, texts
    # the register: one item per contract, on the «Подписан» stage, in Russian, not overdue
    items = portal.items(REGISTER)
    assert len(items) == len({i["xmlId"] for i in items}) == CONTRACTS, report
    assert {i["ufCrmEdoStatus"] for i in items} == {"подписан"}
    assert all(i["stageId"].endswith(":EDO_SIGNED") for i in items)
    assert not any(_flag(i["ufCrmEdoOverdue"]) for i in items), items
    # the deals moved on to the invoice stage
    assert {portal.deal(d)["STAGE_ID"] for d in deals} == {"C1:PREPAYMENT_INVOICE"}
    # reminded once each, by e-mail from the CRM to the customer's contact
    emails = activities(portal)
    assert len(emails) == len({e["ORIGIN_ID"] for e in emails}) == CONTRACTS, report
    # (through a batch every value arrives as a string, as the portal gets it)
    assert all(str(e["TYPE_ID"]) == "4" and e["COMMUNICATIONS"][0]["VALUE"] for e in emails)
    # after signing: one invoice and one accounting task per contract
    invoices = portal.items(31)
    assert len(invoices) == len({i["xmlId"] for i in invoices}) == CONTRACTS, report
    assert all(i["title"].startswith("Счёт по Договор № ") for i in invoices), invoices
    tasks = portal.tasks()
    assert len(tasks) == len({t["xmlId"] for t in tasks}) == CONTRACTS, report
    assert all(t["title"].startswith("Ожидать оплату: Договор № ") for t in tasks), tasks
    with portal.lock:
        head = portal.t.departments[company.accounting_department]["UF_HEAD"]
    assert {t["responsibleId"] for t in tasks} == {head}
