"""Property tests: whatever an admin types, loading raises only PlaybookError with a position.

Valid playbooks are mutated structurally (random keys, types, values) and
textually (YAML punctuation, tabs, anchors, aliases, tags, broken quoting);
loading must either succeed or raise :class:`PlaybookError` whose every
problem names the file and a line and column ≥ 1 — never another exception.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edo_rules.errors import PlaybookError
from edo_rules.playbook import load_playbook_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [p.read_text("utf-8") for p in sorted((ROOT / "playbooks").glob("*.yaml"))]
SEEDS.append(
    "version: 1\nname: seed\nrules:\n  - id: r\n    match: {kind: [act], where: 'doc.amount > 1'}\n"
    "    when: {after: 3 working days, since: sent_at}\n"
    "    do: [log: {message: '{{ doc.title }}'}]\n"
    "    escalate: [{after: 5 days, do: [log: {level: info}]}]\n"
    "    repeat: {every: 1 day, times: 2}\n"
)
FILE = "fuzz.yaml"

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_loads_or_reports(text: str) -> None:
    try:
        load_playbook_text(text, FILE, require_adapters=False)
    except PlaybookError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == FILE
            assert problem.line >= 1 and problem.column >= 1
            assert problem.message and "Traceback" not in problem.message


# -- structural mutations ------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "3 working days",
            "0 минут",
            "99999999 days",
            "sent_at",
            "signed",
            "contract",
            "{{ doc.title }}",
            "{{ doc.__class__ }}",
            "{% for s in doc.signers %}{{ s.name }}{% endfor %}",
            "doc.amount > 1",
            "9**9**9",
            "09:00-18:00",
            "Europe/Moscow",
            "latest",
            "log",
            "notify",
        ]
    ),
)
KEYS = [
    "version",
    "name",
    "rules",
    "id",
    "match",
    "when",
    "do",
    "escalate",
    "repeat",
    "after",
    "since",
    "status_changed",
    "from",
    "to",
    "kind",
    "status",
    "where",
    "every",
    "times",
    "catch_up",
    "timezone",
    "working_hours",
    "log",
    "message",
    "level",
    "notify",
    "mirror",
]
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(KEYS)), inner, max_size=4),
    ),
    max_leaves=12,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*path, index)))
    return found


def _mutate(data: Any, draw: Any) -> Any:
    paths = _paths(data)
    path = draw(st.sampled_from(paths))
    if not path:
        return draw(st.one_of(VALUES, st.just(data)))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = draw(st.sampled_from(["replace", "delete", "add", "wrap", "rename"]))
    if action == "replace":
        parent[last] = draw(VALUES)
    elif action == "delete":
        del parent[last]
    elif action == "wrap":
        parent[last] = [parent[last]]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(KEYS))] = draw(VALUES)
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(st.text(max_size=10))] = parent.pop(last)
    return data


@st.composite
def mutated_playbooks(draw: Any) -> str:
    data = copy.deepcopy(yaml.safe_load(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        data = _mutate(data, draw)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@FUZZ
@given(mutated_playbooks())
def test_structural_mutations_raise_only_playbook_errors(text: str) -> None:
    assert_loads_or_reports(text)


# -- textual mutations ---------------------------------------------------------

TOKENS = [
    "\t",
    ":",
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "*b",
    "!!python/object:os.system ",
    "!!binary ",
    "!tag ",
    "---\n",
    "...\n",
    "'",
    '"',
    "\n",
    "%YAML 1.1\n",
    "? ",
    "<<: *a\n",
    "\x00",
    "\ufeff",
    "\x85",
    "{{",
    "}}",
    "{%",
    "#",
    "|",
    ">",
    "9" * 400,
    "1e999",
    ".nan",
    "~",
    "\\",
]


@st.composite
def mangled_text(draw: Any) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        choice = draw(st.sampled_from(["insert", "delete", "duplicate"]))
        if choice == "insert":
            text = text[:position] + draw(st.sampled_from(TOKENS)) + text[position:]
        elif choice == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        else:
            text = text[:position] + text[position : position + 40] * 2 + text[position + 40 :]
    return text


@FUZZ
@given(mangled_text())
def test_textual_mutations_raise_only_playbook_errors(text: str) -> None:
    assert_loads_or_reports(text)


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_playbook_errors(text: str) -> None:
    assert_loads_or_reports(text)


# -- known bombs and odd roots ---------------------------------------------------

LAUGHS = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LAUGHS, "слишком много узлов (больше 100000; псевдоним"),
        ("[" * 5000 + "]" * 5000, "YAML вложен слишком глубоко"),
        ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), "вложенность глубже 64"),
        ("version: " + "9" * 5000, "version"),
        ("42", "сценарий edo-rules: ожидается словарь, получено: целое число 42"),
        ("'just text'", "ожидается словарь, получено: строка 'just text'"),
        ("null", "ожидается словарь, получено: пустое значение None"),
        ("--- 1\n--- 2\n", "expected a single document"),
        ("x" * 1_000_001, "файл больше 1000000 байт"),
        ("a: !!binary 'not base64!'\n", "a: двоичные данные (!!binary)"),
        ("&a [*a]", "рекурсивный псевдоним (узел содержит сам себя)"),
    ],
)
def test_bombs_and_odd_roots(text: str, expected: str) -> None:
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(text, FILE)
    problem = info.value.problems[0]
    assert problem.file == FILE and problem.line >= 1
    assert expected in str(info.value)
