"""The card actions, ``bitrix24 setup`` and the emulator methods behind them, over real HTTP."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from _bitrix24_helpers import World, make_doc, make_request, make_world, statuses

from edo_rules._messages import in_language
from edo_rules.actions.bitrix24 import Bitrix24Settings, make_client
from edo_rules.actions.bitrix24.card_index import documents_for
from edo_rules.actions.bitrix24.errors import Bitrix24Error
from edo_rules.actions.bitrix24.setup import State, setup_portal
from edo_rules.cli import main
from edo_rules.emulators.bitrix24.card import (
    COMPANY,
    DEAL,
    activities,
    add_contact,
    company,
    logmessages,
    snapshot,
    spa_fields,
    stages,
    types,
    userfields,
)
from edo_rules.model import Counterparty, CrmBinding, Kind, OutcomeStatus, Status

CARD = {"deal_field": "UF_CRM_EDO_STATUS", "company_field": "UF_CRM_EDO_STATUS"}
REGISTER = {"target": "smart_process", "entity_type_id": 1100, "title": "Документы ЭДО"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def _rest(world: World, method: str, params: dict[str, Any]) -> dict[str, Any]:
    url = world.webhook.rstrip("/") + f"/{method}.json"
    body: dict[str, Any] = httpx.post(url, json=params, timeout=10).json()
    return body


# -- card_status -------------------------------------------------------------------------------
def test_card_status_writes_one_russian_line_per_document_to_deal_and_company(
    world: World,
) -> None:
    now = world.clock.now
    world.add_doc("a", kind=Kind.CONTRACT, number="12", date=date(2026, 11, 2),
                  status=Status.SIGNED, counterparty_signed_at=now - timedelta(days=1))  # fmt: skip
    world.add_doc("b", number="5", sent_at=now - timedelta(days=7))  # 5 working days: overdue
    world.add_doc("c", number="6", status=Status.REJECTED, rejected_at=now,
                  rejection_comment="Не те реквизиты")  # fmt: skip
    card = world.actions(card={**CARD, "url_field": "UF_CRM_EDO_URL",
                               "url": "https://edo.test/{entity}/{id}"})["card_status"]  # fmt: skip
    requests = [make_request("card_status", {}, doc) for doc in ("a", "b", "c")]
    assert statuses(card.execute(requests)) == ["done"] * 3
    deal = world.emulator.portal.deal(world.deal)
    assert deal["UF_CRM_EDO_STATUS"].splitlines() == [  # what to chase first, then the decided
        "Акт № 5 от 20.11: ждёт подписи 5 раб. дн. ⚠",
        "Акт № 6 от 20.11: отклонён 27.11: «Не те реквизиты»",
        "Договор № 12 от 02.11: подписан 26.11",
    ]
    assert deal["UF_CRM_EDO_URL"] == f"https://edo.test/deal/{world.deal}"
    assert (
        company(world.emulator.portal, world.company)["UF_CRM_EDO_STATUS"]
        == (deal["UF_CRM_EDO_STATUS"])
    )
    assert documents_for(world.store, now=now, deal=world.deal) == ["a", "b", "c"]
    assert documents_for(world.store, now=now, company=world.company) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="exactly one"):
        documents_for(world.store, now=now)


def test_a_full_card_drops_old_signed_documents_never_a_waiting_one(world: World) -> None:
    now = world.clock.now
    for n in range(1, 5):
        signed = now - timedelta(days=30 - n)
        world.add_doc(f"s{n}", number=str(n), date=date(2026, 10, n),
                      status=Status.SIGNED, counterparty_signed_at=signed)  # fmt: skip
    world.add_doc("w", number="9", date=date(2026, 9, 1), sent_at=now - timedelta(days=2))
    card = world.actions(card={**CARD, "max_lines": 3})["card_status"]
    docs = ["s1", "s2", "s3", "s4", "w"]
    assert statuses(card.execute([make_request("card_status", {}, d) for d in docs])) == [
        "done"
    ] * len(docs)
    lines = world.emulator.portal.deal(world.deal)["UF_CRM_EDO_STATUS"].splitlines()
    assert lines[0].startswith("Акт № 9 от 01.09: ждёт подписи")
    assert lines[1].startswith("Акт № 4 от 04.10: подписан")  # the newest decided one
    assert lines[2] == "… и ещё 3 док."


def test_a_document_that_moves_to_another_deal_leaves_the_old_card(world: World) -> None:
    portal = world.emulator.portal
    other = portal.add_deal("Другая", company_id=world.company, assigned_by=world.manager)
    world.add_doc("a", crm=CrmBinding(deal_id=world.deal))
    world.add_doc("b", number="18", crm=CrmBinding(deal_id=world.deal))
    card = world.actions(card={"deal_field": "UF_CRM_EDO_STATUS"})["card_status"]
    assert statuses(card.execute([make_request("card_status", {}, d) for d in "ab"])) == [
        "done",
        "done",
    ]
    world.add_doc("b", number="18", crm=CrmBinding(deal_id=other))
    assert statuses(card.execute([make_request("card_status", {}, "b")])) == ["done"]
    assert (
        portal.deal(world.deal)["UF_CRM_EDO_STATUS"]
        == "Акт № 17 от 20.11: ждёт подписи 3 раб. дн. ⚠"
    )
    assert portal.deal(other)["UF_CRM_EDO_STATUS"].startswith("Акт № 18")
    assert documents_for(world.store, now=world.clock.now, deal=world.deal) == ["a"]
    assert documents_for(world.store, now=world.clock.now, deal=other) == ["b"]


def test_card_and_timeline_without_a_binding_write_nothing_and_say_why(world: World) -> None:
    world.store.upsert_documents([make_doc("x", None)])  # no ИНН: no company, no deal
    actions = world.actions()
    [card] = actions["card_status"].execute([make_request("card_status", {}, "x")])
    params = {"title": "t", "text": "x"}
    [entry] = actions["timeline"].execute([make_request("timeline", params, "x")])
    # The bundled rules run for every document: a no-op, not a failure.
    for outcome in (card, entry):
        assert outcome.status is OutcomeStatus.DONE and outcome.remote_id is None
    assert (card.reason or "").startswith("NOT_BOUND: ничего не записано: документ не привязан")
    assert "проверьте ИНН контрагента" in (card.reason or "")
    assert (entry.reason or "").startswith(
        "NOT_BOUND: ничего не записано: NOT_BOUND: документ x не привязан к сделке или компании"
    )
    assert "\nЧто сделать: проверьте ИНН контрагента" in (entry.reason or "")


# -- timeline ----------------------------------------------------------------------------------
def test_timeline_adds_a_log_message_once_per_distinct_text(world: World) -> None:
    world.add_doc("d1")
    timeline = world.actions()["timeline"]
    params = {"title": "ЭДО: Акт № 17", "text": "Подписан 27.11.2026 09:00"}
    first = make_request("timeline", params, "d1")
    twin = make_request("timeline", params, "d1")
    other = make_request("timeline", {**params, "text": "Отклонён"}, "d1")
    assert statuses(timeline.execute([first, twin, other])) == ["done"] * 3
    entries = logmessages(world.emulator.portal, DEAL, world.deal)
    assert [(e["title"], e["text"], e["iconCode"]) for e in entries] == [
        ("ЭДО: Акт № 17", "Подписан 27.11.2026 09:00", "info"),
        ("ЭДО: Акт № 17", "Отклонён", "info"),
    ]
    # after a crash: the request that took effect is found, a fresh one is not
    done = timeline.check(first)
    assert done is not None and done.status is OutcomeStatus.DONE
    assert done.remote_id == str(entries[0]["id"])
    assert timeline.check(make_request("timeline", {**params, "text": "Новое"}, "d1")) is None


def test_timeline_lookup_pages_through_older_entries(world: World) -> None:
    world.add_doc("d1")
    timeline = world.actions()["timeline"]
    first = make_request("timeline", {"title": "T", "text": "первая"}, "d1")
    later = [make_request("timeline", {"title": "T", "text": f"№{n}"}, "d1") for n in range(25)]
    assert statuses(timeline.execute([first, *later])) == ["done"] * 26
    found = timeline.check(first)
    assert found is not None and found.status is OutcomeStatus.DONE


def test_emulated_logmessage_add_is_strict(world: World) -> None:
    fields = {"entityTypeId": DEAL, "entityId": world.deal, "title": "t", "text": "x"}
    missing = _rest(world, "crm.timeline.logmessage.add", {"fields": fields})
    assert missing["error"] == "ERROR_REQUIRED_FIELD" and "iconCode" in missing["error_description"]
    unknown = _rest(
        world,
        "crm.timeline.logmessage.add",
        {"fields": {**fields, "entityId": 999999, "iconCode": "info"}},
    )
    assert unknown["error"] == "NOT_FOUND"
    ok = _rest(world, "crm.timeline.logmessage.add", {"fields": {**fields, "iconCode": "info"}})
    assert ok["result"]["logMessage"]["title"] == "t"
    listed = _rest(world, "crm.timeline.logmessage.list", {"entityTypeId": 2})
    assert listed["error"] == "ERROR_REQUIRED_FIELD"


# -- remind_counterparty -----------------------------------------------------------------------
def _remind(**params: Any) -> dict[str, Any]:
    return {"text": "Просим подписать акт", "every": "5 рабочих дней", **params}


def test_remind_sends_an_email_activity_to_the_deals_contact(world: World) -> None:
    portal = world.emulator.portal
    add_contact(portal, "Без Почты", company_id=world.company, deal_ids=[world.deal])
    contact = add_contact(portal, "Ирина Смирнова", emails=["irina@client.example"],
                          company_id=world.company)  # fmt: skip
    world.add_doc("d1")
    remind = world.actions()["remind_counterparty"]
    request = make_request("remind_counterparty", _remind(subject="Напоминание"), "d1")
    [outcome] = remind.execute([request])
    assert outcome.status is OutcomeStatus.DONE
    [email] = activities(portal)
    assert email["ID"] == outcome.remote_id
    fields = ("TYPE_ID", "DIRECTION", "COMPLETED", "OWNER_TYPE_ID", "OWNER_ID", "RESPONSIBLE_ID")
    assert [str(email[f]) for f in fields] == [
        "4",
        "2",
        "Y",
        "2",
        str(world.deal),
        str(world.manager),
    ]
    [to] = email["COMMUNICATIONS"]
    assert (to["VALUE"], str(to["ENTITY_ID"]), str(to["ENTITY_TYPE_ID"])) == (
        "irina@client.example",
        str(contact),
        "3",
    )
    assert email["SUBJECT"] == "Напоминание" and email["DESCRIPTION"] == "Просим подписать акт"
    # the same request after a crash is found by ORIGIN_ID, not sent again
    found = remind.check(request)
    assert found is not None and found.remote_id == outcome.remote_id
    assert statuses(remind.execute([request])) == ["done"] and len(activities(portal)) == 1


def test_remind_is_rate_limited_per_document_in_working_days(world: World) -> None:
    portal = world.emulator.portal
    add_contact(portal, "Ирина Смирнова", emails=["irina@client.example"], deal_ids=[world.deal])
    world.add_doc("d1")
    world.add_doc("d2", number="18")
    remind = world.actions()["remind_counterparty"]
    assert statuses(remind.execute([make_request("remind_counterparty", _remind(), "d1")])) == [
        "done"
    ]
    world.clock.now += timedelta(days=4)  # Fri → Tue: 2 working days later
    [skipped, other] = remind.execute(
        [
            make_request("remind_counterparty", _remind(), "d1"),
            make_request("remind_counterparty", _remind(), "d2"),
        ]
    )
    assert skipped.status is OutcomeStatus.DONE and skipped.remote_id is None
    assert "не раньше" in (skipped.reason or "")
    assert other.status is OutcomeStatus.DONE and other.remote_id is not None
    world.clock.now += timedelta(days=3)  # Fri: the 5th working day after the first e-mail
    assert statuses(remind.execute([make_request("remind_counterparty", _remind(), "d1")])) == [
        "done"
    ]
    assert len(activities(portal)) == 3


def test_remind_without_an_email_fails_and_gives_the_manager_one_task(world: World) -> None:
    add_contact(world.emulator.portal, "Без Почты", deal_ids=[world.deal])
    world.add_doc("d1")
    remind = world.actions()["remind_counterparty"]
    request = make_request("remind_counterparty", _remind(), "d1")
    [first] = remind.execute([request])
    [again] = remind.execute([request])
    for outcome in (first, again):
        assert outcome.status is OutcomeStatus.FAILED
        assert "нет e-mail" in (outcome.reason or "") and "задача" in (outcome.reason or "")
    [task] = world.emulator.tasks()
    assert task["responsibleId"] == str(world.manager) and "Напомнить" in task["title"]
    assert activities(world.emulator.portal) == []
    [plain] = remind.execute([make_request("remind_counterparty", _remind(no_email="fail"), "d1")])
    assert plain.status is OutcomeStatus.FAILED and "задача" not in (plain.reason or "")
    assert len(world.emulator.tasks()) == 1


def test_emulated_email_activity_needs_a_valid_address(world: World) -> None:
    fields = {"OWNER_TYPE_ID": DEAL, "OWNER_ID": world.deal, "TYPE_ID": 4,
              "COMMUNICATIONS": [{"VALUE": "not-an-email", "ENTITY_TYPE_ID": 3}]}  # fmt: skip
    assert "e-mail" in _rest(world, "crm.activity.add", {"fields": fields})["error_description"]
    no_owner = {**fields, "OWNER_ID": 999999}
    assert _rest(world, "crm.activity.add", {"fields": no_owner})["error"] == ""


# -- accounting --------------------------------------------------------------------------------
def test_accounting_is_a_user_or_a_department_head(world: World) -> None:
    portal = world.emulator.portal
    department = portal.add_department("Бухгалтерия")
    accountant = portal.add_user("Галина Бухгалтерова", departments=[department])
    portal.set_department_head(department, accountant)
    world.add_doc("d1")
    request = make_request("task", {"responsible": "accounting", "title": "Оплата"}, "d1")
    by_department = world.actions(accounting={"department": department})["task"]
    assert statuses(by_department.execute([request])) == ["done"]
    by_user = world.actions(accounting={"user": world.head})["task"]
    second = make_request("task", {"responsible": "accounting", "title": "Оплата 2"}, "d1")
    assert statuses(by_user.execute([second])) == ["done"]
    assert [t["responsibleId"] for t in world.emulator.tasks()] == [
        str(accountant),
        str(world.head),
    ]
    [missing] = world.actions()["task"].execute(
        [make_request("task", {"responsible": "accounting", "title": "x"}, "d1")]
    )
    assert missing.status is OutcomeStatus.FAILED
    unresolved = "не удалось определить получателя 'accounting' для документа d1"
    assert f"{unresolved}: не задан bitrix24.accounting" in (missing.reason or "")


# -- the register (mirror into the smart process) in Russian -----------------------------------
def test_register_item_has_russian_status_its_stage_and_the_manager(world: World) -> None:
    settings = world.settings(mirror=REGISTER)
    client = world.client(settings)
    first = setup_portal(client, settings)
    [register] = types(world.emulator.portal)
    spa = register["id"]
    note = next(str(n) for n in first.notes if "bitrix24.mirror.fields" in str(n))
    assert f"overdue: UF_CRM_{spa}_EDO_OVERDUE" in note
    assert sorted((f["fieldName"], f["userTypeId"]) for f in spa_fields(world.emulator.portal)) == [
        (f"UF_CRM_{spa}_EDO_OVERDUE", "boolean"),
        (f"UF_CRM_{spa}_EDO_PDF_URL", "url"),
        (f"UF_CRM_{spa}_EDO_SIGNERS", "string"),
        (f"UF_CRM_{spa}_EDO_STATUS", "string"),
    ]
    category = _rest(world, "crm.category.list", {"entityTypeId": 1100})["result"]["categories"][0]
    fields = {"status": f"UF_CRM_{spa}_EDO_STATUS", "overdue": f"UF_CRM_{spa}_EDO_OVERDUE"}
    mirror_config = {**REGISTER, "category_id": category["id"], "fields": fields}
    again = setup_portal(client, world.settings(mirror=mirror_config))
    assert again.nothing_to_do and not any("mirror.fields" in str(n) for n in again.notes)
    world.add_doc("d1", status=Status.SIGNED)
    mirror = world.actions(mirror=mirror_config)["mirror"]
    assert statuses(mirror.execute([make_request("mirror", {"overdue": True}, "d1")])) == ["done"]
    [item] = world.emulator.portal.items(register["entityTypeId"])
    assert item[f"UF_CRM_{spa}_EDO_STATUS"] == "подписан"
    assert item[f"UF_CRM_{spa}_EDO_OVERDUE"] is True
    assert item["stageId"] == f"DT1100_{category['id']}:EDO_SIGNED"
    assert item["assignedById"] == world.manager and item["parentId2"] == world.deal
    wrong = {**mirror_config, "fields": {"status": "UF_CRM_999_EDO_STATUS"}}
    [conflict] = setup_portal(client, world.settings(mirror=wrong)).problems
    assert conflict.state is State.CONFLICT and f"не CRM_{spa}" in str(conflict.detail)


# -- setup -------------------------------------------------------------------------------------
def test_setup_creates_once_then_reports_nothing_to_do(world: World) -> None:
    settings = world.settings(card={**CARD, "url_field": "UF_CRM_EDO_URL"}, mirror=REGISTER)
    client = world.client(settings)
    portal = world.emulator.portal
    before = snapshot(portal)
    plan = setup_portal(client, settings, mode="plan")
    assert snapshot(portal) == before  # --dry-run writes nothing
    assert {s.state for s in plan.steps} == {State.MISSING} and not plan.nothing_to_do
    first = setup_portal(client, settings)
    assert {s.state for s in first.steps} == {State.CREATED}
    second = setup_portal(client, settings)
    assert second.nothing_to_do and {s.state for s in second.steps} == {State.MATCHED}
    names = sorted((f["ENTITY_ID"], f["FIELD_NAME"], f["USER_TYPE_ID"]) for f in userfields(portal))
    assert names == [
        ("CRM_COMPANY", "UF_CRM_EDO_STATUS", "string"),
        ("CRM_COMPANY", "UF_CRM_EDO_URL", "url"),
        ("CRM_DEAL", "UF_CRM_EDO_STATUS", "string"),
        ("CRM_DEAL", "UF_CRM_EDO_URL", "url"),
    ]
    assert all(f["EDIT_FORM_LABEL"]["ru"].startswith("Документы ЭДО") for f in userfields(portal))
    [register] = types(portal)
    assert register["title"] == "Документы ЭДО" and register["entityTypeId"] == 1100
    assert register["relations"]["parent"] == [
        {"entityTypeId": 2, "isChildrenListEnabled": "Y", "isPredefined": "N"},
        {"entityTypeId": 4, "isChildrenListEnabled": "Y", "isPredefined": "N"},
    ]
    category = _rest(world, "crm.category.list", {"entityTypeId": 1100})["result"]["categories"][0]
    names_ru = [s["NAME"] for s in stages(portal, f"DYNAMIC_1100_STAGE_{category['id']}")]
    assert {"Ждёт подписи контрагента", "Подписан", "Отклонён", "Аннулирован"} <= set(names_ru)
    assert any("category_id" in str(note) for note in second.notes)


def test_setup_completes_a_register_that_lacks_the_card_relations(world: World) -> None:
    created = _rest(world, "crm.type.add", {"fields": {"title": "Старый реестр",
                                                       "entityTypeId": 1100}})  # fmt: skip
    assert created["result"]["type"]["relations"]["parent"] == []
    settings = world.settings(mirror=REGISTER)
    check = setup_portal(world.client(settings), settings, mode="check")
    lacking = [s for s in check.problems if "связь parent" in str(s.what)]
    assert lacking and "нет для сделки, компании" in str(lacking[0].detail)
    with in_language("en"):
        assert str(lacking[0]).endswith(
            "missing: the documents' list in the deal and company cards (parent relation)"
            " (lacking for deals, companies)"
        )
    report = setup_portal(world.client(settings), settings)
    assert any(s.state is State.CREATED and "связь parent" in str(s.what) for s in report.steps)
    [register] = types(world.emulator.portal)
    assert [r["entityTypeId"] for r in register["relations"]["parent"]] == [2, 4]


def test_setup_flags_a_field_of_another_type_and_needs_an_admin(world: World) -> None:
    _rest(world, "crm.deal.userfield.add",
          {"fields": {"FIELD_NAME": "EDO_STATUS", "USER_TYPE_ID": "integer"}})  # fmt: skip
    settings = world.settings(card={"deal_field": "UF_CRM_EDO_STATUS"})
    report = setup_portal(world.client(settings), settings)
    [conflict] = report.problems
    assert conflict.state is State.CONFLICT and "integer" in str(conflict.detail)
    manager_hook = world.emulator.add_webhook(world.manager)
    manager_settings = Bitrix24Settings.from_mapping(
        {"webhook_url": manager_hook, "mirror": REGISTER}, where="edo-rules.yaml"
    )
    client = make_client(manager_settings)
    try:
        with pytest.raises(Bitrix24Error, match="ACCESS_DENIED"):
            setup_portal(client, manager_settings)
    finally:
        client.close()


def test_emulated_userfields_and_stages_follow_the_portals_rules(world: World) -> None:
    long_name = {"FIELD_NAME": "EDO_STATUS_SUMMARY_X", "USER_TYPE_ID": "string"}
    assert (
        "20" in _rest(world, "crm.deal.userfield.add", {"fields": long_name})["error_description"]
    )
    _rest(world, "crm.type.add", {"fields": {"title": "Р", "entityTypeId": 1100}})
    category = _rest(world, "crm.category.list", {"entityTypeId": 1100})["result"]["categories"][0]
    entity = f"DYNAMIC_1100_STAGE_{category['id']}"
    wrong = {"ENTITY_ID": entity, "STATUS_ID": "EDO_SENT", "NAME": "x"}
    assert "DT1100_" in _rest(world, "crm.status.add", {"fields": wrong})["error_description"]
    right = {**wrong, "STATUS_ID": f"DT1100_{category['id']}:EDO_SENT"}
    assert isinstance(_rest(world, "crm.status.add", {"fields": right})["result"], int)
    taken = _rest(world, "crm.type.add", {"fields": {"title": "Р2", "entityTypeId": 1100}})
    assert taken["error"] == "ERROR_VALUE"
    got = _rest(world, "crm.type.get", {"id": 1100})  # crm.type.get takes the settings id
    assert got["error"] == "NOT_FOUND"


# -- the CLI -----------------------------------------------------------------------------------
def _config(tmp_path: Path, world: World) -> Path:
    (tmp_path / "playbooks").mkdir()
    data = {
        "store": {"path": str(tmp_path / "edo-rules.db")},
        "playbooks": str(tmp_path / "playbooks"),
        "bitrix24": {"webhook_url": world.webhook, "card": CARD, "mirror": REGISTER},
    }
    path = tmp_path / "edo-rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _cyrillic_outside_quotes(text: str) -> bool:
    """Russian left in English output, the portal's own words in «ёлочках» aside."""
    return re.search("[а-яё]", re.sub("«[^»]*»", "", text), re.IGNORECASE) is not None


