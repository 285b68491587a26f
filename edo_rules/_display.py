"""How admin-facing output shows moments, statuses and ladder steps — one way everywhere.

Every moment is shown in the configured zone (``timezone`` of the config,
Europe/Moscow by default) as ``пн 07.12.2026 09:30 MSK`` (``Mon …`` in English);
machine output (``--json``) uses ISO 8601 in the same zone. Nothing else in
the CLI formats a datetime by hand.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from edo_rules._messages import language
from edo_rules.model import Status

DEFAULT_ZONE = ZoneInfo("Europe/Moscow")

_WEEKDAYS = {
    "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

_STATUSES_RU = {
    Status.DRAFT: "черновик",
    Status.AWAITING_OUR_SIGNATURE: "ждёт нашей подписи",
    Status.SENT: "отправлен, ждёт подписи контрагента",
    Status.SIGNED: "подписан",
    Status.SIGNED_WITH_CORRECTIONS: "подписан с уточнениями",
    Status.REJECTED: "отклонён",
    Status.REVOKED: "аннулирован",
    Status.CLOSED: "закрыт",
    Status.ERROR: "ошибка",
    Status.UNKNOWN: "неизвестное состояние 1С",
}


def moment(value: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    """``пн 07.12.2026 09:30 MSK``: weekday, date, time and the zone's abbreviation."""
    local = value.astimezone(zone)
    return f"{_WEEKDAYS[language()][local.weekday()]} {local:%d.%m.%Y %H:%M %Z}"


def day(value: date) -> str:
    """``пн 07.12.2026``."""
    return f"{_WEEKDAYS[language()][value.weekday()]} {value:%d.%m.%Y}"


def iso(value: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    """ISO 8601 in ``zone``, to the second (the ``--json`` form)."""
    return value.astimezone(zone).replace(microsecond=0).isoformat()


def status(value: Status | str) -> str:
    """A canonical status as the admin reads it: ``подписан (signed)`` / ``signed``."""
    raw = Status(value) if value in Status._value2member_map_ else None
    if raw is None or language() == "en":
        return str(value)
    return f"{_STATUSES_RU[raw]} ({raw.value})"


_STEP = re.compile(r"^(do|escalate|repeat|event)(?:\[(\d+)\])?(.*)$")
_STEP_RU = {"do": "первый шаг", "escalate": "эскалация", "repeat": "повтор", "event": "событие"}


def step(name: str) -> str:
    """A ladder step name: ``escalate[1]`` → ``эскалация 1 (escalate[1])`` in Russian."""
    found = _STEP.match(name)
    if language() == "en" or found is None:
        return name
    word, number, rest = found.groups()
    text = _STEP_RU[word] + (f" {number}" if number else "")
    return f"{text}{rest} ({name})"


def rule(key: str, description: str | None) -> str:
    """``signing/remind — Контрагент не подписал документ`` (the key alone without one)."""
    return f"{key} — {description}" if description else key
