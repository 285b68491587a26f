"""Actions that respect CRM state: deal_stage forward only, one invoice per (deal, document)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _bitrix24_helpers import World, make_request, make_world, statuses

from edo_rules.model import OutcomeStatus


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.close()


def _move(world: World, stage: str, **extra: object) -> tuple[str, str | None]:
    action = world.actions()["deal_stage"]
    [outcome] = action.execute([make_request("deal_stage", {"stage": stage, **extra}, "d1")])
    return outcome.status.value, outcome.reason


def _stage(world: World) -> str:
    return str(world.emulator.portal.deal(world.deal)["STAGE_ID"])


def test_deal_stage_moves_forward_only(world: World) -> None:
    world.add_doc("d1")
    assert _move(world, "EXECUTING")[0] == "done" and _stage(world) == "EXECUTING"
    status, reason = _move(world, "PREPAYMENT_INVOICE")
    assert status == "done" and "назад не переводим" in (reason or "")
    assert _stage(world) == "EXECUTING"  # the manager's progress is kept
    assert _move(world, "PREPAYMENT_INVOICE", allow_backward=True)[0] == "done"
    assert _stage(world) == "PREPAYMENT_INVOICE"


def test_deal_stage_skips_closed_deals(world: World) -> None:
    world.add_doc("d1")
    assert _move(world, "LOSE")[0] == "done"
    status, reason = _move(world, "EXECUTING", allow_backward=True)
    assert status == "done" and "закрыта" in (reason or "")
    assert _stage(world) == "LOSE"


def test_stage_order_is_read_once_and_cached(world: World) -> None:
    world.add_doc("d1")
    assert _move(world, "PREPARATION")[0] == "done"
    assert _move(world, "PREPAYMENT_INVOICE")[0] == "done"
    assert _move(world, "EXECUTING")[0] == "done"
    assert world.emulator.stats().get("method:crm.status.list") == 1


def test_stage_outside_the_pipeline_fails_with_the_stages_listed(world: World) -> None:
    world.add_doc("d1")
    status, reason = _move(world, "C7:NOPE")
    assert status == "failed" and "C7:NOPE" in (reason or "")


def test_invoice_is_created_once_per_deal_and_document(world: World) -> None:
    world.add_doc("d1")
    invoice = world.actions()["invoice"]
    first = make_request("invoice", {"title": "Счёт"}, "d1", key="rule-a/do/ep1")
    second = make_request("invoice", {"title": "Счёт"}, "d1", key="rule-b/event/42")
    assert statuses(invoice.execute([first])) == ["done"]
    [again] = invoice.execute([second])
    assert again.status is OutcomeStatus.DONE
    assert len(world.emulator.portal.items(31)) == 1
    world.add_doc("d2")
    assert statuses(invoice.execute([make_request("invoice", {}, "d2")])) == ["done"]
    assert len(world.emulator.portal.items(31)) == 2


def test_emulated_stage_list_and_task_comments(world: World) -> None:
    from edo_rules.actions.bitrix24 import Bitrix24Error

    world.emulator.portal.add_pipeline(1, ["NEW", "PREPAYMENT_INVOICE", "WON", "LOSE"])
    client = world.client()
    rows = client.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE_1"}}).result
    assert [r["STATUS_ID"] for r in rows] == [
        "C1:NEW",
        "C1:PREPAYMENT_INVOICE",
        "C1:WON",
        "C1:LOSE",
    ]
    assert [r["SEMANTICS"] for r in rows] == [None, None, "S", "F"]
    with pytest.raises(Bitrix24Error, match="not found"):
        client.call("task.commentitem.add", {"TASKID": 999, "FIELDS": {"POST_MESSAGE": "x"}})
    task = client.call(
        "tasks.task.add", {"fields": {"TITLE": "t", "RESPONSIBLE_ID": world.manager}}
    ).result["task"]["id"]
    with pytest.raises(Bitrix24Error, match="Comment text"):
        client.call("task.commentitem.add", {"TASKID": task, "FIELDS": {}})
    added = client.call("task.commentitem.add", {"TASKID": task, "FIELDS": {"POST_MESSAGE": "ok"}})
    listed = client.call("task.commentitem.getlist", {"TASKID": task}).result
    assert [c["ID"] for c in listed] == [str(added.result)]
