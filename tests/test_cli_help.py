"""``--help`` and usage errors speak the admin's language: Russian by default, English on demand."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from edo_rules._messages_help import ARGPARSE_RU, HELP_RU
from edo_rules.cli import build_parser, main

ENGLISH_WORDS = ("usage:", "options:", "positional arguments", "show this help", "error:")


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def _parsers() -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of ``edo-rules``, with the emulators' own (``emulate 1c --help``)."""
    from edo_rules.cli._emulate import all_parser
    from edo_rules.emulators.bitrix24.cli import _parser as bitrix24_parser
    from edo_rules.emulators.onec.cli import build_parser as onec_parser

    yield from _commands(build_parser())
    yield ("emulate", "1c"), onec_parser()
    yield ("emulate", "bitrix24"), bitrix24_parser()
    yield ("emulate", "all"), all_parser()


COMMANDS = [path for path, _ in _parsers()]


def _texts(action: argparse.Action) -> Iterator[str]:
    if action.help and action.help is not argparse.SUPPRESS:
        yield action.help
    if isinstance(action.metavar, str):
        yield action.metavar
    elif action.metavar is None and action.choices is None and action.nargs != 0:
        yield action.dest if not action.option_strings else action.dest.upper()
    if isinstance(action, argparse._SubParsersAction):
        yield from (choice.help for choice in action._choices_actions if choice.help)


def _all_texts() -> set[str]:
    found: set[str] = set()
    for _, parser in _parsers():
        texts = [parser.description, parser.epilog]
        texts += [text for action in parser._actions for text in _texts(action)]
        found |= {text for text in texts if text}
    return found


def test_every_help_text_has_its_russian() -> None:
    missing = _all_texts() - set(HELP_RU) - set(ARGPARSE_RU)
    assert not missing, sorted(missing)


def test_no_russian_help_is_left_without_its_english() -> None:
    """An edited English text leaves its old line behind: the table names only live texts."""
    assert not set(HELP_RU) - _all_texts(), sorted(set(HELP_RU) - _all_texts())


@pytest.mark.parametrize("english", sorted(HELP_RU))
def test_a_help_text_keeps_its_fields(english: str) -> None:
    """argparse fills ``%(default)s`` in a help text: the Russian must take the same ones."""
    assert re.findall(r"%\(?\w*\)?\w|%%", english) == re.findall(
        r"%\(?\w*\)?\w|%%", HELP_RU[english]
    )


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    captured = capsys.readouterr()
    assert not captured.err
    return captured.out


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_is_russian_by_default(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDO_RULES_LANG", raising=False)
    out = _help(capsys, *command)
    assert out.startswith(f"использование: {' '.join(('edo-rules', *command))} [-h]")
    assert "  -h, --help" in out and "показать эту справку и выйти" in out
    assert not [word for word in ENGLISH_WORDS if word in out]
    if command:  # the command's own description, in Russian
        assert any("а" <= letter <= "я" for letter in out.split("\n\n")[1].lower()), out


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_is_english_with_lang_en(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDO_RULES_LANG", "en")  # `emulate 1c` passes its rest on, --lang too
    out = _help(capsys, *command)
    assert out.startswith(f"usage: {' '.join(('edo-rules', *command))} [-h]")
    assert "show this help message and exit" in out and "использование" not in out
    assert ("options:" in out) and "показать" not in out


def test_lang_en_before_and_after_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDO_RULES_LANG", raising=False)
    assert _help(capsys, "--lang", "en", "outbox", "retry").startswith("usage: edo-rules outbox")
    assert _help(capsys, "outbox", "retry", "--lang", "en").startswith("usage: edo-rules outbox")
    assert "\noptions:\n" in _help(capsys, "--lang", "en")


def test_lang_en_after_the_command_and_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _help(capsys, "tick", "--lang=en")
    assert "compute the firings without recording them" in out
    assert "[--config FILE] [--store PATH] [--playbooks DIR]" in out
    monkeypatch.setenv("EDO_RULES_LANG", "en")
    assert _help(capsys, "sync").startswith("usage: edo-rules sync")
    assert _help(capsys, "--lang", "ru", "sync").startswith("использование: edo-rules sync")


def test_the_russian_help_reads_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    out = _help(capsys, "tick")
    assert "[--config ФАЙЛ] [--store ПУТЬ]" in out
    assert "--dry-run             вычислить срабатывания, не записывая их" in out
    assert "Код выхода: 0 — всё выполнено, 1 — ошибка," in out
    top = _help(capsys)
    assert "позиционные аргументы:\n  КОМАНДА\n    demo " in top
    assert "\nпараметры:\n  -h, --help" in top
    assert "--version       показать версию и выйти" in top


def _usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert not captured.out
    return captured.err


@pytest.mark.parametrize(
    ("argv", "russian", "english"),
    [
        (
            ("tick", "--bogus", "1"),
            "edo-rules: ошибка: неизвестные аргументы: --bogus 1",
            "edo-rules: error: unrecognized arguments: --bogus 1",
        ),
        (
            ("nope",),
            "edo-rules: ошибка: аргумент КОМАНДА: недопустимое значение: 'nope' (допустимы:"
            " 'demo', 'run',",
            "edo-rules: error: argument COMMAND: invalid choice: 'nope' (choose from 'demo',"
            " 'run',",
        ),
        (
            ("explain",),
            "edo-rules explain: ошибка: не указаны обязательные аргументы: ДОК",
            "edo-rules explain: error: the following arguments are required: DOC",
        ),
        (
            ("agenda", "--days"),
            "edo-rules agenda: ошибка: аргумент --days: нужно одно значение",
            "edo-rules agenda: error: argument --days: expected one argument",
        ),
        (
            ("agenda", "--days", "many"),
            "edo-rules agenda: ошибка: аргумент --days: 'many': укажите целое число от 1 до 250",
            "edo-rules agenda: error: argument --days: 'many': give a whole number from 1 to 250",
        ),
        (
            ("outbox", "show", "x"),
            "edo-rules outbox show: ошибка: аргумент ID: недопустимое значение (int): 'x'",
            "edo-rules outbox show: error: argument id: invalid int value: 'x'",
        ),
        (
            ("store",),
            "edo-rules store: ошибка: не указаны обязательные аргументы: ДЕЙСТВИЕ",
            "edo-rules store: error: the following arguments are required: ACTION",
        ),
    ],
)
def test_usage_errors_exit_2_in_the_language(
    argv: tuple[str, ...], russian: str, english: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(capsys, *argv)
    assert err.startswith("использование: edo-rules"), err
    assert russian in err and "error:" not in err
    err = _usage_error(capsys, *argv, "--lang", "en")
    assert err.startswith("usage: edo-rules") and english in err
