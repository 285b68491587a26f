"""YAML syntax errors point at the line and column where the broken construct starts.

PyYAML notices an unclosed quote at the end of the file and an unclosed
bracket on a later line; the admin needs the place where it opens, the line
shown with a caret, and a hint for the usual cause.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edo_rules.config import load_config
from edo_rules.errors import ConfigError, PlaybookError
from edo_rules.playbook import load_playbook_text

HEAD = "version: 1\nname: t\nrules:\n  - id: r\n    when: {status_changed: {}}\n"

CASES: list[tuple[str, str, int, int, str]] = [
    # (name, playbook text, line, column, words of the message)
    (
        "unclosed double quote, block value",
        HEAD + '    do:\n      - log:\n          message: "не закрыта\n'
        "  - id: s\n    when: {status_changed: {}}\n    do: [log: ]\n",
        8, 20, "never closed",
    ),
    (
        "unclosed double quote, a later quote closes it",
        HEAD + '    do:\n      - log:\n          message: "не закрыта\n'
        '  - id: s\n    when: {status_changed: {}}\n    do: [log: {message: "x"}]\n',
        8, 20, "runs on over the next lines",
    ),
    (
        "unclosed single quote in a flow mapping",
        HEAD + "    do: [log: {message: 'не закрыта}]\n  - id: s\n",
        6, 25, "never closed",
    ),
    (
        "key indented one space less",
        HEAD + "   do: [log: ]\n",
        6, 4, "indented differently",
    ),
    (
        "key indented one space more",
        HEAD + "    do: [log: ]\n     description: x\n",
        7, 6, "indented differently",
    ),
    (
        "list item out of line",
        "version: 1\nname: t\nrules:\n  - id: r\n    do: [log: ]\n - id: s\n",
        6, 2, "indented differently",
    ),
    (
        "a tab as indentation",
        HEAD + "\tdo: [log: ]\n",
        6, 1, "a tab character",
    ),
    (
        "a tab after spaces",
        HEAD + "    do:\n    \t- log: \n",
        7, 5, "a tab character",
    ),
    (
        "unclosed bracket at the end of the file",
        HEAD + "    match: {kind: act}\n    do: [log: \n",
        7, 9, "'[' here is never closed",
    ),
    (
        "unclosed bracket before the next key",
        HEAD + "    match:\n      kind: [act, upd\n    do: [log: ]\n",
        7, 13, "'[' here is never closed",
    ),
    (
        "a bracket closed by a brace",
        HEAD + "    match: {kind: [act, upd}\n    do: [log: ]\n",
        6, 19, "'[' here is never closed",
    ),
    (
        "unclosed brace",
        HEAD + "    match: {kind: act\n    do: [log: ]\n",
        6, 12, "'{' here is never closed",
    ),
    (
        "no space after the colon",
        HEAD + "    description:x\n    do: [log: ]\n",
        6, 5, "no ': ' after it",
    ),
    (
        "': ' inside a plain value",
        HEAD + "    description: Ответ: да\n    do: [log: ]\n",
        6, 23, "a ': ' inside a value",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "text", "line", "column", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_syntax_error_points_where_the_construct_starts(
    name: str, text: str, line: int, column: int, words: str
) -> None:
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(text, "pb.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column) == ("pb.yaml", line, column), str(problem)
    assert problem.message.startswith("ошибка синтаксиса YAML: ")
    shown = text.splitlines()[line - 1].replace("\t", " ")
    _, source, caret, hint = problem.message.split("\n")
    assert source == f"  {line} | {shown}"
    assert caret == f"  {' ' * len(str(line))} | {' ' * (column - 1)}^"
    assert hint.startswith("  подсказка: ")
    assert str(problem).startswith(f"pb.yaml:{line}:{column}: ошибка синтаксиса YAML: ")
    assert problem.text is not None
    english = problem.text.render("en")  # the words below are the English ones
    assert english.startswith("YAML syntax: ") and words in english
    assert english.split("\n")[1:3] == [source, caret]
    assert english.split("\n")[3].startswith("  hint: ")


def test_the_issue_example_is_reported_at_the_quote_not_at_the_end() -> None:
    text = (
        "version: 1\nname: t\nrules:\n  - id: r\n    when: {status_changed: {}}\n"
        '    do:\n      - notify: {to: responsible, text: "Документ {{ doc.title }}}\n'
        "  - id: s\n    when: {status_changed: {}}\n    do: [log: ]\n"
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(text, "pb.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (7, 41)  # the opening quote


def test_config_files_get_the_same_report(tmp_path: Path) -> None:
    path = tmp_path / "edo-rules.yaml"
    path.write_text("store:\n  path: 'edo.db\nplaybooks: playbooks\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (2, 9)
    assert "значение в кавычках, которое начинается здесь, не закрыто" in problem.message
    assert "подсказка: закройте кавычку" in problem.message
