"""The one message catalogue: every key used exists, in both languages, with the same fields."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edo_rules import _display as show
from edo_rules._messages import (
    CATALOGUE,
    engine_text,
    in_language,
    language,
    msg,
    set_language,
    t,
)
from edo_rules._messages_errors import ERRORS
from edo_rules._messages_reports import REPORTS

PACKAGE = Path(__file__).resolve().parents[1] / "edo_rules"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_used_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\b(?:t|msg)\(\s*\"([a-z0-9_]+)\"", text))
    assert used and not used - set(CATALOGUE), sorted(used - set(CATALOGUE))


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_both_languages_take_the_same_fields(key: str) -> None:
    ru, en = CATALOGUE[key]
    assert ru and en and _fields(ru) == _fields(en)


def _conversions(text: str) -> list[tuple[str, str, str]]:
    return sorted((n, c or "", f or "") for _, n, f, c in string.Formatter().parse(text) if n)


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_both_languages_format_each_field_alike(key: str) -> None:
    """A field shown with ``!r`` or a format spec in one language is shown so in the other."""
    ru, en = CATALOGUE[key]
    assert _conversions(ru) == _conversions(en)


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_error_texts_are_russian_with_the_russian_phrases(key: str) -> None:
    ru, en = ERRORS[key]
    assert "What to do" not in ru and "Что сделать" not in en
    assert ("What to do:" in en) == ("Что сделать:" in ru)
    plain = re.sub(r"\{[^}]*\}", "", ru)
    assert re.search("[а-яё]", plain) or not re.search("[a-z]", plain), key  # "{a}: {b}" may
    assert '"' not in re.sub("«[^»]*»", "", ru), key  # «ёлочки» (a quoted YAML example inside)


@pytest.mark.parametrize("key", sorted(REPORTS))
def test_report_texts_are_russian_unless_they_have_no_words(key: str) -> None:
    """``diff`` and ``bitrix24 setup``: Russian by default; only pure layout is shared."""
    ru, en = REPORTS[key]
    plain = re.sub(r"«[^»]*»|\{[^}]*\}", "", ru)
    assert re.search("[а-яё]", plain) or ru == en, key
    assert ru == en or re.search("[а-яё]", en) is None, key


def test_a_key_defined_twice_in_the_catalogue_is_refused() -> None:
    from edo_rules._messages import _merge

    with pytest.raises(KeyError, match="diff_added"):
        _merge({"diff_added": ("добавлено", "added")})
    assert CATALOGUE["diff_added"] == REPORTS["diff_added"]


def test_a_message_is_rendered_when_shown_in_the_language_then() -> None:
    from edo_rules.errors import SourceError, StoreError

    error = StoreError(msg("no_store", path="x.db"))
    assert error.message_key == "no_store" and error.message_params == {"path": "x.db"}
    hinted = SourceError(msg("no_config", path="c.yaml"), code="6", hint=msg("docs_none"))
    assert hinted.message_key == "no_config"
    set_language("ru")
    try:
        assert str(error).startswith("нет хранилища x.db.\nЧто сделать: укажите")
        assert str(hinted).startswith("[код 1С 6] нет файла конфигурации c.yaml.")
        assert str(hinted).endswith("\nЧто сделать: документов не найдено")
        assert hinted.hint == "документов не найдено"
        with in_language("en"):
            assert str(error).startswith("no store at x.db.\nWhat to do: pass")
            assert str(hinted).startswith("[1C code 6] no config file c.yaml.")
            assert str(hinted).endswith("\nWhat to do: no documents found")
        assert str(error).startswith("нет хранилища")  # the block ended
    finally:
        set_language(None)
    with pytest.raises(KeyError, match="no_such_key"):
        msg("no_such_key")


def test_logs_keep_english_while_the_admin_reads_russian() -> None:
    import io
    import logging

    from edo_rules.errors import StoreError
    from edo_rules.runner.logs import remove_logging, setup_logging

    stream = io.StringIO()
    handler = setup_logging(stream=stream, secrets=["s3cret"])
    set_language("ru")
    try:
        error = StoreError(msg("no_store", path="s3cret.db"))
        logging.getLogger("edo_rules.test").error("tick failed: %s", error)
        try:
            raise error
        except StoreError:
            logging.getLogger("edo_rules.test").exception("again")
        assert str(error).startswith("нет хранилища")
    finally:
        set_language(None)
        remove_logging(handler)
    logged = stream.getvalue()
    # The text formatter escapes a line break inside a message (one record, one line).
    assert "tick failed: no store at ***.db.\\nWhat to do: pass" in logged
    assert "StoreError: no store at ***.db." in logged
    assert "хранилищ" not in logged and "s3cret" not in logged


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


def test_every_store_operation_has_its_russian_phrase() -> None:
    from edo_rules._messages_errors import STORE_OPERATIONS

    used: set[str] = set()
    for path in (PACKAGE / "store").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\b_(?:reading|writing|error)\(\s*\"([^\"]+)\"", text))
    assert used and not used - set(STORE_OPERATIONS), sorted(used - set(STORE_OPERATIONS))
