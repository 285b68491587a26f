"""The ``bitrix24:`` config section and deadline parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from edo_rules.actions.bitrix24 import ENTERPRISE, Bitrix24Settings, Plan, make_client
from edo_rules.actions.bitrix24._deadline import deadline, parse
from edo_rules.errors import ConfigError

HOOK = "https://portal.bitrix24.ru/rest/1/abcdef123456/"


def _problems(mapping: object, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Bitrix24Settings.from_mapping(mapping, where="edo-rules.yaml", **kwargs)  # type: ignore[arg-type]
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


def test_a_full_section_parses() -> None:
    settings = Bitrix24Settings.from_mapping(
        {
            "webhook_url_env": "B24",
            "plan": "enterprise",
            "users": {"Иванов": 7},
            "fallback_user": 1,
            "deal": {"strategy": "field", "field": "UF_CRM_1C", "value": "document_id"},
            "mirror": {"target": "list", "iblock_code": "edo", "fields": {"status": "PROPERTY_5"}},
            "cache_ttl": 60,
        },
        where="edo-rules.yaml",
        env={"B24": HOOK},
    )
    assert settings.plan == ENTERPRISE and settings.users == {"Иванов": 7}
    assert settings.deal.field == "UF_CRM_1C" and settings.mirror is not None
    assert settings.mirror.fields == {"title": "NAME", "status": "PROPERTY_5"}
    assert "abcdef123456" not in repr(settings)
    custom = Bitrix24Settings.from_mapping(
        {"webhook_url": HOOK, "plan": {"capacity": 10, "rate": 1}}, where="x"
    )
    assert custom.plan == Plan(10, 1.0)


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(
        {
            "webhook_url": "http://portal.bitrix24.ru/rest/1/abc/",
            "plan": "gold",
            "users": {"Иванов": "seven"},
            "deal": {"strategy": "field"},
            "mirror": {"target": "smart_process", "fields": {"colour": "x"}},
            "extra": 1,
        }
    )
    joined = "\n".join(problems)
    assert "bitrix24.webhook_url: http://portal.bitrix24.ru — обычный http: портал" in joined
    assert "bitrix24.plan: 'gold' — не тариф (ожидается ordinary, enterprise или" in joined
    assert "bitrix24.users.Иванов: должен быть id пользователя Битрикс24" in joined
    assert "bitrix24.deal.field: обязателен при strategy: field" in joined
    assert "bitrix24.mirror.fields.colour: неизвестное сведение (допустимы:" in joined
    assert "bitrix24.mirror.entity_type_id: обязателен при target: smart_process" in joined
    assert "bitrix24.extra: неизвестный ключ (допустимы: accounting, cache_ttl," in joined
    assert all("abc/" not in p for p in problems)


def test_webhook_or_oauth_exactly_one() -> None:
    assert any("укажите что-то одно: webhook_url" in p for p in _problems({}))
    assert any(
        "webhook_url_env: переменная окружения B24 не задана" in p
        for p in _problems({"webhook_url_env": "B24"}, env={})
    )
    assert any(
        "ожидается путь вебхука" in p for p in _problems({"webhook_url": "https://portal.ru/x"})
    )


def test_a_missing_token_file_is_a_config_error(tmp_path: Path) -> None:
    settings = Bitrix24Settings.from_mapping(
        {
            "oauth": {
                "portal_url": "https://p.bitrix24.ru",
                "client_id": "app",
                "client_secret": "s3cr3t-value",
                "token_file": str(tmp_path / "none.json"),
            }
        },
        where="edo-rules.yaml",
    )
    with pytest.raises(ConfigError) as caught:
        make_client(settings)
    assert "none.json" in str(caught.value) and "refresh_token" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 working day", (1, "working_days")),
        ("3 рабочих дня", (3, "working_days")),
        ("2 days", (2, "days")),
        ("4 часа", (4, "hours")),
        ("30 minutes", (30, "minutes")),
        ("5 дней", (5, "days")),
    ],
)
def test_durations_parse(text: str, expected: tuple[int, str]) -> None:
    assert parse(text) == expected


def test_working_day_deadlines_skip_holidays() -> None:
    friday = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
    holidays = {date(2027, 1, d) for d in range(1, 9)}
    due = deadline(
        "1 working day", friday, working_day=lambda d: d.weekday() < 5 and d not in holidays
    )
    assert due.isoformat() == "2027-01-11T18:00:00+03:00"
    assert deadline("4 hours", friday).isoformat() == "2026-12-31T17:00:00+03:00"
    with pytest.raises(ValueError, match="unknown unit"):
        parse("3 fortnights")
