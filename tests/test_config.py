"""The config file: defaults, secrets, and every kind of mistake reported with its position."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from edo_rules.config import load_config
from edo_rules.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    path = tmp_path / "edo-rules.yaml"
    path.write_text(dedent(text).lstrip(), encoding="utf-8")
    return path


def _problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return [str(p) for p in caught.value.problems]


def test_the_packaged_schema_is_the_published_one() -> None:
    published = json.loads((ROOT / "schemas" / "config.schema.json").read_text("utf-8"))
    packaged = json.loads((ROOT / "edo_rules" / "config.schema.json").read_text("utf-8"))
    assert packaged == published


def test_defaults_are_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "version: 1\n"), env={})
    assert config.store.path == tmp_path / "edo-rules.db"
    assert config.playbooks == (tmp_path / "playbooks",)
    assert config.schedule.interval == 300 and config.schedule.cron is None
    assert config.timezone.key == "Europe/Moscow"
    assert config.onec is None and config.bitrix24 is None
    assert config.logging.format == "text" and config.http.listen is None


def test_a_full_config_with_secrets_from_env_and_file(tmp_path: Path) -> None:
    (tmp_path / "secrets.env").write_text(
        "# systemd EnvironmentFile format\nHTTP_TOKEN='token-from-the-file-0001'\n", "utf-8"
    )
    path = _write(
        tmp_path,
        """
        version: 1
        timezone: Asia/Yekaterinburg
        secrets_file: secrets.env
        store: {path: var/edo.db}
        playbooks: [playbooks]
        schedule: {cron: "*/5 8-20 * * 1-5"}
        bitrix24:
          webhook_url: ${B24_WEBHOOK}
          plan: enterprise
          users: {"Иванов Иван": 7}
        dispatch: {batch_size: 50, max_attempts: 5, backoff: 2}
        logging: {level: debug, format: json}
        http: {listen: "127.0.0.1:8080", token: "${HTTP_TOKEN}"}
        """,
    )
    webhook = "http://127.0.0.1:9/rest/1/webhook-secret-value/"
    config = load_config(path, env={"B24_WEBHOOK": webhook})
    assert config.store.path == tmp_path / "var" / "edo.db"
    assert config.schedule.cron == "*/5 8-20 * * 1-5"
    assert config.http.token == "token-from-the-file-0001"
    assert config.bitrix24 is not None and config.bitrix24.users == {"Иванов Иван": 7}
    assert config.dispatch.policy().max_attempts == 5
    assert {webhook, "token-from-the-file-0001"} <= config.secrets
    shown = repr(config)
    assert "webhook-secret-value" not in shown and "token-from-the-file" not in shown
    assert config.redact(f"GET {webhook}x") == "GET ***x"


def test_the_environment_wins_over_the_secrets_file(tmp_path: Path) -> None:
    (tmp_path / "s.env").write_text("TOKEN=from-file-xxxxxxxxxx\n", "utf-8")
    path = _write(tmp_path, "secrets_file: s.env\nhttp: {token: '${TOKEN}'}\n")
    config = load_config(path, env={"TOKEN": "from-env-yyyyyyyyyyyy"})
    assert config.http.token == "from-env-yyyyyyyyyyyy"


def test_every_mistake_is_reported_at_once_with_its_position(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        timezone: Europe/Moskow
        schedul: {interval: 5 minutes}
        logging: {format: xml}
        http: {token: "${MISSING_TOKEN}"}
        bitrix24:
          webhook_url: http://127.0.0.1:9/rest/1/abc/
          plan: gold
        """,
    )
    problems = _problems(path)
    file = str(path)
    assert f"{file}:3:1: schedul: неизвестный ключ 'schedul' (возможно, 'schedule'?)" in problems
    assert (
        f"{file}:4:19: logging.format: формат журнала: неизвестное значение 'xml'; допустимые"
        " значения: text, json" in problems
    )
    assert any(
        p.startswith(f"{file}:5:15: http.token: переменная окружения MISSING_TOKEN не задана")
        for p in problems
    )
    assert any(p.startswith(f"{file}:8:9: bitrix24.plan:") and "'gold'" in p for p in problems)
    assert any(":2:11: timezone: неизвестный часовой пояс 'Europe/Moskow'" in p for p in problems)
    assert len(problems) == 5


