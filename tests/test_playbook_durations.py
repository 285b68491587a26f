"""Durations in English and Russian, and the schema pattern that mirrors the parser."""

from __future__ import annotations

import re

import pytest

from edo_rules._messages import in_language
from edo_rules.playbook.durations import (
    MAX_AMOUNT,
    UNIT_WORDS,
    DurationSyntaxError,
    duration_pattern,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("3 working days", 3, "working_days"),
        ("1 working day", 1, "working_days"),
        ("2 days", 2, "days"),
        ("1 day", 1, "days"),
        ("4 hours", 4, "hours"),
        ("1 hour", 1, "hours"),
        ("30 minutes", 30, "minutes"),
        ("0 minutes", 0, "minutes"),
        ("3 рабочих дня", 3, "working_days"),
        ("5 рабочих дней", 5, "working_days"),
        ("1 рабочий день", 1, "working_days"),
        ("2 дня", 2, "days"),
        ("1 день", 1, "days"),
        ("10 дней", 10, "days"),
        ("4 часа", 4, "hours"),
        ("1 час", 1, "hours"),
        ("5 часов", 5, "hours"),
        ("30 минут", 30, "minutes"),
        ("1 минута", 1, "minutes"),
        ("  3   Working   Days ", 3, "working_days"),
        ("3 РАБОЧИХ ДНЯ", 3, "working_days"),
        ("7 calendar days", 7, "days"),
        ("3рабочих дня", 3, "working_days"),
    ],
)
def test_accepted_forms(text: str, amount: int, unit: str) -> None:
    duration = parse_duration(text)
    assert (duration.amount, duration.unit) == (amount, unit)
    assert duration.text == " ".join(text.split())
    assert re.match(duration_pattern(), text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("three days", "'three days' — не длительность: нужно целое число, затем единица (напр"),
        ("3", "'3' — не длительность"),
        ("", "'' — не длительность"),
        ("-3 days", "'-3 days' — не длительность"),
        ("3.5 days", "'3.5 days' — не длительность"),
        (
            "3 wrking days",
            "в '3 wrking days' неизвестная единица 'wrking days' (возможно, 'working days'?)",
        ),
        ("3 рабочих днй", "(возможно, 'рабочих дней'?)"),
        ("3 weeks", "неизвестная единица 'weeks'"),
        ("99999 working days", "слишком долго (не больше 2500 working days)"),
        ("1234567890 days", "слишком долго (не больше 3650 days)"),
    ],
)
def test_rejected_forms(text: str, message: str) -> None:
    with pytest.raises(DurationSyntaxError) as info:
        parse_duration(text)
    assert message in str(info.value)
    assert re.match(duration_pattern(), text) is None or "слишком долго" in message


def test_a_rejected_form_in_english() -> None:
    with pytest.raises(DurationSyntaxError) as info:
        parse_duration("3 wrking days")
    with in_language("en"):
        assert str(info.value) == (
            "'3 wrking days' has an unknown unit 'wrking days' (did you mean 'working days'?);"
            " e.g. '3 working days', '2 days', '4 hours', '30 minutes', '3 рабочих дня',"
            " '5 рабочих дней', '2 дня', '4 часа'"
        )


def test_every_unit_word_is_in_the_pattern_and_bounded() -> None:
    for unit, words in UNIT_WORDS.items():
        assert MAX_AMOUNT[unit] > 0
        for word in words:
            assert re.match(duration_pattern(), f"2 {word}"), word
            assert parse_duration(f"2 {word}").unit == unit
