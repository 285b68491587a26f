"""What an admin reads from the real CLI for one bad input of each error family.

Russian by default, the same error in English with ``--lang en``; the texts are
the catalogue's (edo_rules/_messages_errors.py), so a changed entry shows here.
"""

from __future__ import annotations

import random
import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from _bitrix24_helpers import make_world
from _engine_helpers import msk
from _onec_helpers import LOGIN, PASSWORD, make_base, serving
from _runner_helpers import onec_now, send_documents, write_config
from store_contract import make_document

from edo_rules.cli import main
from edo_rules.demo._company import seed_company
from edo_rules.demo._world import World
from edo_rules.store.sqlite import SQLiteStore


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_store_a_foreign_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    code, text = _run(["outbox", "--store", str(path)], capsys)
    assert code == 1
    assert text == (
        f"edo-rules: ошибка: {path} — база SQLite, но не хранилище edo-rules (в ней таблицы"
        " customers).\nЧто сделать: укажите в --store другой файл; если файла нет, edo-rules"
        " создаст новое хранилище.\n"
    )
    code, text = _run(["outbox", "--store", str(path), "--lang", "en"], capsys)
    assert code == 1
    assert text == (
        f"edo-rules: error: {path} is a SQLite database but not an edo-rules store (it has the"
        " tables customers).\nWhat to do: point --store at another file; edo-rules creates a"
        " new store when the file does not exist.\n"
    )


def _onec_config(tmp_path: Path, url: str) -> Path:
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    path = tmp_path / "edo-rules.yaml"
    path.write_text(
        f"version: 1\nstore: {{path: edo.db}}\nonec:\n  url: {url}\n  base: buh\n"
        f"  user: {LOGIN}\n  password: ${{ONEC_PASSWORD}}\n",
        encoding="utf-8",
    )
    return path


def test_onec_a_wrong_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEC_PASSWORD", "неверный-пароль-1")
    with serving(make_base(5)) as emulator:
        config = _onec_config(tmp_path, emulator.url)
        ru = _run(["sync", "--config", str(config)], capsys)
        en = _run(["sync", "--config", str(config), "--lang", "en"], capsys)
    for code, text in (ru, en):
        assert code == 1 and "неверный-пароль-1" not in text
    request = f"{emulator.url}/buh/odata/standard.odata/"
    assert ru[1].startswith(f"edo-rules: ошибка: 1С ответила HTTP 401 (запрос: {request}")
    assert ru[1].endswith(
        ")\nЧто сделать: проверьте user и password в разделе onec (пароль берётся из"
        " названной там переменной окружения); пользователю 1С нужна роль"
        " УдаленныйДоступOData\n"
    )
    assert en[1].startswith(f"edo-rules: error: 1C answered HTTP 401 (request: {request}")
    assert en[1].endswith(
        ")\nWhat to do: check user and password in the onec section (the password comes from"
        " the environment variable named there); the 1C user needs the role"
        " УдаленныйДоступOData\n"
    )


def test_bitrix24_a_wrong_webhook_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    try:
        wrong = world.webhook.replace("/rest/1/", "/rest/1/x")
        (tmp_path / "playbooks").mkdir()
        config = tmp_path / "edo-rules.yaml"
        config.write_text(
            f"version: 1\nstore: {{path: edo.db}}\nbitrix24:\n  webhook_url: {wrong}\n"
            "  card: {deal_field: UF_CRM_EDO_STATUS}\n",
            encoding="utf-8",
        )
        ru = _run(["bitrix24", "setup", "--config", str(config)], capsys)
        en = _run(["bitrix24", "setup", "--config", str(config), "--lang", "en"], capsys)
    finally:
        world.close()
    secret = wrong.rstrip("/").rsplit("/", 1)[1]
    assert secret not in ru[1] + en[1]
    # The portal's own description stays as the portal sent it.
    assert ru == (
        1,
        "edo-rules: ошибка: INVALID_CREDENTIALS: crm.deal.userfield.list: Invalid request"
        " credentials\nЧто сделать: неверный секрет или пользователь вебхука: создайте новый"
        " входящий вебхук и укажите его адрес в разделе bitrix24 конфига\n",
    )
    assert en == (
        1,
        "edo-rules: error: INVALID_CREDENTIALS: crm.deal.userfield.list: Invalid request"
        " credentials\nWhat to do: the webhook secret or user is wrong: create a new incoming"
        " webhook and put its URL into the bitrix24 section of the config\n",
    )


