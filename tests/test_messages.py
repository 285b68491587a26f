"""The one message catalogue: every key used exists, in both languages, with the same fields."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edo_rules import _display as show
from edo_rules._messages import CATALOGUE, engine_text, language, set_language, t

PACKAGE = Path(__file__).resolve().parents[1] / "edo_rules"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_used_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        used |= set(re.findall(r"\bt\(\s*\"([a-z0-9_]+)\"", path.read_text(encoding="utf-8")))
    assert used and not used - set(CATALOGUE), sorted(used - set(CATALOGUE))


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_both_languages_take_the_same_fields(key: str) -> None:
    ru, en = CATALOGUE[key]
    assert ru and en and _fields(ru) == _fields(en)


def test_the_language_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDO_RULES_LANG", raising=False)
    set_language(None)
    assert language() == "ru" and t("nothing_due") == "ничего не наступило"
    monkeypatch.setenv("EDO_RULES_LANG", "en")
    assert t("nothing_due") == "nothing is due"
    set_language("ru")
    assert t("nothing_due") == "ничего не наступило"  # the command line wins
    set_language(None)


def test_moments_are_shown_one_way_in_the_zone() -> None:
    set_language("ru")
    try:
        moment = datetime(2026, 12, 7, 6, 30, 15, 868878, tzinfo=UTC)
        assert show.moment(moment) == "пн 07.12.2026 09:30 MSK"
        assert show.iso(moment) == "2026-12-07T09:30:15+03:00"
        assert show.step("escalate[1]") == "эскалация 1 (escalate[1])"
        assert show.step("repeat[2]") == "повтор 2 (repeat[2])"
        assert engine_text("sent Fri 26.04.2024; 3 working days: Sat 27.04 (working Saturday)"
                           " → due Mon 06.05 00:00") == (
            "отправлен пт 26.04.2024; 3 раб. дн.: сб 27.04 (рабочая суббота) → срок пн 06.05 00:00"
        )  # fmt: skip
    finally:
        set_language(None)


def test_library_errors_keep_their_text_with_the_phrase_translated() -> None:
    from edo_rules._messages import error_text

    message = "no store at x.db.\nWhat to do: pass --store PATH."
    set_language("ru")
    try:
        assert error_text(message) == "no store at x.db.\nЧто сделать: pass --store PATH."
        set_language("en")
        assert error_text(message) == message
    finally:
        set_language(None)
