"""The CLI shell: every command has help text, errors become exit codes."""

from __future__ import annotations

import argparse

import pytest

from edo_rules.cli import COMMAND_MODULES, build_parser, main


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_module_registers_a_command() -> None:
    assert len(_subcommands()) == len(COMMAND_MODULES)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_has_help_text(name: str) -> None:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert helps.get(name), f"`edo-rules {name}` has no help text"
    assert _subcommands()[name].description or helps[name]


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    usage = "использование: edo-rules [-h] [--version] [--lang {ru,en}] КОМАНДА ..."
    assert usage in capsys.readouterr().out


def test_library_errors_become_exit_1_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "check", "2024-02-30"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("edo-rules: ошибка: ")
    assert "Traceback" not in err
