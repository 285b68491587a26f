"""The agenda simulated by a child process: the same plan as in the server's process,
failures carried back as clear errors, and a stop (by the server, or a SIGTERM to the
child) that ends the simulation before its next day with its scratch copy removed.

Real child processes (``spawn``), a real SQLite store and real playbook files.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _web_helpers import MSK, NOW, fill_store

from edo_rules.calendar import ProductionCalendar
from edo_rules.engine import Engine
from edo_rules.errors import EdoRulesError, PlaybookError
from edo_rules.playbook import load_playbooks
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web._agenda import Planned
from edo_rules.web._agenda_process import SimulationJob, simulate_in_process
from edo_rules.web._documents import plan_agenda

PLAYBOOK = """version: 1
name: waiting
rules:
  - id: remind
    match: {status: sent}
    when:
      after: 1 working day
      since: sent_at
      repeat: {every: 1 working day, times: 30}
    do:
      - log: {message: "{{ doc.title }}"}
"""


def _world(tmp_path: Path, count: int = 40) -> tuple[Path, Path]:
    store, playbooks = tmp_path / "store.sqlite3", tmp_path / "playbooks"
    fill_store(store, count=count)
    playbooks.mkdir()
    (playbooks / "waiting.yaml").write_text(PLAYBOOK, encoding="utf-8")
    return store, playbooks


def _job(store: Path, playbooks: Path, days: int = 5) -> SimulationJob:
    return SimulationJob((playbooks,), MSK.key, NOW, days, store_path=store)


def test_the_childs_plan_equals_the_one_computed_in_this_process(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    planned = simulate_in_process(_job(store, playbooks), threading.Event())
    calendar = ProductionCalendar.russia()
    with SQLiteStore(store) as opened:
        engine = Engine(opened, load_playbooks([playbooks]), calendar)
        direct = plan_agenda(engine, NOW, calendar, 5, MSK)
    assert planned and planned == direct  # the documents too: the filters test them


def test_a_broken_playbook_comes_back_as_its_problems(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    (playbooks / "waiting.yaml").write_text(
        PLAYBOOK.replace("after: 1 working day", "after: soon"), encoding="utf-8"
    )
    with pytest.raises(PlaybookError) as caught:
        simulate_in_process(_job(store, playbooks), threading.Event())
    assert caught.value.file.endswith("waiting.yaml") and caught.value.line > 0
    assert "soon" in str(caught.value)


def test_a_store_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    _, playbooks = _world(tmp_path)
    missing = tmp_path / "no-such-folder" / "store.sqlite3"
    with pytest.raises(EdoRulesError) as caught:
        simulate_in_process(_job(missing, playbooks), threading.Event())
    assert "no-such-folder" in str(caught.value)


def _scratch(folder: Path) -> list[Path]:
    return list(folder.glob("edo-rules-scratch-*"))


def _in_background(job: SimulationJob, stopping: threading.Event) -> Callable[[], object]:
    """Run the simulation in a thread; the returned call waits for its plan or error."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(simulate_in_process(job, stopping))
        except Exception as exc:  # the test inspects what came back
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()

    def result() -> object:
        thread.join(120)
        assert not thread.is_alive() and outcome
        return outcome[0]

    return result


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _children() -> list[int]:
    """The spawned workers of this process (Linux /proc; not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("how", ["server", "sigterm"])
def test_a_stop_ends_the_simulation_and_removes_its_scratch_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    store, playbooks = _world(tmp_path, count=600)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the child's temporary folder
    stopping = threading.Event()
    result = _in_background(_job(store, playbooks, days=30), stopping)
    _wait_for(lambda: bool(_scratch(scratch)), "the child's scratch copy")
    if how == "server":
        stopping.set()
    else:
        (child,) = _children()
        os.kill(child, signal.SIGTERM)
    outcome = result()
    assert isinstance(outcome, EdoRulesError) and "stopped" in str(outcome)
    assert _scratch(scratch) == []


def test_a_child_killed_outright_is_reported_not_hung(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    result = _in_background(_job(store, playbooks), threading.Event())
    _wait_for(lambda: bool(_children()), "the child process")
    for child in _children():
        os.kill(child, signal.SIGKILL)
    outcome = result()
    assert isinstance(outcome, EdoRulesError) and "аварийно" in str(outcome)


def test_plans_are_plain_data(tmp_path: Path) -> None:
    """What crosses back is the documents and rows the page filters and shows."""
    store, playbooks = _world(tmp_path)
    planned: Planned = simulate_in_process(_job(store, playbooks, days=2), threading.Event())
    doc, row = planned[0]
    assert row["id"] == doc.id and row["rule"] == "waiting/remind"
