"""``$expand`` of the referenced catalogs: used where 1C allows it, the same documents either way.

Each publication answer is served over HTTP by the emulator: ``$expand``
honoured, refused with 400, or silently ignored (plain rows). The stores
synced through each must hold identical documents and histories.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import httpx
import pytest
from _onec_helpers import LOGIN, PASSWORD, clock_of, make_base, open_store, settings_for, sync

from edo_rules.emulators.onec import (
    COUNTERPARTIES,
    OUTGOING,
    STATES,
    OneCBase,
    OneCEmulator,
)
from edo_rules.emulators.onec._conduct import Conduct
from edo_rules.sources.onec import OneCSource
from edo_rules.sources.onec._expand import EXPAND_REFUSED
from edo_rules.sources.onec._metadata import METADATA_HASH, parse_metadata
from edo_rules.sources.onec._reading import WANTED
from edo_rules.store.sqlite import SQLiteStore

Answer = Literal["expand", "refuse", "ignore"]
ANSWERS: tuple[Answer, ...] = ("expand", "refuse", "ignore")
CONTRACTS = "Catalog_ДоговорыКонтрагентов"
EDO_KINDS = "Catalog_ВидыДокументовЭДО"
#: One web client address for every emulator (each listens on its own port).
WEB = "http://1c.example/buh/"


@contextmanager
def _serving(base: OneCBase, answer: Answer) -> Iterator[OneCEmulator]:
    with OneCEmulator(base, conduct=Conduct(expand=answer)) as emulator:
        yield emulator


def _asked(emulator: OneCEmulator) -> list[str]:
    return [unquote(path) for path in emulator.requests]


def _new_documents(base: OneCBase, count: int) -> list[str]:
    """Documents of a counterparty and contract created now (unknown to any store)."""
    counterparty = base.add_counterparty("ООО «Новый партнёр»", "7701234567", "770101001")
    contract = base.add_contract(counterparty, "Н-1", date(2026, 11, 1))
    user = base.sets["Catalog_Пользователи"].rows[-1]["Ref_Key"]
    org = base.sets["Catalog_Организации"].rows[0]["Ref_Key"]
    return [
        base.create_document(
            counterparty=counterparty, contract=contract, responsible=user, organization=org
        )
        for _ in range(count)
    ]


def _waiting(base: OneCBase) -> list[str]:
    rows = base.sets[STATES].rows
    return [r["ЭлектронныйДокумент"] for r in rows if r["Состояние"] == "ОжидаетсяПодтверждение"]


def _refresh(emulator: OneCEmulator, store: SQLiteStore, docs: list[str]) -> OneCSource:
    """A refresh in a fresh process (empty caches), as the «Обновить» button's runner."""
    settings = settings_for(emulator, web_url=WEB)
    source = OneCSource(settings, documents=store.get_documents, clock=clock_of(emulator.base))
    try:
        for page in source.refresh(store.get_sync_state(), docs):
            store.write_sync_page(page.documents, page.events, page.state)
    finally:
        source.close()
    return source


def _fields(doc: Any) -> dict[str, Any]:
    return {field.name: getattr(doc, field.name) for field in fields(doc)}


def _content(store: SQLiteStore) -> dict[str, tuple[Any, ...]]:
    return {doc.id: (doc, tuple(store.history(doc.id))) for doc in store.iter_documents()}


def test_documents_are_identical_whether_1c_expands_refuses_or_ignores_expand(
    tmp_path: Path,
) -> None:
    base = make_base(80)
    stores = {answer: open_store(tmp_path, f"{answer}.db") for answer in ANSWERS}
    for answer, store in stores.items():
        with _serving(base, answer) as emulator:
            sync(emulator, store, web_url=WEB)
    base.advance(minutes=30)
    fresh = _new_documents(base, 3)
    for doc in _waiting(base)[:4]:
        base.sign(doc)
    reports = {}
    for answer, store in stores.items():
        with _serving(base, answer) as emulator:
            reports[answer] = sync(emulator, store, web_url=WEB)
    base.advance(minutes=30)
    stored, unseen = _waiting(base)[0], _new_documents(base, 1)
    base.sign(stored)
    for answer, store in stores.items():
        with _serving(base, answer) as emulator:
            _refresh(emulator, store, [stored, *unseen])
    expected = _content(stores["refuse"])
    assert set(fresh + unseen) <= set(expected)
    for answer in ("expand", "ignore"):
        got = _content(stores[answer])
        assert got.keys() == expected.keys()
        for key, (doc, history) in expected.items():
            # Field by field: a difference names the field.
            assert _fields(got[key][0]) == _fields(doc), key
            assert got[key][1] == history, key
    new = stores["expand"].get_documents(fresh)
    assert {doc.counterparty.name for doc in new.values()} == {"ООО «Новый партнёр»"}
    assert {doc.contract.number for doc in new.values() if doc.contract} == {"Н-1"}
    assert reports["expand"].requests < reports["refuse"].requests