def test_cli_setup_dry_run_then_twice_and_validate_online(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(tmp_path, world))
    portal = world.emulator.portal
    before = snapshot(portal)
    assert main(["validate", "--config", config, "--online"]) == 1
    out = capsys.readouterr().out
    assert "нет: поле сделки UF_CRM_EDO_STATUS (string)" in out
    assert "в портале не хватает объектов: 4; выполните `edo-rules bitrix24 setup`\n" in out
    assert main(["validate", "--config", config, "--online", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "bitrix24:      missing: deal field UF_CRM_EDO_STATUS (string)\n" in out
    assert "missing: smart process «Документы ЭДО» (entityTypeId 1100)\n" in out
    assert not _cyrillic_outside_quotes(out), out  # the portal's words, in «», stay Russian
    assert main(["bitrix24", "setup", "--config", config, "--dry-run"]) == 1
    dry = capsys.readouterr().out
    assert dry.endswith("пробный прогон: будет создано объектов: 4; ничего не записано\n")
    assert "         нет: смарт-процесс «Документы ЭДО» (entityTypeId 1100)\n" in dry
    assert main(["bitrix24", "setup", "--config", config, "--dry-run", "--lang", "en"]) == 1
    dry = capsys.readouterr().out
    assert "     missing: links to deals and companies, stages by status\n" in dry
    assert not _cyrillic_outside_quotes(dry), dry
    assert snapshot(portal) == before
    assert main(["bitrix24", "setup", "--config", config]) == 0
    created = capsys.readouterr().out
    assert "создано: поле сделки UF_CRM_EDO_STATUS (string)" in created
    assert main(["bitrix24", "setup", "--config", config]) == 0
    assert capsys.readouterr().out.endswith(
        "делать нечего: в портале уже есть всё, что нужно конфигу\n"
    )
    assert main(["bitrix24", "setup", "--config", config, "--lang", "en"]) == 0
    assert capsys.readouterr().out.endswith(
        "nothing to do: the portal already has everything the config needs\n"
    )
    assert main(["validate", "--config", config, "--online"]) == 0
    assert capsys.readouterr().out.endswith("OK: в портале есть всё, что нужно конфигу\n")
    assert main(["validate", "--config", config, "--online", "--lang", "en"]) == 0
    assert capsys.readouterr().out.endswith("OK: the portal has everything the config needs\n")
    assert len(userfields(portal)) == 2 and len(types(portal)) == 1


def test_company_card_gets_its_own_documents(world: World) -> None:
    portal = world.emulator.portal
    other = portal.add_company("ООО «Лютик»", inn="7700000002", assigned_by=world.manager)
    world.add_doc("mine")
    lutik = Counterparty("ООО «Лютик»", inn="7700000002")
    world.store.upsert_documents(
        [make_doc("theirs", "7700000002", number="99", counterparty=lutik)]
    )
    card = world.actions(card={"deal_field": None, "company_field": "UF_CRM_EDO_STATUS"})
    requests = [make_request("card_status", {}, d) for d in ("mine", "theirs")]
    assert statuses(card["card_status"].execute(requests)) == ["done", "done"]
    assert company(portal, other)["UF_CRM_EDO_STATUS"].startswith("Акт № 99")
    assert company(portal, world.company)["UF_CRM_EDO_STATUS"].startswith("Акт № 17")
    assert "UF_CRM_EDO_STATUS" not in portal.deal(world.deal)
    assert logmessages(portal, COMPANY, other) == []


def test_every_status_kind_and_direction_has_a_russian_label_and_a_stage() -> None:
    from edo_rules import ru
    from edo_rules.actions.bitrix24._register import STAGE_CODES, stage_name
    from edo_rules.model import Direction

    for code in (*Status, *Kind, *Direction):
        assert ru.label(code) != code.value and ru.label(code.value) == ru.label(code)
    assert set(STAGE_CODES) == set(Status) and len(set(STAGE_CODES.values())) == len(Status)
    assert stage_name(Status.SENT) == "Ждёт подписи контрагента"
    assert ru.label("no-such-code") == "no-such-code"
    assert ru.card_text([f"строка {n}" for n in range(25)], limit=20).splitlines()[-1] == (
        "… и ещё 6 док."
    )


def test_validate_names_a_missing_accounting_section(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, world)
    playbook = (
        "version: 1\nname: pay\nrules:\n  - id: pay\n    when: {status_changed: {to: signed}}\n"
        "    do:\n      - task: {responsible: accounting, title: Оплатить}\n"
    )
    (tmp_path / "playbooks" / "pay.yaml").write_text(playbook, encoding="utf-8")
    assert main(["validate", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "pay.yaml:7:9: task: получателю «accounting» нужен раздел bitrix24.accounting" in out
    data = yaml.safe_load(config.read_text("utf-8"))
    data["bitrix24"]["accounting"] = {"user": world.head}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["validate", "--config", str(config)]) == 0


def test_setup_says_a_universal_list_is_left_to_the_admin(world: World) -> None:
    settings = world.settings(mirror={"target": "list", "iblock_id": 42})
    report = setup_portal(world.client(settings), settings, mode="check")
    assert [str(s.what) for s in report.problems] == ["поле сделки UF_CRM_EDO_STATUS (string)"]
    assert [str(s.what) for s in report.steps if s.state is State.MATCHED] == [
        "поле списка 42 NAME «Документ» (title)"
    ]
    assert any("универсальный список" in str(note) for note in report.notes)
    with in_language("en"):  # the same report, shown under --lang en; the label stays the portal's
        assert [str(s.what) for s in report.problems] == ["deal field UF_CRM_EDO_STATUS (string)"]
        assert str(report.steps[-1]) == "     present: list 42 field NAME «Документ» (title)"
        assert any("the register is a universal list" in str(note) for note in report.notes)


def test_validate_online_names_the_list_field_that_is_missing(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    portal = world.emulator.portal
    portal.add_list(43, "edo_register", {301: ("STATUS", "Статус ЭДО")})
    fields = {"status": "PROPERTY_301", "overdue": "PROPERTY_302"}
    path = _config(tmp_path, world)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["bitrix24"]["mirror"] = {"target": "list", "iblock_id": 43, "fields": fields}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = (snapshot(portal), portal.list_elements(43))
    assert main(["validate", "--config", str(path), "--online"]) == 1
    out = capsys.readouterr().out
    assert "нет: поле списка 43 PROPERTY_302 «Просрочен» (overdue)" in out, out
    assert "PROPERTY_301" not in out and "в портале не хватает объектов: 3;" in out, out
    assert main(["validate", "--config", str(path), "--online", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "missing: list 43 field PROPERTY_302 «Просрочен» (overdue) (add it in the list's" in out
    assert "note: the register is a universal list: setup checks its fields" in out, out
    assert not _cyrillic_outside_quotes(out), out
    assert (snapshot(portal), portal.list_elements(43)) == before
    # setup makes the card's field, not list fields: it names the missing one and exits 1
    assert main(["bitrix24", "setup", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "уже есть: поле списка 43 PROPERTY_301 «Статус ЭДО» (status)" in out, out
    assert "нет: поле списка 43 PROPERTY_302 «Просрочен» (overdue)" in out, out
    assert portal.list_elements(43) == before[1] and len(userfields(portal)) == 2
    # Only the list's field is missing now: validate no longer sends the admin to setup.
    assert main(["validate", "--config", str(path), "--online"]) == 1
    out = capsys.readouterr().out
    assert "не хватает объектов: 1; setup их не создаёт" in out, out
    assert "bitrix24 setup`" not in out, out
    wrong = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 43, "FIELD_ID": "PROPERTY_302"}
    assert _rest(world, "lists.field.get", wrong)["result"] == []
    one = _rest(world, "lists.field.get", {**wrong, "FIELD_ID": "PROPERTY_301"})["result"]
    assert one["PROPERTY_301"]["CODE"] == "STATUS" and one["PROPERTY_301"]["ID"] == "301"
    missing = _rest(world, "lists.field.get", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 99})
    assert missing["error"] == "ERROR_IBLOCK_NOT_FOUND"


def test_the_card_counts_waiting_days_with_the_calendars_own_count() -> None:
    # The runner passes the production calendar's working_days_between; the day-by-day
    # walk over is_working_day (what a caller without it gets) must give the same figures.
    from edo_rules.actions.bitrix24.adapters.card import _counter
    from edo_rules.calendar import CalendarWarning, ProductionCalendar

    calendar = ProductionCalendar.russia()
    fast = _counter(calendar.is_working_day, calendar.working_days_between)
    walk = _counter(calendar.is_working_day, None)
    start = date(2025, 12, 20)
    for first in range(0, 40, 3):
        for length in (0, 1, 5, 9, 30, 140):
            a = start + timedelta(days=first)
            assert fast(a, a + timedelta(days=length)) == walk(a, a + timedelta(days=length))
    assert fast(date(2026, 1, 1), date(2026, 1, 11)) == 0  # the New Year holidays
    assert fast(date(2026, 1, 9), date(2026, 1, 12)) == 1
    assert fast(date(2026, 3, 10), date(2026, 3, 2)) == 0  # dated ahead of today: not waiting
    # Sent before the calendar's first year (2013): counted from that year, not an error.
    old, later = date(2012, 12, 20), date(2013, 1, 15)
    with warnings.catch_warnings():  # 2013 is derived, not bundled (said once a process)
        warnings.simplefilter("ignore", CalendarWarning)
        assert fast(old, later) == walk(old, later) == 5  # 9, 10, 11, 14, 15 January