def test_section_values_are_checked_once_the_schema_passes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        timezone: Europe/Moskow
        playbooks: rules/
        schedule: {interval: 3 working days}
        calendar: {override: missing.yaml}
        """,
    )
    problems = "\n".join(_problems(path))
    assert (
        ":1:11: timezone: неизвестный часовой пояс 'Europe/Moskow' (возможно, 'Europe/Moscow'?)"
        in problems
    )
    assert ":2:12: playbooks:" in problems and "rules не существует (нужна папка" in problems
    assert (
        ":3:22: schedule.interval: '3 working days': интервал — это астрономическое время"
        in problems
    )
    assert ":4:22: calendar.override: файла дней компании" in problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule: {interval: 5 minutes, cron: '* * * * *'}", "либо schedule.cron, но не оба"),
        ("schedule: {cron: '*/5 * * *'}", "в выражении cron '*/5 * * *' полей: 4, а нужно 5"),
        ("schedule: {interval: five minutes}", "'five minutes' — не длительность"),
        ("store: {path: a.db, dsn: 'postgresql://x'}", "либо store.dsn, но не оба"),
        ("http: {listen: localhost}", "'localhost': ожидается ХОСТ:ПОРТ"),
        ("version: 2", "версия конфига: 2 не поддерживается"),
        ("dispatch: {batch_size: 0}", "размер пакета: должно быть не меньше 1"),
        ("store: a.db", "раздел хранилища (store): ожидается словарь, получено: строка"),
        ("http: {token: '${1BAD}'}", "'${1BAD}' — неверная ссылка; пишите ${ИМЯ}"),
    ],
)
def test_bad_values(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(_write(tmp_path, text + "\n"))
    assert any(expected in p for p in problems), problems


def test_interval_forms(tmp_path: Path) -> None:
    for text, seconds in (("30 seconds", 30), ("2 минуты", 120), ("1 hour", 3600), ("7", 7)):
        config = load_config(_write(tmp_path, f"schedule: {{interval: {text}}}\n"), env={})
        assert config.schedule.interval == seconds


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    assert "нет такого файла конфигурации; создайте его" in _problems(tmp_path / "absent.yaml")[0]
    broken = _write(tmp_path, "store: {path: [\n")
    (problem,) = _problems(broken)
    assert problem.startswith(f"{broken}:1:15: ошибка синтаксиса YAML: список, открытый здесь")
    listed = _write(tmp_path, "- a\n- b\n")
    assert "конфиг должен быть словарём разделов" in _problems(listed)[0]
    secrets = _write(tmp_path, "secrets_file: nope.env\n")
    assert "не удалось прочитать файл секретов" in _problems(secrets)[0]


def test_a_literal_dollar_brace_is_written_twice(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "http: {token: 'abc$${NOT_A_REF}-0123456789'}\n"), env={})
    assert config.http.token == "abc${NOT_A_REF}-0123456789"


def test_the_example_config_is_valid(tmp_path: Path) -> None:
    # As copied: nothing but the environment variables it names is needed.
    example = (ROOT / "edo-rules.example.yaml").read_text("utf-8")
    (tmp_path / "playbooks").mkdir()
    path = tmp_path / "edo-rules.yaml"
    path.write_text(example, "utf-8")
    env = {
        "EDO_RULES_1C_PASSWORD": "пароль-1С",
        "EDO_RULES_B24_WEBHOOK": "https://portal.bitrix24.ru/rest/1/abcdef123456/",
        "EDO_RULES_HTTP_TOKEN": "abcdefghijklmnop0123",
    }
    config = load_config(path, env=env)
    assert config.onec is not None and config.onec.password == "пароль-1С"
    assert config.bitrix24 is not None and config.bitrix24.mirror is not None
    assert config.http.listen == "127.0.0.1:8080"
    assert "abcdef123456" not in repr(config) and "пароль-1С" not in repr(config)


def test_validate_checks_the_config_and_its_playbooks_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edo_rules.cli import main

    path = _write(tmp_path, "schedule: {interval: 5 minuts}\n")
    (tmp_path / "playbooks" / "a.yaml").write_text(
        dedent(
            """
            version: 1
            name: a
            rules:
              - id: r
                when: {status_changed: {to: signed}}
                do:
                  - notify: {to: responsible, text: "Подписан {{ doc.title }}"}
                  - log: {message: "ok"}
            """
        ).lstrip(),
        "utf-8",
    )
    assert main(["validate", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:1:22: schedule.interval:" in out
    assert (
        f"{tmp_path / 'playbooks' / 'a.yaml'}:7:9: notify:" not in out
    )  # config broken: no cross-check
    path.write_text("version: 1\n", "utf-8")
    assert main(["validate", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "a.yaml:7:" in out and "нужен Битрикс24, но в" in out and "нет раздела bitrix24" in out
    assert "log" not in out.split("нужен Битрикс24")[0].rsplit("\n", 1)[-1]
    (tmp_path / "playbooks" / "a.yaml").write_text(
        "version: 1\nname: a\nrules:\n  - id: r\n    when: {status_changed: {to: signed}}\n"
        "    do: [{log: {message: ok}}]\n",
        "utf-8",
    )
    assert main(["validate", "--config", str(path)]) == 0
    assert "OK:" in capsys.readouterr().out
