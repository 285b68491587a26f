"""The README's examples work as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from edo_rules import load_playbook

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _blocks("bash")
    assert len(commands) == 2
    assert commands[0].strip().endswith("edo-rules demo")
    assert "pytest" in commands[1]


def test_readme_playbook_validates(tmp_path: Path) -> None:
    (path := tmp_path / "readme.yaml").write_text(_blocks("yaml")[0], encoding="utf-8")
    playbook = load_playbook(path)
    assert [rule.id for rule in playbook.rules] == ["remind-unsigned"]


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    document = {
        "type": "document", "id": "d1", "kind": "contract", "number": "17",
        "date": "2024-04-26", "direction": "outgoing", "status": "sent",
        "status_1c": "ОжидаетсяПодтверждение",
        "counterparty": {"name": "ООО «Ромашка»", "inn": "7701234567"},
        "amount": "125000.50", "sent_at": "2024-04-26T15:30:00+03:00",
    }  # fmt: skip
    Path("documents.jsonl").write_text(json.dumps(document, ensure_ascii=False) + "\n")
    Path("my-playbooks").mkdir()
    Path("my-playbooks/remind.yaml").write_text(
        "version: 1\nname: remind\nrules:\n  - id: unsigned\n"
        "    match: {status: sent}\n    when: {after: 3 working days, since: sent_at}\n"
        "    do:\n      - log: {message: 'remind {{ doc.title }}'}\n",
        encoding="utf-8",
    )
    namespace: dict[str, object] = {}
    exec(compile(_blocks("python")[0], "README.md", "exec"), namespace)
    result = namespace["result"]
    assert len(result.fired) == 1  # type: ignore[attr-defined]
