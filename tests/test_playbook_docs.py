"""Every YAML example in docs/playbooks.md is a valid playbook, rule or rule fragment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from edo_rules.playbook import load_playbook_text
from edo_rules.testing import load_test

DOC = Path(__file__).resolve().parent.parent / "docs" / "playbooks.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)
# Blocks that show a shape with "..." placeholders are illustrations, not examples.
EXAMPLES = [b for b in BLOCKS if "[...]" not in b and "{...}" not in b and '"..."' not in b]
# Playbook tests (top-level `expect:`) are checked as tests, not as playbooks.
TESTS = [b for b in EXAMPLES if re.search(r"^expect:", b, flags=re.MULTILINE)]
EXAMPLES = [b for b in EXAMPLES if b not in TESTS]


def _as_playbook(block: str, index: int) -> str:
    data: Any = yaml.safe_load(block)
    if isinstance(data, dict) and "version" in data:
        return block
    rules = data if isinstance(data, list) else [_as_rule(data, index)]
    return yaml.safe_dump(
        {"version": 1, "name": f"docs-{index}", "rules": rules}, allow_unicode=True
    )


def _as_rule(fragment: dict[str, Any], index: int) -> dict[str, Any]:
    if set(fragment) == {"where"}:  # an expression example
        fragment = {"match": fragment}
    if set(fragment) == {"text"}:  # a template example
        fragment = {"do": [{"log": {"message": fragment["text"]}}]}
    rule: dict[str, Any] = {"id": f"example-{index}", "do": [{"log": None}]}
    rule["when"] = (
        {"after": "1 day", "since": "sent_at"} if "escalate" in fragment else {"status_changed": {}}
    )
    rule.update(fragment)
    return rule


def test_the_reference_has_examples() -> None:
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_example_validates(index: int) -> None:
    load_playbook_text(_as_playbook(EXAMPLES[index], index), f"docs/playbooks.md#{index}")


def test_the_reference_shows_a_playbook_test() -> None:
    assert TESTS


@pytest.mark.parametrize("index", range(len(TESTS)))
def test_test_example_loads(index: int, tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(TESTS[index], encoding="utf-8")
    spec = load_test(path)
    assert spec.expectations
