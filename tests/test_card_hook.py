"""The «Обновить» button: ``/hooks/<token>/sync?deal=…`` on a real runner over both emulators.

A Bitrix24 business process («Вебхук» activity) or robot calls the URL; it
cannot send headers, so the hook's own token is in the path. The runner
(``edo-rules run``, a separate process with a one-hour sync interval, no
dashboard) re-reads from 1C only the documents of the named deal: its card
field and timeline turn «подписан» at once, while the other deal, signed in
1C at the same moment, keeps «ждёт подписи» until its own refresh.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent

import httpx
import pytest
import yaml
from _runner_helpers import onec_now, stop_runner, write_config

from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24.card import DEAL, logmessages

TOKEN = "control-token-0123456789abcdef"
HOOK = "hook-token-fedcba9876543210"
FIELD = "UF_CRM_EDO_STATUS"
_RUNNER = "import sys; from edo_rules.cli import main; sys.exit(main())"
CARD = dedent(
    """
    version: 1
    name: card
    rules:
      - id: card
        when: {after: 0 минут, since: status_changed_at}
        do:
          - card_status: {}
      - id: history
        when: {status_changed: {}}
        do:
          - timeline:
              title: "ЭДО: {{ doc.title }}"
              text: "{{ doc.status | ru | capitalize }} {{ doc.status_changed_at | datetime }}"
    """
).lstrip()


@dataclass
class _Running:
    base: str
    world: World
    company: Company
    keys: dict[int, list[str]]  # deal id → its documents' 1C refs
    lines: list[str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _send(world: World, company: Company) -> dict[int, list[str]]:
    """Two contracts to each of the first two customers, sent an hour ago."""
    now = onec_now()
    world.base.now = now
    keys: dict[int, list[str]] = {}
    for customer in company.customers[:2]:
        for _ in range(2):
            key = world.base.create_document(
                counterparty=customer.counterparty_key,
                responsible=company.managers[customer.manager],
                organization=company.organization_key,
                kind="contract",
                contract=customer.contract_key,
                at=now - timedelta(hours=1, minutes=5),
            )
            world.base.send(key, at=now - timedelta(hours=1))
            keys.setdefault(customer.deal_id, []).append(key)
    return keys


def _configure(config: Path, env: dict[str, str]) -> None:
    data = yaml.safe_load(config.read_text("utf-8"))
    data["bitrix24"]["card"] = {"deal_field": FIELD}
    data["http"] = {"token": "${EDO_TEST_HTTP_TOKEN}", "hook_token": "${EDO_TEST_HOOK}"}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env["EDO_TEST_HTTP_TOKEN"], env["EDO_TEST_HOOK"] = TOKEN, HOOK


@pytest.fixture
def running(tmp_path: Path) -> Iterator[_Running]:
    with World.started(seed=5, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(11), customers=3)
        config, env = write_config(tmp_path, world, company, CARD, interval=3600)
        _configure(config, env)
        keys = _send(world, company)
        port = _free_port()
        command = [sys.executable, "-c", _RUNNER, "run", "--config", str(config)]
        process = subprocess.Popen(
            [*command, "--listen", f"127.0.0.1:{port}"],
            env={**os.environ, **env},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: list[str] = []
        threading.Thread(target=_read, args=(process, lines), daemon=True).start()
        try:
            _wait_until_up(f"http://127.0.0.1:{port}", lines)
            yield _Running(f"http://127.0.0.1:{port}", world, company, keys, lines)
        finally:
            stop_runner(process, lines)
        assert TOKEN not in "".join(lines) and HOOK not in "".join(lines)


def _read(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line)


def _wait_until_up(base: str, lines: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the runner did not start:\n" + "".join(lines))


def _card(running: _Running, deal: int) -> list[str]:
    return str(running.world.portal.deal(deal).get(FIELD) or "").splitlines()


def _wait_for_cards(running: _Running) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(len(_card(running, deal)) == 2 for deal in running.keys):
            return
        time.sleep(0.2)
    raise AssertionError("the first tick did not write the cards:\n" + "".join(running.lines))


def test_the_refresh_button_reads_only_that_deals_documents(running: _Running) -> None:
    _wait_for_cards(running)
    mine, other = sorted(running.keys)
    for deal in (mine, other):
        assert all(": ждёт подписи" in line for line in _card(running, deal)), _card(running, deal)
    for keys in running.keys.values():
        for key in keys:
            running.world.base.sign(key, at=onec_now())
    url = f"{running.base}/hooks/{HOOK}/sync"
    # A Bitrix24 «Вебхук» activity: a plain GET, no headers; the budget answers in seconds.
    reply = httpx.get(url, params={"deal": mine}, timeout=10)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["ok"] is True and body["deal"] == mine and body["tick"]["synced"] == 2, body
    assert all(": подписан " in line for line in _card(running, mine)), _card(running, mine)
    signed = [e["text"] for e in logmessages(running.world.portal, DEAL, mine)]
    assert len(signed) == 2 and all(t.startswith("Подписан ") for t in signed), signed
    # The other deal, signed in 1C as well, is not re-read: its card still waits.
    assert all(": ждёт подписи" in line for line in _card(running, other)), _card(running, other)
    assert logmessages(running.world.portal, DEAL, other) == []
    again = httpx.post(url, params={"deal": other}, timeout=10)
    assert again.status_code == 200 and again.json()["tick"]["synced"] == 2, again.text
    assert all(": подписан " in line for line in _card(running, other)), _card(running, other)


def test_the_hooks_token_opens_only_the_hook(running: _Running) -> None:
    base, deal = running.base, min(running.keys)
    assert httpx.get(f"{base}/hooks/wrong-{HOOK}/sync?deal={deal}").status_code == 404
    # The control token is not the hook's: nothing to probe, the same answer.
    assert httpx.get(f"{base}/hooks/{TOKEN}/sync?deal={deal}").status_code == 404
    assert httpx.get(f"{base}/hooks/{HOOK}/sync?deal=abc").status_code == 400
    assert httpx.get(f"{base}/hooks/{HOOK}/sync").status_code == 400
    as_bearer = {"Authorization": f"Bearer {HOOK}"}
    assert httpx.post(f"{base}/sync", headers=as_bearer).status_code == 401
    assert httpx.get(f"{base}/metrics", headers=as_bearer).status_code == 401
    with_control = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{base}/metrics", headers=with_control).status_code == 200
