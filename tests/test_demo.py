"""`edo-rules demo`: a short run in-process, its summary checked against both emulators."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from edo_rules.cli import main
from edo_rules.demo import DemoOptions, DemoResult, run_demo
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24.card import activities
from edo_rules.emulators.onec import OUTGOING

#: 1C states → canonical statuses (the bp30 preset), for the states the demo produces.
_STATES = {
    "ОжидаетсяПодтверждение": "sent",
    "ОбменЗавершен": "signed",
    "ОбменЗавершенСИсправлением": "signed_with_corrections",
    "ТребуетсяУточнение": "rejected",
}
_WON_STAGE = "C1:PREPAYMENT_INVOICE"


@pytest.fixture(scope="module")
def demo() -> tuple[DemoResult, dict[str, Any], str]:
    seen: dict[str, Any] = {}

    def inspect(world: World) -> None:
        portal = world.portal
        seen["invoices"] = len(portal.items(31))
        seen["tasks"] = len(portal.tasks())
        seen["comments"] = len(portal.comments())
        seen["notifications"] = portal.notifications()
        seen["mirror"] = portal.list_elements(42)
        seen["emails"] = activities(portal)
        with portal.lock:
            seen["stages"] = Counter(d["STAGE_ID"] for d in portal.t.deals.values())
        base = world.base
        with base.lock:
            keys = [row["Ref_Key"] for row in base.sets[OUTGOING].rows]
        seen["states"] = Counter(base.state(key) for key in keys)

    out = io.StringIO()
    result = run_demo(DemoOptions(days=6, seed=7), out, inspect=inspect)
    return result, seen, out.getvalue()


def test_the_summary_matches_what_bitrix24_holds(
    demo: tuple[DemoResult, dict[str, Any], str],
) -> None:
    result, seen, _ = demo
    assert result.actions_failed == 0 and result.actions_in_doubt == 0
    assert result.invoices == seen["invoices"] > 0
    assert result.tasks == seen["tasks"] > 0
    assert result.comments == seen["comments"] > 0
    assert result.deals_moved == seen["stages"][_WON_STAGE] > 0
    # Every notification has its own TAG: none replaced another, none is shown twice.
    tags = [n["tag"] for n in seen["notifications"]]
    assert result.notifications == len(tags) == len(set(tags)) > 0
    assert result.reminders > 0 and result.escalations > 0


def test_every_document_is_mirrored_once_with_its_status(
    demo: tuple[DemoResult, dict[str, Any], str],
) -> None:
    result, seen, _ = demo
    codes = [element["CODE"] for element in seen["mirror"]]
    assert result.mirrored == result.documents == len(codes) == len(set(codes))


def test_document_statuses_match_the_1c_states(
    demo: tuple[DemoResult, dict[str, Any], str],
) -> None:
    result, seen, _ = demo
    expected = Counter()
    for state, count in seen["states"].items():
        expected[_STATES[state]] += count
    assert dict(result.by_status) == dict(expected)
    assert result.documents == sum(seen["states"].values())


def test_the_timeline_tells_the_story(demo: tuple[DemoResult, dict[str, Any], str]) -> None:
    _, _, text = demo
    assert "Первая синхронизация" in text
    assert text.count("· рабочий день ") == 6
    assert "Правила:" in text and "Битрикс24:" in text
    assert "Итог за 6 рабочих дней" in text
    assert "127.0.0.1" in text


def test_the_command_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--days", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Итог за 1 рабочий день" in out


def test_a_seed_replays_the_same_month() -> None:
    first = run_demo(DemoOptions(days=2, seed=11), io.StringIO())
    second = run_demo(DemoOptions(days=2, seed=11), io.StringIO())
    assert first.by_status == second.by_status
    assert (first.notifications, first.tasks, first.invoices) == (
        second.notifications,
        second.tasks,
        second.invoices,
    )


def test_the_store_can_be_kept_but_is_never_reused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "demo" / "edo.db"
    assert main(["demo", "--days", "1", "--store", str(store)]) == 0
    assert store.is_file() and (store.parent / "edo-rules-demo.yaml").is_file()
    capsys.readouterr()
    assert main(["demo", "--days", "1", "--store", str(store)]) == 1
    assert "already exists; the demo starts from an empty store" in capsys.readouterr().err


def test_the_demo_ends_with_a_deal_card_in_russian(
    demo: tuple[DemoResult, dict[str, Any], str],
) -> None:
    _, _, out = demo
    assert "edo-rules bitrix24 setup — создано: поле сделки UF_CRM_EDO_STATUS" in out
    card = out[out.index("Карточка сделки") :]
    assert "Поле «Документы ЭДО»:" in card and "Таймлайн, записей ЭДО:" in card
    assert any(word in card for word in ("подписан", "ждёт подписи"))
    assert "• ЭДО: " in card and "awaiting" not in card and "signed" not in card


def test_client_emails_in_the_summary_are_the_ones_the_portal_holds(
    demo: tuple[DemoResult, dict[str, Any], str],
) -> None:
    result, seen, out = demo
    origins = [e["ORIGIN_ID"] for e in seen["emails"]]
    assert result.client_emails == len(origins) == len(set(origins)) > 0
    assert f"писем-напоминаний клиентам {result.client_emails}" in out
