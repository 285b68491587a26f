"""OneCSettings from the onec: config section: conversions, defaults and every problem at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edo_rules.errors import ConfigError
from edo_rules.model import Status
from edo_rules.sources.onec import OneCSettings, load_preset


def test_a_full_section() -> None:
    settings = OneCSettings.from_mapping(
        {
            "url": "http://1c.local",
            "allow_insecure_http": True,
            "publication": "buh",
            "user": "Администратор",
            "password": "секрет",
            "preset": "bp30-legacy",
            "states": {"НаПодписи": "draft"},
            "page_size": 500,
            "timeout": 20,
            "overlap": "15m",
            "heal_every": "12 hours",
            "heal_window": "3d",
            "time_zone": "Asia/Yekaterinburg",
        },
        where="edo-rules.yaml",
    )
    assert settings.service_url == "http://1c.local/buh/odata/standard.odata/"
    assert settings.states == {"НаПодписи": Status.DRAFT}
    assert settings.overlap == timedelta(minutes=15)
    assert settings.heal_every == timedelta(hours=12) and settings.heal_window == timedelta(days=3)
    assert settings.zone.key == "Asia/Yekaterinburg"
    assert "секрет" not in repr(settings)


def test_defaults_and_a_full_url() -> None:
    settings = OneCSettings.from_mapping(
        {"url": "https://host/buh/odata/standard.odata", "user": "u", "password": "p"},
        where="edo-rules.yaml",
    )
    assert settings.service_url == "https://host/buh/odata/standard.odata/"
    assert settings.time_zone == "Europe/Moscow" and settings.preset == "bp30"
    assert settings.first_timeout > settings.timeout  # a cold 1C server answers slowly
    assert settings.allowed_only


def test_every_problem_is_reported_with_its_path_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        OneCSettings.from_mapping(
            {
                "url": "1c.local",
                "password": "${ONEC_PASSWORD}",
                "preset": "bp31",
                "page_size": 0,
                "overlap": "ten minutes",
                "time_zone": "Moscow",
                "states": {"ОбменЗавершен": "done"},
                "colour": "red",
            },
            where="edo-rules.yaml",
            lines={"onec.page_size": 7},
        )
    problems = {p.path: p for p in caught.value.problems}
    assert set(problems) == {
        "onec.url",
        "onec.user",
        "onec.password",
        "onec.preset",
        "onec.page_size",
        "onec.overlap",
        "onec.time_zone",
        "onec.states.ОбменЗавершен",
        "onec.colour",
    }
    assert (
        problems["onec.page_size"].line == 7 and problems["onec.page_size"].file == "edo-rules.yaml"
    )
    assert "bp30-legacy" in problems["onec.preset"].message
    assert "ONEC_PASSWORD" in problems["onec.password"].message


def test_presets_follow_1c_grouping_and_can_be_overridden() -> None:
    preset = load_preset("bp30")
    assert preset.status("ОбменЗавершен") is Status.SIGNED
    assert preset.status("ОбменЗавершенСИсправлением") is Status.SIGNED_WITH_CORRECTIONS
    assert preset.status("Аннулирован") is Status.REVOKED
    assert preset.status("ОжидаетсяПодтверждение") is Status.SENT
    assert preset.status("ТребуетсяПодписание") is Status.AWAITING_OUR_SIGNATURE
    assert preset.status("ТребуетсяУточнение") is Status.REJECTED
    assert preset.status("ЗакрытСОтклонением") is Status.CLOSED
    assert preset.status("НаПодписи") is Status.UNKNOWN  # an old name, not in the current library
    assert preset.groups["ОжидаетсяПодтверждение"] == "ОжидаетсяОтветКонтрагента"
    legacy = load_preset("bp30-legacy", {"Отклонен": Status.CLOSED})
    assert legacy.status("НаПодписи") is Status.AWAITING_OUR_SIGNATURE
    assert legacy.status("Отклонен") is Status.CLOSED
    assert legacy.register.changed_at is None