BAD_PLAYBOOK = """\
version: 1
name: bad
rules:
  - id: r
    when: {after: 3 рабочих днй, since: sent_at}
    do: [{log: {mesage: x}}]
"""


def test_playbook_problems_from_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_PLAYBOOK, encoding="utf-8")
    assert _run(["validate", str(path)], capsys) == (
        1,
        f"{path}:5:19: rules[0].when.after: в '3 рабочих днй' неизвестная единица 'рабочих днй'"
        " (возможно, 'рабочих дней'?); например, «3 рабочих дня», «5 рабочих дней», «2 дня»,"
        " «4 часа», «3 working days», «30 minutes»\n"
        f"{path}:6:17: rules[0].do[0].log.mesage: неизвестный ключ 'mesage' (возможно,"
        " 'message'?)\n"
        "ошибок: 2 в 1 из 1 файлов\n",
    )
    assert _run(["validate", str(path), "--lang", "en"], capsys) == (
        1,
        f"{path}:5:19: rules[0].when.after: '3 рабочих днй' has an unknown unit 'рабочих днй'"
        " (did you mean 'рабочих дней'?); e.g. '3 working days', '2 days', '4 hours',"
        " '30 minutes', '3 рабочих дня', '5 рабочих дней', '2 дня', '4 часа'\n"
        f"{path}:6:17: rules[0].do[0].log.mesage: unknown key 'mesage' (did you mean"
        " 'message'?)\n"
        "2 problem(s) in 1 of 1 file(s)\n",
    )


def test_config_problems_from_a_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbooks").mkdir()
    config = tmp_path / "edo-rules.yaml"
    config.write_text("version: 1\ntimezone: Europe/Moskow\nstore: {path: edo.db}\n", "utf-8")
    assert _run(["agenda", "--config", str(config)], capsys) == (
        1,
        f"edo-rules: ошибка: {config}:2:11: timezone: неизвестный часовой пояс 'Europe/Moskow'"
        " (возможно, 'Europe/Moscow'?) (например, Europe/Moscow)\n",
    )
    assert _run(["agenda", "--config", str(config), "--lang", "en"], capsys) == (
        1,
        f"edo-rules: error: {config}:2:11: timezone: unknown time zone 'Europe/Moskow'"
        " (did you mean 'Europe/Moscow'?) (e.g. Europe/Moscow)\n",
    )


FAILING_WHERE = """\
version: 1
name: signing
rules:
  - id: big
    match: {status: sent, where: "doc.amount >= 'x'"}
    when: {after: 3 working days, since: sent_at}
    do: [{log: {message: "{{ doc.title }}"}}]
"""


def _failing_store(tmp_path: Path, playbook: str = FAILING_WHERE) -> list[str]:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "signing.yaml").write_text(playbook, encoding="utf-8")
    store_path = tmp_path / "store.sqlite3"
    with SQLiteStore(store_path) as store:
        store.write_sync_page([make_document("a", sent_at=msk("2024-04-26 15:30"))], [])
    return ["--store", str(store_path), "--playbooks", str(playbooks)]


def test_an_expression_failing_on_a_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _failing_store(tmp_path)
    tick = ["tick", "--dry-run", "--at", "2024-05-06T10:00", *files]
    code, ru = _run(tick, capsys)
    assert code == 1
    where = f"{tmp_path / 'playbooks' / 'signing.yaml'}:5:34: rules[0].match.where:"
    python = "TypeError: '>=' not supported between instances of 'decimal.Decimal' and 'str'"
    assert (
        f"ошибка: signing/big Договор № 17 от 26.04.2024: {where} правило signing/big: ошибка"
        f" в выражении \"doc.amount >= 'x'\" на документе a: {python}\n"
    ) in ru
    code, en = _run([*tick, "--lang", "en"], capsys)
    assert code == 1
    assert (
        f"failed: signing/big Договор № 17 от 26.04.2024: {where} rule signing/big: expression"
        f" \"doc.amount >= 'x'\" failed on document a: {python}\n"
    ) in en


