"""The README's examples work as written."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
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


# -- every command shown in README.md and docs/cli.md runs as written -------------------

CLI_DOC = README.parent / "docs" / "cli.md"
#: Commands that serve until stopped: started in a scratch folder, stopped once ready.
_SERVING = ("emulate", "serve")
#: Commands whose documented exit status is not 0 here.
_EXPECTED = {
    ("outbox", "retry", "1", "2"): 1,  # the requests are already done
    ("outbox", "drop", "2"): 1,
    ("bitrix24", "setup", "--config", "edo-rules.yaml", "--dry-run"): 1,  # something to create
    # PostgreSQL commands: the sandbox has no such file or server, and a SQLite store.
    (
        "store",
        "copy",
        "--from",
        "sqlite:///var/lib/edo-rules/edo-rules.db",
        "--to",
        "postgresql://edo_rules@db/edo_rules",
    ): 1,
    ("runners", "--config", "edo-rules.yaml"): 1,
}


def _shown_commands() -> list[tuple[str, ...]]:
    readme = README.read_text(encoding="utf-8")
    table = re.findall(r"^\| `(edo-rules [^`]+)` \|", readme, re.M)
    cli = CLI_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", cli, re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    shown = [*table, *(line for line in lines if line.startswith("edo-rules "))]
    commands = [tuple(shlex.split(text, comments=True)[1:]) for text in shown]
    return list(dict.fromkeys(commands))


def test_the_docs_show_the_commands() -> None:
    shown = {command[0] for command in _shown_commands()}
    from edo_rules.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert shown == set(action.choices), "every command is shown, and only real ones"


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with the config `edo-rules emulate all` wrote, its emulators running."""
    from edo_rules.cli import _emulate_all

    folder = tmp_path_factory.mktemp("emulated")
    stop = threading.Event()
    args = argparse.Namespace(
        documents=300, seed=1, write=folder / "edo-rules.yaml", onec_port=0, bitrix24_port=0
    )
    thread = threading.Thread(target=_emulate_all.run, args=(args, stop), daemon=True)
    thread.start()
    for _ in range(300):
        if (folder / "playbooks").is_dir():
            break
        time.sleep(0.1)
    yield folder
    stop.set()
    thread.join(10)


def _serve_briefly(argv: tuple[str, ...], folder: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from edo_rules.cli import main; sys.exit(main())",
         *argv],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "http://127.0.0.1:" in first, process.stderr.read() if process.stderr else ""
    finally:
        process.terminate()
        process.wait(10)


def test_every_command_shown_runs_as_written(
    emulated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from edo_rules.cli import main

    monkeypatch.chdir(emulated)
    assert main(["sync"]) == 0  # a store and an outbox to show; the first tick's flood of
    assert main(["tick"]) in (0, 3)  # history may leave notifications held for the digest (3)
    shutil.copytree(emulated / "playbooks", emulated / "new-playbooks")  # for `diff`
    for argv in _shown_commands():
        if argv[0] in _SERVING:
            # `serve` shows the emulated store; `emulate` starts its own in a scratch folder.
            _serve_briefly(argv, emulated if argv[0] == "serve" else tmp_path)
            continue
        status = main(list(argv))
        captured = capsys.readouterr()
        assert status == _EXPECTED.get(argv, 0), f"edo-rules {' '.join(argv)}: {captured.err}"
        assert "Traceback" not in captured.err
    assert (emulated / "starter" / "edo-rules.yaml").is_file()
