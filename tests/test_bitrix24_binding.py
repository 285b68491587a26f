"""CRM binding strategies and the binding cache, against the emulator and a SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from _bitrix24_helpers import World, make_doc, make_world

from edo_rules.actions.bitrix24 import Binding, Bitrix24Error, CrmBinder, RecipientError
from edo_rules.model import ContractRef, Counterparty, CrmBinding


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def _binder(world: World, **section: object) -> CrmBinder:
    settings = world.settings(**section)
    return CrmBinder(world.client(settings), world.store, settings, now=world.clock)


def test_inn_finds_the_company_and_the_latest_open_deal(world: World) -> None:
    portal = world.emulator.portal
    newer = portal.add_deal("Новая", company_id=world.company, assigned_by=world.head)
    portal.add_deal("Закрытая", company_id=world.company, closed=True)
    found = _binder(world).bind([make_doc("d1", "7700000001")])["d1"]
    assert found == Binding(world.company, newer, world.manager, world.head)
    assert isinstance(found, Binding) and found.assigned == world.head


def test_deal_by_a_field_holding_the_contract_number(world: World) -> None:
    portal = world.emulator.portal
    portal.add_deal("Другая", company_id=world.company, fields={"UF_CRM_1C_CONTRACT": "Д-2"})
    binder = _binder(world, deal={"strategy": "field", "field": "UF_CRM_1C_CONTRACT"})
    found = binder.bind(
        [make_doc("d1", "7700000001"), make_doc("d2", "7700000001", contract=ContractRef("Д-404"))]
    )
    assert found["d1"] == Binding(world.company, world.deal, world.manager, world.manager)
    assert found["d2"] == Binding(world.company, None, world.manager, None)


def test_strategy_none_and_explicit_bindings(world: World) -> None:
    binder = _binder(world, deal={"strategy": "none"})
    explicit = make_doc("e", None, crm=CrmBinding(company_id=world.company, deal_id=world.deal))
    found = binder.bind([make_doc("d1", "7700000001"), explicit, make_doc("x", None)])
    assert found["d1"] == Binding(world.company, None, world.manager, None)
    assert found["e"] == Binding(world.company, world.deal, world.manager, world.manager)
    assert found["x"] == Binding()


def test_lookups_are_cached_in_the_store_for_their_lifetime(world: World) -> None:
    binder = _binder(world, cache_ttl=600)
    docs = [make_doc(f"d{i}", "7700000001") for i in range(5)]
    binder.bind(docs)
    calls = world.emulator.stats()
    binder.bind(docs)
    assert world.emulator.stats() == calls  # everything came from the cache
    assert binder.head_of(world.manager) == world.head
    head_calls = world.emulator.stats()
    assert binder.head_of(world.manager) == world.head
    assert world.emulator.stats() == head_calls
    world.clock.now += timedelta(seconds=601)
    binder.bind(docs)
    assert world.emulator.stats()["requests"] > calls["requests"]


def test_unknown_inn_is_cached_as_absent(world: World) -> None:
    binder = _binder(world)
    doc = make_doc("d1", None, counterparty=Counterparty("ИП", inn="1111111111"))
    assert binder.bind([doc])["d1"] == Binding()
    with pytest.raises(RecipientError) as caught:
        binder.recipient("responsible", doc, Binding())
    text = str(caught.value)
    assert text.startswith("RECIPIENT_UNRESOLVED: не удалось определить получателя 'responsible'")
    assert "нет ни ответственного по сделке или компании" in text
    assert "\nЧто сделать: привяжите документ к сделке" in text and "fallback_user" in text


def test_a_lookup_failure_is_reported_per_document(world: World) -> None:
    world.webhook = world.emulator.add_webhook(world.director, scopes={"im"})
    found = _binder(world).bind([make_doc("d1", "7700000001")])["d1"]
    assert isinstance(found, Bitrix24Error) and found.code == "insufficient_scope"
    assert "Что сделать: добавьте право «crm» входящему вебхуку" in str(found)


def test_head_without_any_head_above_is_none(world: World) -> None:
    binder = _binder(world)
    assert binder.head_of(world.director) is None  # the top department's head has no one above
    assert binder.head_of(world.head) == world.director
