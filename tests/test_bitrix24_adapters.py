"""Every Bitrix24 action end to end: adapters → client → HTTP → the emulator → a SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from _bitrix24_helpers import World, make_request, make_world, statuses

from edo_rules.actions.bitrix24.adapters import ACTIONS, element_code, marker
from edo_rules.emulators.bitrix24 import Fault
from edo_rules.model import Counterparty, CrmBinding, OutcomeStatus, Status


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def test_every_schema_is_valid_and_checks_examples() -> None:
    examples = {
        "notify": {"to": "responsible", "text": "x"},
        "task": {"responsible": 5, "title": "t", "deadline": "1 working day"},
        "comment": {"text": "x", "on": "deal"},
        "deal_stage": {"stage": "C1:PREPAYMENT_INVOICE"},
        "todo": {"title": "t", "deadline": "2 рабочих дня"},
        "invoice": {"amount": "from_document"},
        "workflow": {"template_id": 7, "parameters": {"a": 1}},
        "mirror": {"target": "list", "overdue": True},
        "card_status": {"on": "both"},
        "timeline": {"title": "ЭДО", "text": "подписан", "icon": "info"},
        "remind_counterparty": {"text": "Добрый день", "every": "5 рабочих дней"},
        "task_comment": {"text": "x"},
    }
    for name, cls in ACTIONS.items():
        jsonschema.Draft202012Validator.check_schema(cls.params_schema)
        jsonschema.validate(examples[name], cls.params_schema)
    bad = jsonschema.Draft202012Validator(ACTIONS["notify"].params_schema)
    assert list(bad.iter_errors({"to": "boss", "text": "x"}))
    assert list(bad.iter_errors({"to": 5}))


def test_notify_reaches_explicit_responsible_and_head(world: World) -> None:
    world.add_doc("d1")
    notify = world.actions()["notify"]
    requests = [
        make_request("notify", {"to": world.director, "text": "прямо"}, "d1"),
        make_request("notify", {"to": "responsible", "text": "менеджеру"}, "d1"),
        make_request("notify", {"to": "head_of_responsible", "text": "руководителю"}, "d1"),
    ]
    outcomes = notify.execute(requests)
    assert statuses(outcomes) == ["done"] * 3
    assert [o.request_id for o in outcomes] == [r.id for r in requests]
    emu = world.emulator
    assert [n["message"] for n in emu.notifications(user_id=world.director)] == ["прямо"]
    assert [n["message"] for n in emu.notifications(user_id=world.manager)] == ["менеджеру"]
    assert [n["message"] for n in emu.notifications(user_id=world.head)] == ["руководителю"]


def test_head_of_a_head_is_the_parent_departments_head(world: World) -> None:
    world.add_doc("d1", crm=CrmBinding(company_id=None))
    world.emulator.portal.t.companies[world.company]["ASSIGNED_BY_ID"] = str(world.head)
    world.emulator.portal.t.deals[world.deal]["ASSIGNED_BY_ID"] = str(world.head)
    outcome = world.actions()["notify"].execute(
        [make_request("notify", {"to": "head_of_responsible", "text": "x"}, "d1")]
    )
    assert statuses(outcome) == ["done"]
    assert len(world.emulator.notifications(user_id=world.director)) == 1


def test_resending_a_notification_replaces_it(world: World) -> None:
    world.add_doc("d1")
    notify = world.actions()["notify"]
    request = make_request("notify", {"to": world.manager, "text": "напоминание"}, "d1")
    assert statuses(notify.execute([request])) == ["done"]
    assert notify.check(request) is None  # re-sending is safe
    assert statuses(notify.execute([request])) == ["done"]
    visible = world.emulator.notifications(user_id=world.manager)
    assert len(visible) == 1 and visible[0]["tag"] == marker(request.idempotency_key)


def test_unresolvable_recipient_fails_that_request_only(world: World) -> None:
    world.add_doc("ok")
    world.add_doc(
        "orphan",
        counterparty=Counterparty("ИП Никто", inn="0000000000"),
    )
    notify = world.actions()["notify"]
    outcomes = notify.execute(
        [
            make_request("notify", {"to": "responsible", "text": "x"}, "orphan"),
            make_request("notify", {"to": "responsible", "text": "x"}, "ok"),
            make_request("notify", {"to": 5, "text": "x"}, "missing-doc"),
        ]
    )
    assert statuses(outcomes) == ["failed", "done", "failed"]
    assert "не удалось определить получателя 'responsible'" in (outcomes[0].reason or "")
    assert "fallback_user" in (outcomes[0].reason or "")
    assert "not in the store" in (outcomes[2].reason or "")


def test_fallback_and_1c_user_mapping(world: World) -> None:
    world.add_doc("mapped", counterparty=Counterparty("ИП", inn="0000000001"))
    world.add_doc(
        "fallback",
        responsible="Неизвестный",
        counterparty=Counterparty("ИП", inn="0000000002"),
    )
    notify = world.actions(users={"Петров П. П.": world.head}, fallback_user=world.director)[
        "notify"
    ]
    outcomes = notify.execute(
        [
            make_request("notify", {"to": "responsible", "text": "m"}, "mapped"),
            make_request("notify", {"to": "responsible", "text": "f"}, "fallback"),
        ]
    )
    assert statuses(outcomes) == ["done", "done"]
    assert [n["message"] for n in world.emulator.notifications(user_id=world.head)] == ["m"]
    assert [n["message"] for n in world.emulator.notifications(user_id=world.director)] == ["f"]


def test_task_carries_its_key_and_is_found_after_a_crash(world: World) -> None:
    world.add_doc("d1")
    task = world.actions()["task"]
    request = make_request(
        "task",
        {"responsible": "responsible", "title": "Позвонить", "deadline": "1 working day"},
        "d1",
    )
    unsent = make_request("task", {"responsible": 5, "title": "x"}, "d1")
    assert task.check(unsent) is None
    [outcome] = task.execute([request])
    assert outcome.status is OutcomeStatus.DONE and outcome.remote_id
    [created] = world.emulator.tasks()
    assert created["xmlId"] == marker(request.idempotency_key)
    assert created["responsibleId"] == str(world.manager)
    assert created["deadline"] == "2026-11-30T18:00:00+03:00"  # Friday → Monday, end of day, Moscow
    assert set(created["ufCrmTask"]) == {f"D_{world.deal}", f"CO_{world.company}"}
    checked = task.check(request)
    assert checked is not None and checked.status is OutcomeStatus.DONE
    assert checked.remote_id == outcome.remote_id


def test_task_lost_answer_is_checked_not_duplicated(world: World) -> None:
    world.add_doc("d1")
    task = world.actions()["task"]
    world.emulator.inject(Fault("500", method="batch", ran=True))
    world.emulator.inject(Fault("500", method="tasks.task.add", ran=True))
    [outcome] = task.execute([make_request("task", {"responsible": 5, "title": "x"}, "d1")])
    assert outcome.status is OutcomeStatus.DONE
    assert len(world.emulator.tasks()) == 1


def test_task_not_run_on_5xx_is_retried(world: World) -> None:
    world.add_doc("d1")
    world.emulator.inject(Fault("500", method="tasks.task.add"))
    [outcome] = world.actions()["task"].execute(
        [make_request("task", {"responsible": 5, "title": "x"}, "d1")]
    )
    assert outcome.status is OutcomeStatus.RETRY
    assert "проверено: не создано" in (outcome.reason or "")
    assert world.emulator.tasks() == []


def test_batch_partial_failure_maps_to_its_request(world: World) -> None:
    world.add_doc("d1")
    task = world.actions()["task"]
    requests = [
        make_request("task", {"responsible": user, "title": "t"}, "d1") for user in (5, 9999, 5)
    ]
    outcomes = task.execute(requests)
    assert statuses(outcomes) == ["done", "failed", "done"]
    assert "ERROR_CORE" in (outcomes[1].reason or "") and "9999" in (outcomes[1].reason or "")
    assert len(world.emulator.tasks()) == 2


def test_comment_marker_makes_it_checkable(world: World) -> None:
    world.add_doc("d1")
    comment = world.actions()["comment"]
    request = make_request("comment", {"text": "Договор подписан"}, "d1")
    assert comment.check(request) is None
    assert statuses(comment.execute([request])) == ["done"]
    [stored] = world.emulator.comments()
    assert stored["ENTITY_TYPE"] == "deal" and stored["ENTITY_ID"] == str(world.deal)
    assert stored["COMMENT"].startswith("Договор подписан")
    checked = comment.check(request)
    assert checked is not None and checked.remote_id == stored["ID"]
    on_company = make_request("comment", {"text": "c", "on": "company"}, "d1")
    assert statuses(comment.execute([on_company])) == ["done"]
    assert world.emulator.comments()[1]["ENTITY_TYPE"] == "company"


def test_deal_stage_moves_and_checks(world: World) -> None:
    world.add_doc("d1")
    stage = world.actions()["deal_stage"]
    request = make_request("deal_stage", {"stage": "PREPAYMENT_INVOICE"}, "d1")
    assert stage.check(request) is None
    assert statuses(stage.execute([request])) == ["done"]
    assert world.emulator.portal.deal(world.deal)["STAGE_ID"] == "PREPAYMENT_INVOICE"
    checked = stage.check(request)
    assert checked is not None and checked.status is OutcomeStatus.DONE
    [bad] = stage.execute([make_request("deal_stage", {"stage": "C7:NOPE"}, "d1")])
    assert bad.status is OutcomeStatus.FAILED and "C7:NOPE" in (bad.reason or "")


def test_todo_is_found_by_the_marker_in_its_description(world: World) -> None:
    world.add_doc("d1")
    todo = world.actions()["todo"]
    request = make_request(
        "todo",
        {"title": "Проверить", "deadline": "2 days", "responsible": "head_of_responsible"},
        "d1",
    )
    assert todo.check(request) is None  # not sent yet: safe to send
    [done] = todo.execute([request])
    assert done.status is OutcomeStatus.DONE
    [created] = world.emulator.portal.todos()
    assert created["ownerTypeId"] == 2 and created["responsibleId"] == world.head
    assert created["description"].endswith(f"#{marker(request.idempotency_key)}")
    checked = todo.check(request)
    assert checked is not None and checked.status is OutcomeStatus.DONE
    assert checked.remote_id == str(created["id"])
    # The add ran but its answer was lost: the look-up finds it, nothing is made twice.
    other = make_request("todo", {"title": "x", "deadline": "4 hours"}, "d1")
    world.emulator.inject(Fault("html", method="crm.activity.todo.add", ran=True))
    [found] = todo.execute([other])
    assert found.status is OutcomeStatus.DONE and len(world.emulator.portal.todos()) == 2
    # The same marker on another deal's to-do does not count (the owner is in the filter).
    assert todo.find_existing([other])[0].remote_id == found.remote_id


def test_invoice_is_looked_up_before_it_is_added(world: World) -> None:
    world.add_doc("d1")
    invoice = world.actions()["invoice"]
    request = make_request("invoice", {"amount": "from_document"}, "d1")
    [first] = invoice.execute([request])
    [again] = invoice.execute([request])
    assert first.status is again.status is OutcomeStatus.DONE and first.remote_id == again.remote_id
    [item] = world.emulator.portal.items(31)
    assert item["opportunity"] == 125000.5 and item["companyId"] == world.company
    assert item["parentId2"] == world.deal
    assert item["xmlId"] == marker(f"invoice\x1fdeal:{world.deal}\x1fd1")  # once per (deal, doc)
    checked = invoice.check(request)
    assert checked is not None and checked.remote_id == first.remote_id


def test_workflow_starts_and_needs_an_admin(world: World) -> None:
    world.add_doc("d1")
    [ok] = world.actions()["workflow"].execute(
        [make_request("workflow", {"template_id": 7, "parameters": {"x": "1"}}, "d1")]
    )
    assert ok.status is OutcomeStatus.DONE
    assert world.emulator.portal.workflows()[0]["document_id"] == [
        "crm",
        "CCrmDocumentDeal",
        f"DEAL_{world.deal}",
    ]
    world.webhook = world.emulator.add_webhook(world.manager)
    [denied] = world.actions()["workflow"].execute(
        [make_request("workflow", {"template_id": 7}, "d1")]
    )
    assert denied.status is OutcomeStatus.FAILED and "ACCESS_DENIED" in (denied.reason or "")
    assert "administrator" in (denied.reason or "")


def test_mirror_list_upserts_and_replaces_every_field(world: World) -> None:
    world.add_doc("d1")
    fields = {
        "status": "PROPERTY_101",
        "company": "PROPERTY_102",
        "overdue": "PROPERTY_103",
        "counterparty_signed_at": "PROPERTY_104",
        "pdf_url": "PROPERTY_105",
    }
    mirror = world.actions(mirror={"target": "list", "iblock_id": 42, "fields": fields})["mirror"]
    assert statuses(mirror.execute([make_request("mirror", {"overdue": True}, "d1")])) == ["done"]
    [element] = world.emulator.portal.list_elements(42)
    assert element["CODE"] == element_code("d1") and element["NAME"].startswith("Акт № 17")
    assert list(element["PROPERTY_101"].values()) == ["ждёт подписи контрагента"]
    assert list(element["PROPERTY_102"].values()) == [f"CO_{world.company}"]
    assert list(element["PROPERTY_103"].values()) == ["Y"]
    world.add_doc("d1", status=Status.SIGNED, counterparty_signed_at=world.clock.now)
    requests = [make_request("mirror", {}, "d1"), make_request("mirror", {}, "d1")]
    assert statuses(mirror.execute(requests)) == ["done", "done"]
    [element] = world.emulator.portal.list_elements(42)
    assert list(element["PROPERTY_101"].values()) == ["подписан"]
    assert list(element["PROPERTY_103"].values()) == ["N"]
    assert list(element["PROPERTY_104"].values()) == ["27.11.2026 09:00:00"]
    assert list(element["PROPERTY_105"].values()) == ["https://files.example.invalid/doc.pdf"]


def test_mirror_smart_process_upserts_by_xml_id(world: World) -> None:
    world.add_doc("d1")
    mirror = world.actions(
        mirror={
            "target": "smart_process",
            "entity_type_id": 1046,
            "fields": {"status": "ufCrm5Status", "overdue": "ufCrm5Overdue"},
        }
    )["mirror"]
    assert statuses(mirror.execute([make_request("mirror", {}, "d1")])) == ["done"]
    world.add_doc("d1", status=Status.REJECTED)
    assert statuses(mirror.execute([make_request("mirror", {"overdue": True}, "d1")])) == ["done"]
    [item] = world.emulator.portal.items(1046)
    assert item["xmlId"] == element_code("d1") and item["ufCrm5Status"] == "отклонён"
    assert item["ufCrm5Overdue"] is True and item["companyId"] == world.company
    assert item["parentId2"] == world.deal


def test_mirror_without_config_fails_clearly(world: World) -> None:
    world.add_doc("d1")
    [outcome] = world.actions()["mirror"].execute([make_request("mirror", {}, "d1")])
    assert outcome.status is OutcomeStatus.FAILED and "bitrix24.mirror" in (outcome.reason or "")


def test_missing_scope_fails_with_the_scope_to_add(world: World) -> None:
    world.add_doc("d1")
    world.webhook = world.emulator.add_webhook(world.director, scopes={"crm", "user", "department"})
    [outcome] = world.actions()["notify"].execute(
        [make_request("notify", {"to": 5, "text": "x"}, "d1")]
    )
    assert outcome.status is OutcomeStatus.FAILED
    assert "insufficient_scope" in (
        outcome.reason or ""
    ) and "добавьте право «im» входящему вебхуку" in (outcome.reason or "")
