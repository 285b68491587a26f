"""Refreshing given documents now: the source, the CLI and ``POST /sync?document=…``."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent
from urllib.parse import unquote

import httpx
import pytest
from _onec_helpers import clock_of, make_base, open_store, serving, settings_for, sync
from _runner_helpers import onec_now, send_documents, stop_runner, write_config

from edo_rules.cli import main
from edo_rules.demo._company import seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.onec import OUTGOING, STATES
from edo_rules.model import RequestState
from edo_rules.sources.onec import WATERMARK, OneCSource
from edo_rules.store.sqlite import SQLiteStore

ONE_RULE = dedent(
    """
    version: 1
    name: signed
    rules:
      - id: signed
        when: {status_changed: {to: signed}}
        do:
          - notify: {to: responsible, text: "Подписан: {{ doc.title }}"}
    """
).lstrip()
TOKEN = "refresh-token-0123456789abcdef"
_RUNNER = "import sys; from edo_rules.cli import main; sys.exit(main())"


def _waiting(base: object) -> list[str]:
    rows = base.sets[STATES].rows  # type: ignore[attr-defined]
    return [r["ЭлектронныйДокумент"] for r in rows if r["Состояние"] == "ОжидаетсяПодтверждение"]


def _refresh(
    source: OneCSource, store: SQLiteStore, docs: list[str], inn: str | None = None
) -> None:
    for page in source.refresh(store.get_sync_state(), docs, inn=inn):
        store.write_sync_page(page.documents, page.events, page.state)


def test_refreshing_one_document_reads_only_it_and_leaves_the_watermark(tmp_path: Path) -> None:
    base = make_base(60)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        mark = store.get_sync_state()[WATERMARK]
        first, other = _waiting(base)[:2]
        base.advance(hours=1)
        base.sign(first)
        base.sign(other)
        emulator.requests.clear()
        source = OneCSource(
            settings_for(emulator), documents=store.get_documents, clock=clock_of(base)
        )
        _refresh(source, store, [first.upper()])
        source.close()
        asked = [unquote(path) for path in emulator.requests]
    docs = store.get_documents([first, other])
    assert docs[first].status_1c == "ОбменЗавершен"
    assert docs[other].status_1c == "ОжидаетсяПодтверждение"  # left to the next sync
    assert store.get_sync_state()[WATERMARK] == mark
    latest = list(store.history(first))[-1]
    assert latest.to_raw == "ОбменЗавершен" and not latest.historical
    assert source.report.mode == "refresh" and source.report.requests == len(asked)
    assert not any("$metadata" in path for path in asked)  # cached by the first sync
    assert all(other not in path for path in asked)
    assert not any("ДатаИзменения ge" in path for path in asked)


def test_refreshing_by_inn_reads_that_counterpartys_documents(tmp_path: Path) -> None:
    base = make_base(80)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        waiting = _waiting(base)
        target = base.document(waiting[0])["Контрагент_Key"]
        inn = next(
            row["ИНН"] for row in base.sets["Catalog_Контрагенты"].rows if row["Ref_Key"] == target
        )
        theirs = [
            row["Ref_Key"]
            for name in (OUTGOING, "Document_ЭлектронныйДокументВходящийЭДО")
            for row in base.sets[name].rows
            if row["Контрагент_Key"] == target
        ]
        base.advance(hours=1)
        for doc in [d for d in waiting if d in theirs]:
            base.sign(doc)
        source = OneCSource(
            settings_for(emulator), documents=store.get_documents, clock=clock_of(base)
        )
        _refresh(source, store, [], inn=inn)
        source.close()
    assert len(store.get_documents(theirs)) == len(theirs) > 0
    for doc in store.get_documents(theirs).values():
        assert doc.status_1c == base.state(doc.id)
        assert doc.synced_at == clock_of(base)()


def test_an_unknown_document_is_reported_not_found(tmp_path: Path) -> None:
    base = make_base(10)
    store = open_store(tmp_path)
    missing = "0e4f4bd2-6d5b-4c8e-9b2f-1d2c3b4a5f60"
    with serving(base) as emulator:
        sync(emulator, store)
        source = OneCSource(
            settings_for(emulator), documents=store.get_documents, clock=clock_of(base)
        )
        _refresh(source, store, [missing])
        source.close()
    assert source.report.missing_documents == [missing]


@pytest.fixture
def world_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with World.started(seed=4, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=4)
        config, variables = write_config(
            tmp_path, world, company, ONE_RULE, interval=3600, onec_timeout=15.0
        )
        variables["EDO_TEST_HTTP_TOKEN"] = TOKEN
        with config.open("a", encoding="utf-8") as handle:
            handle.write("http: {token: '${EDO_TEST_HTTP_TOKEN}'}\n")
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        yield world, company, config, variables


def test_cli_sync_document_refreshes_then_evaluates_and_dispatches(world_config) -> None:  # type: ignore[no-untyped-def]
    world, company, config, _ = world_config
    keys = send_documents(world, company, random.Random(2), 2)
    assert main(["tick", "--config", str(config)]) == 0  # synced and evaluated once
    world.base.sign(keys[0], at=world.base.now + timedelta(seconds=1))
    assert main(["sync", "--config", str(config), "--document", keys[0]]) == 0
    store = SQLiteStore(config.parent / "edo-rules.db")
    try:
        assert store.get_documents([keys[0]])[keys[0]].status_1c == "ОбменЗавершен"
        done = [r for r in store.requests(list(RequestState)) if r.document_id == keys[0]]
    finally:
        store.close()
    assert [r.action for r in done] == ["notify"]
    assert main(["sync", "--config", str(config), "--document", "not-a-guid"]) == 2


def test_post_sync_document_refreshes_it_in_the_running_service(world_config) -> None:  # type: ignore[no-untyped-def]
    world, company, config, variables = world_config
    keys = send_documents(world, company, random.Random(3), 2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _RUNNER,
            "run",
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        env={**os.environ, **variables},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    ticked = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "tick:" in line:
                ticked.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ticked.wait(30), "".join(lines)
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        bad = httpx.post(f"{base}/sync?document=nope", headers=auth)
        assert bad.status_code == 400 and "GUID" in bad.json()["error"]
        world.base.sign(keys[1], at=world.base.now + timedelta(seconds=1))
        reply = httpx.post(f"{base}/sync?document={keys[1]}&wait=1", headers=auth, timeout=60)
        assert reply.status_code == 200, reply.text + "".join(lines)
        summary = reply.json()
        assert summary["synced"] == 1, (summary, "".join(lines))
        assert summary["actions"] == {"done": 1}, (summary, "".join(lines))
    finally:
        stop_runner(process, lines)
    assert any("refresh: 1 document(s)" in line for line in lines), "".join(lines)


def test_refreshing_a_deal_reads_the_documents_bound_to_it(tmp_path: Path) -> None:
    from dataclasses import replace

    from edo_rules.model import CrmBinding
    from edo_rules.runner.refresh import RefreshRequest, parse_refresh, refresh_documents

    base = make_base(50)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        first, second, other = _waiting(base)[:3]
        for key in (first, second):
            doc = store.get_documents([key])[key]
            store.upsert_documents([replace(doc, crm=CrmBinding(deal_id=42))])
        base.advance(hours=1)
        for key in (first, second, other):
            base.sign(key)
        source = OneCSource(
            settings_for(emulator), documents=store.get_documents, clock=clock_of(base)
        )
        request = parse_refresh({"deal": ["42"]})
        assert request == RefreshRequest(deal=42)
        report = refresh_documents(source, store, [request])
        source.close()
    assert sorted(report.documents) == sorted([first, second]) and report.events_added == 2
    docs = store.get_documents([first, second, other])
    assert [docs[k].status_1c for k in (first, second, other)] == [
        "ОбменЗавершен",
        "ОбменЗавершен",
        "ОжидаетсяПодтверждение",
    ]
    assert docs[first].crm.deal_id == 42  # the binding survives the refresh


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"document": ["x"]}, "document must be a 1C Ref_Key"),
        ({"inn": ["123"]}, "inn must be one INN of 10 or 12 digits"),
        ({"inn": ["7701234560", "7701234561"]}, "inn must be one INN"),
        ({"deal": ["D_5"]}, "deal must be one Bitrix24 deal id"),
    ],
)
def test_a_bad_refresh_parameter_is_a_clear_error(
    query: dict[str, list[str]], message: str
) -> None:
    from edo_rules.runner.refresh import parse_refresh

    with pytest.raises(ValueError, match=message):
        parse_refresh(query)
    assert parse_refresh({"wait": ["1"]}) is None  # a plain sync