def test_a_template_over_its_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = FAILING_WHERE.replace(", where: \"doc.amount >= 'x'\"", "")
    files = _failing_store(tmp_path, bomb.replace("{{ doc.title }}", "{{ doc.number * 10**6 }}"))
    explain = ["explain", "a", "--at", "2024-05-06T10:00", *files]
    where = f"{tmp_path / 'playbooks' / 'signing.yaml'}:7:26: rules[0].do[0].log.message:"
    code, ru = _run(explain, capsys)
    assert code == 0
    assert (
        f"✗ do log: ошибка шаблона: {where} правило signing/big: ошибка в шаблоне"
        " '{{ doc.number * 10**6 }}' на документе a: результат повторения '*': получилось бы"
        " 2000000 символов или элементов, больше 100000 (лимит evaluation.max_length)\n"
    ) in ru
    code, en = _run([*explain, "--lang", "en"], capsys)
    assert code == 0
    assert (
        f"✗ do log: template failed: {where} rule signing/big: template"
        " '{{ doc.number * 10**6 }}' failed on document a: the result of '*' (repetition) would"
        " have 2000000 characters or items, more than 100000 (budget limit"
        " evaluation.max_length)\n"
    ) in en


def test_a_1c_answer_over_its_size_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEC_PASSWORD", PASSWORD)
    with serving(make_base(5)) as emulator:
        config = _onec_config(tmp_path, emulator.url)
        with config.open("a", encoding="utf-8") as file:
            # 32 KB: 1C's $metadata is larger
            file.write("  max_page_mb: 0.03125\n  retries: 1\n  backoff: 0.01\n")
        ru = _run(["sync", "--config", str(config)], capsys)
        en = _run(["sync", "--config", str(config), "--lang", "en"], capsys)
    assert ru[0] == en[0] == 1
    # (the emulator may report the connection the client cut: only the CLI's lines count)
    ru = (1, ru[1][ru[1].index("edo-rules: ") :])
    en = (1, en[1][en[1].index("edo-rules: ") :])
    # $metadata's size, as the emulator announces it
    size = re.search(r"заявлено (\d+) байт", ru[1]).group(1)  # type: ignore[union-attr]
    assert int(size) > 32 * 1024
    assert ru[1].startswith(
        "edo-rules: ошибка: запрос к 1С остановлен: ответ больше лимита 0.03125 МБ"
        f" (onec.max_page_mb): заявлено {size} байт (запрос: http://"
    )
    assert ru[1].endswith(
        ")\nЧто сделать: синхронизация повторит запрос страницей меньшего размера; если 1С"
        " просто медленная, увеличьте request_deadline / max_page_mb в разделе onec или"
        " уменьшите page_size\n"
    )
    assert en[1].startswith(
        "edo-rules: error: 1C request stopped: the answer is larger than the limit of 0.03125"
        f" MB (onec.max_page_mb): it announced {size} bytes (request: http://"
    )
    assert en[1].endswith(
        ")\nWhat to do: the sync retries with a smaller page; if 1C is only slow, raise"
        " request_deadline / max_page_mb in the onec section or lower page_size\n"
    )


def test_a_bad_cron_and_link_template_in_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "playbooks").mkdir()
    config = tmp_path / "edo-rules.yaml"
    config.write_text(
        "version: 1\nstore: {path: edo.db}\nschedule: {cron: '61 * * * *'}\n"
        "onec: {url: 'https://1c.local', base: buh, user: u, password: p,"
        " pdf_url: 'https://edo/{nope}'}\n",
        "utf-8",
    )
    code, ru = _run(["agenda", "--config", str(config)], capsys)
    assert code == 1
    assert f"{config}:3:18: schedule.cron: cron, поле «минута»: '61' вне диапазона 0-59" in ru
    assert (
        f"{config}:4:75: onec.pdf_url: в шаблоне неизвестные поля nope (допустимые: id, ref,"
        " number, date, inn, kind, direction, onec_url)"
    ) in ru
    code, en = _run(["agenda", "--config", str(config), "--lang", "en"], capsys)
    assert code == 1
    assert f"{config}:3:18: schedule.cron: cron minute field '61' is out of range 0-59" in en
    assert (
        f"{config}:4:75: onec.pdf_url: uses unknown fields nope (known: id, ref, number, date,"
        " inn, kind, direction, onec_url)"
    ) in en