def test_a_refresh_of_a_stored_document_takes_one_round_with_expand(tmp_path: Path) -> None:
    """The responsible user and the journal's users come nested: no catalog request after."""
    base = make_base(40)
    store = open_store(tmp_path)
    with _serving(base, "expand") as emulator:
        sync(emulator, store)
        doc = _waiting(base)[0]
        base.advance(minutes=5)
        base.sign(doc)
        emulator.requests.clear()
        _refresh(emulator, store, [doc])
        asked = _asked(emulator)
    assert not [path for path in asked if "Catalog_" in path]
    assert any("$expand=Ответственный" in path for path in asked if OUTGOING in path)
    assert any("$expand=Пользователь" in path for path in asked)
    assert store.get_documents([doc])[doc].status_1c == base.state(doc)


@pytest.mark.parametrize("answer", ["refuse", "ignore"])
def test_a_refusal_is_remembered_in_the_sync_state_until_the_publication_changes(
    tmp_path: Path, answer: Answer
) -> None:
    base = make_base(40)
    store = open_store(tmp_path)
    with _serving(base, answer) as emulator:
        sync(emulator, store)
        base.advance(minutes=5)
        doc = _waiting(base)[0]
        base.sign(doc)
        _refresh(emulator, store, [doc])
        state = store.get_sync_state()
        assert state[EXPAND_REFUSED] == state[METADATA_HASH]
        emulator.requests.clear()
        base.advance(minutes=5)
        base.reject(_waiting(base)[0], "Не та сумма")
        _new_documents(base, 1)
        sync(emulator, store)
        _refresh(emulator, store, [doc])
        assert not [path for path in _asked(emulator) if "$expand" in path]
    # Another publication ($metadata hash) is asked again.
    store.write_sync_page((), (), {EXPAND_REFUSED: "another publication"})
    with _serving(base, "expand") as emulator:
        _refresh(emulator, store, [doc])
        assert [path for path in _asked(emulator) if "$expand" in path]


def test_expand_off_in_the_settings_is_never_asked(tmp_path: Path) -> None:
    base = make_base(30)
    store = open_store(tmp_path)
    with _serving(base, "expand") as emulator:
        sync(emulator, store, expand=False)
        _new_documents(base, 2)
        base.advance(minutes=5)
        sync(emulator, store, expand=False)
        assert not [path for path in _asked(emulator) if "$expand" in path]


def test_expand_never_costs_an_extra_request(tmp_path: Path) -> None:
    """Many unseen documents: the longer query would need more chunks, so it is not asked."""
    base = make_base(20)
    store = open_store(tmp_path)
    with _serving(base, "expand") as emulator:
        sync(emulator, store)
        _new_documents(base, 60)
        base.advance(minutes=5)
        emulator.requests.clear()
        sync(emulator, store, page_size=1000)
        reads = [
            path for path in _asked(emulator) if OUTGOING in path and "$filter=Ref_Key" in path
        ]
    plain = make_base(20)
    plain_store = open_store(tmp_path, "plain.db")
    with _serving(plain, "expand") as emulator:
        sync(emulator, plain_store, expand=False)
        _new_documents(plain, 60)
        plain.advance(minutes=5)
        emulator.requests.clear()
        sync(emulator, plain_store, page_size=1000, expand=False)
        plain_reads = [
            path for path in _asked(emulator) if OUTGOING in path and "$filter=Ref_Key" in path
        ]
    assert len(reads) == len(plain_reads)
    assert all(len(path.encode()) < 2048 for path in reads)


def test_metadata_declares_the_navigation_properties_the_sync_expands() -> None:
    base = make_base(5)
    with _serving(base, "expand") as emulator:
        body = httpx.get(emulator.service_url + "$metadata", auth=(LOGIN, PASSWORD)).content
    published = parse_metadata(body, WANTED)
    assert published.target(OUTGOING, "Контрагент") == COUNTERPARTIES
    assert published.target(OUTGOING, "ДоговорКонтрагента") == CONTRACTS
    assert published.target(OUTGOING, "ВидДокумента") == EDO_KINDS
    assert published.target(OUTGOING, "Нет") is None


@pytest.mark.parametrize(("answer", "status"), [("refuse", 400), ("ignore", 200), ("expand", 200)])
def test_the_emulator_expands_refuses_or_ignores_as_configured(answer: Answer, status: int) -> None:
    base = make_base(5)
    with _serving(base, answer) as emulator:
        reply = httpx.get(
            emulator.service_url + OUTGOING,
            params={"$format": "json", "$select": "Ref_Key,Контрагент", "$expand": "Контрагент"},
            auth=(LOGIN, PASSWORD),
        )
    assert reply.status_code == status
    if answer == "refuse":
        assert reply.json()["odata.error"]["code"] == "14"
        return
    row = reply.json()["value"][0]
    if answer == "expand":
        assert row["Контрагент"]["Description"]
    else:
        assert "Контрагент" not in row and "Контрагент@navigationLinkUrl" in row
