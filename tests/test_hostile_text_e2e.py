"""A counterparty's hostile name and rejection comment, from the 1C emulator to the Bitrix24
emulator through the bundled playbooks: what the portal stored, what the CLI and the log print."""

from __future__ import annotations

import io
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent

import pytest
import yaml
from _runner_helpers import onec_now, write_config

from edo_rules.cli import main
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24.card import activities, add_contact, card, logmessages

REPO = Path(__file__).resolve().parents[1]
#: The review's proof of concept: a phishing link, a mention, a forged log line, a bidi override.
COMMENT = (
    "[URL=https://evil.example/phish]Подробности[/URL] [USER=1]Директор[/USER]"
    "\r\n2026-12-04 10:00:00 INFO  forged line\u202egnp.exe"
)
NAME = "ООО «Ромашка»\r\n[URL=https://evil.example/pay]Оплатить счёт[/URL]\u202e"
EXTRA = dedent(
    """
    version: 1
    name: extra
    rules:
      - id: rejected-more
        match: {direction: outgoing}
        when: {status_changed: {to: rejected}}
        do:
          - notify:
              to: responsible
              text: "[B]Отклонён[/B] {{ doc.title }}: {{ doc.rejection_comment }}"
          - remind_counterparty:
              subject: "{{ doc.title }} — {{ doc.counterparty.name }}"
              text: "Ваш комментарий: {{ doc.rejection_comment }}"
          - log: {message: "отклонён: {{ doc.rejection_comment }} / {{ doc.counterparty.name }}"}
    """
).lstrip()


@dataclass
class Setup:
    world: World
    company: Company
    config: Path


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=2)
        config, variables = write_config(tmp_path, world, company, EXTRA, interval=3600)
        for name in ("rejected.yaml", "crm-mirror.yaml"):
            shutil.copy(REPO / "playbooks" / name, tmp_path / "playbooks" / name)
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["bitrix24"]["card"] = {"deal_field": "UF_CRM_EDO_STATUS"}
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        assert main(["bitrix24", "setup", "--config", str(config)]) == 0
        yield Setup(world, company, config)


def _reject_hostile(setup: Setup, *, contact: bool = True) -> str:
    """A document of a counterparty named like the proof of concept, rejected with its comment."""
    base, customer = setup.world.base, setup.company.customers[0]
    if contact:
        add_contact(
            setup.world.portal, "Ольга Клиентова", emails=["o@e.ru"], deal_ids=[customer.deal_id]
        )
    hostile = base.add_counterparty(NAME, inn=customer.inn)
    now = onec_now()
    base.now = now
    key = base.create_document(
        counterparty=hostile,
        responsible=setup.company.managers[customer.manager],
        organization=setup.company.organization_key,
        kind="act",
        amount=12_500,
        contract=customer.contract_key,
        at=now - timedelta(minutes=10),
    )
    base.send(key, at=now - timedelta(minutes=5))
    base.reject(key, COMMENT, at=now - timedelta(minutes=1))
    return key


def _no_markup(text: str) -> None:
    assert "[URL" not in text and "[USER" not in text, text
    assert "\u202e" not in text and "\r" not in text, text


def test_hostile_text_reaches_bitrix24_as_text(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(setup.config)
    assert main(["tick", "--config", config]) == 0  # the initial sync: history only
    key = _reject_hostile(setup)
    assert main(["tick", "--config", config]) == 0
    capsys.readouterr()
    portal = setup.world.portal

    (task,) = portal.tasks()
    assert "\n" not in task["title"]
    assert "［URL=https://evil.example/pay］Оплатить счёт［/URL］" in task["title"]
    assert "［URL=https://evil.example/phish］Подробности［/URL］ ［USER=1］" in task["description"]
    (comment,) = portal.comments()
    (notice,) = [n for n in portal.notifications() if "Отклонён" in n["message"]]
    assert notice["message"].startswith("[B]Отклонён[/B] ")  # the admin's own markup
    deal = setup.company.customers[0].deal_id
    entries = logmessages(portal, 2, deal)
    assert any("［URL=https://evil.example/phish］" in e["text"] for e in entries)
    (email,) = activities(portal)
    card_field = portal.deal(deal)["UF_CRM_EDO_STATUS"]
    assert "［URL=https://evil.example/phish］" in card_field and len(card_field.splitlines()) == 1
    texts = [task["title"], task["description"], comment["COMMENT"], notice["message"][17:]]
    texts += [e["text"] for e in entries] + [e["title"] for e in entries]
    texts += [email["SUBJECT"], email["DESCRIPTION"], card_field]
    for text in texts:
        _no_markup(text)

    # The CLI prints what 1C holds, escaped: a value never starts a line of its own.
    assert main(["history", key, "--config", config]) == 0
    history = capsys.readouterr().out
    assert "«［URL" not in history  # the CLI shows what 1C holds, escaped, not neutralised
    # the mapping made the line break one \n and dropped the bidi override
    assert "Директор[/USER]\\n2026-12-04 10:00:00 INFO  forged linegnp.exe»" in history
    assert not any(line.startswith("2026-12-04") for line in history.splitlines())
    assert main(["docs", "--all", "--config", config]) == 0
    docs = capsys.readouterr().out
    assert "ООО «Ромашка» [URL=https://evil.example/pay]Оплатить счёт[/URL]" in docs
    assert "\u202e" not in docs
    assert main(["explain", key, "--config", config]) == 0
    explain = capsys.readouterr().out
    assert "ООО «Ромашка» [URL=https://evil.example/pay]Оплатить счёт[/URL]" in explain
    assert not any(line.startswith("[URL=") for line in explain.splitlines())


def test_runner_log_escapes_the_comment(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    config = str(setup.config)
    assert main(["tick", "--config", config]) == 0
    _reject_hostile(setup)
    assert main(["tick", "--config", config, "--log-level", "info"]) == 0
    lines = stream.getvalue().splitlines()
    assert any("forged line" in line for line in lines)
    assert not any(line.startswith("2026-12-04 10:00:00 INFO  forged") for line in lines)


CODE_BUILT = dedent(
    """
    version: 1
    name: extra
    rules:
      - id: texts-built-in-code
        match: {direction: outgoing}
        when: {status_changed: {to: rejected}}
        do:
          - remind_counterparty: {text: "Напоминание"}  # no e-mail: a task to the manager
          - invoice: {}  # the default title names the document
    """
).lstrip()


def test_texts_the_adapters_build_escape_the_document(setup: Setup) -> None:
    (setup.config.parent / "playbooks" / "test.yaml").write_text(CODE_BUILT, encoding="utf-8")
    config = str(setup.config)
    assert main(["tick", "--config", config]) == 0
    tables = card(setup.world.portal)
    with setup.world.portal.lock:  # no contact with an e-mail: the fallback task goes
        tables.contacts.clear()
        tables.deal_contacts.clear()
    _reject_hostile(setup, contact=False)
    assert main(["tick", "--config", config]) == 1  # the reminder itself fails: no e-mail
    portal = setup.world.portal
    fallback = [t for t in portal.tasks() if t["title"].startswith("Напомнить")]
    (task,) = fallback
    assert "［URL=https://evil.example/pay］Оплатить счёт［/URL］" in task["title"]
    (invoice,) = portal.items(31)
    assert invoice["title"].startswith("Счёт по документу Акт № ")
    for text in (task["title"], task["description"], invoice["title"]):
        _no_markup(text)