def test_a_bad_company_days_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = tmp_path / "days.yaml"
    days.write_text("holidays:\n  - {date: 2026-12-30, comment: x}\n", "utf-8")
    assert _run(["calendar", "2026", "--overrides", str(days)], capsys) == (
        1,
        f"edo-rules: ошибка: {days}:1: неизвестный раздел 'holidays'; допустимые: days_off,"
        " working_days, short_days (например: «days_off: [{date: 2026-12-30, comment: ...}]»)\n",
    )
    assert _run(["calendar", "2026", "--overrides", str(days), "--lang", "en"], capsys) == (
        1,
        f"edo-rules: error: {days}:1: unknown section 'holidays'; allowed: days_off,"
        " working_days, short_days (expected e.g. 'days_off: [{date: 2026-12-30, comment:"
        " ...}]')\n",
    )


def test_command_line_values_and_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["calendar", "check", "2024-02-30"], capsys) == (
        1,
        "edo-rules: ошибка: '2024-02-30' — не дата; нужна ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, например"
        " 2024-04-27\n",
    )
    assert _run(["calendar", "check", "2024-02-30", "--lang", "en"], capsys) == (
        1,
        "edo-rules: error: '2024-02-30' is not a valid date; expected YYYY-MM-DD or DD.MM.YYYY,"
        " e.g. 2024-04-27\n",
    )
    files = _failing_store(tmp_path)
    tick = ["tick", "--dry-run", "--at", "next monday", *files]
    assert _run(tick, capsys) == (
        2,
        "edo-rules: ошибка: --at 'next monday' — не дата со временем ISO (например,"
        " 2026-12-07T09:30)\n",
    )
    assert _run([*tick, "--lang", "en"], capsys) == (
        2,
        "edo-rules: error: --at 'next monday' is not an ISO date-time (expected e.g."
        " 2026-12-07T09:30)\n",
    )
    # validate's warning: a playbook uses doc.pdf_url, the config has no template for it
    (tmp_path / "playbooks" / "signing.yaml").write_text(
        FAILING_WHERE.replace(", where: \"doc.amount >= 'x'\"", "").replace(
            "{{ doc.title }}", "{{ doc.pdf_url }}"
        ),
        encoding="utf-8",
    )
    config = tmp_path / "edo-rules.yaml"
    config.write_text(
        "version: 1\nstore: {path: edo.db}\n"
        "onec: {url: 'https://1c.local', base: buh, user: u, password: p}\n",
        "utf-8",
    )
    code, ru = _run(["validate", "--config", str(config)], capsys)
    code_en, en = _run(["validate", "--config", str(config), "--lang", "en"], capsys)
    assert code == code_en == 0
    where = f"{tmp_path / 'playbooks' / 'signing.yaml'}:7:11: log:"
    assert ru.startswith(f"предупреждение: {where} doc.pdf_url останется пустым")
    assert en.startswith(f"warning: {where} ")


BOMB = """\
version: 1
name: waiting
rules:
  - id: notify-waiting
    match: {status: sent}
    when: {after: 0 минут, since: sent_at}
    do:
      - notify: {to: responsible, text: "{{ doc.number * 10**6 }}"}
"""


def test_a_real_tick_reports_the_documents_a_rule_failed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=4)
        config, variables = write_config(tmp_path, world, company, BOMB, interval=3600)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        assert main(["tick", "--config", str(config)]) == 0  # the initial sync: history only
        capsys.readouterr()
        send_documents(world, company, random.Random(1), 2)
        code, ru = _run(["tick", "--config", str(config)], capsys)
        send_documents(world, company, random.Random(2), 1)
        code_en, en = _run(["tick", "--config", str(config), "--lang", "en"], capsys)
    assert (code, code_en) == (0, 0)
    assert (
        "; документов с ошибкой в правилах: 2 — waiting/notify-waiting (budget:length) ×2\n" in ru
    )
    assert "; 1 document(s) failed: waiting/notify-waiting (budget:length) ×1\n" in en


def test_runners_over_a_sqlite_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEC_PASSWORD", PASSWORD)
    config = _onec_config(tmp_path, "http://127.0.0.1:9/odata")
    code, text = _run(["runners", "--config", str(config)], capsys)
    assert code == 1
    assert text == (
        "edo-rules: ошибка: хранилище — файл SQLite: с ним работает один раннер (см. файл"
        " блокировки).\nЧто сделать: для нескольких раннеров укажите store.dsn (PostgreSQL,"
        " docs/postgres.md).\n"
    )
    code, text = _run(["runners", "--config", str(config), "--lang", "en"], capsys)
    assert code == 1
    assert text == (
        "edo-rules: error: the store is a SQLite file: one runner uses it (see the lock file)."
        "\nWhat to do: several runners need store.dsn (PostgreSQL, docs/postgres.md).\n"
    )
