"""`edo-rules serve` (the dashboard alone, read-only) and `edo-rules report`."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from _runner_helpers import other_threads, tgkill
from _web_helpers import MANAGERS, PLAYBOOK, agenda_ready, fill_store, sql

from edo_rules.cli import main

_CLI = "import sys; from edo_rules.cli import main; sys.exit(main())"


def _config(folder: Path, dashboard: str | None = "dashboard: {}") -> Path:
    fill_store(folder / "store.sqlite3")
    (folder / "playbooks").mkdir()
    (folder / "playbooks" / "waiting.yaml").write_text(PLAYBOOK, encoding="utf-8")
    text = "version: 1\nstore: {path: store.sqlite3}\nplaybooks: playbooks\n"
    path = folder / "edo-rules.yaml"
    path.write_text(text + (dashboard + "\n" if dashboard else ""), encoding="utf-8")
    return path


def test_report_prints_the_breakdown_in_each_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    store = tmp_path / "store.sqlite3"
    assert main(["report", "--config", str(config), "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    for name in MANAGERS:
        total = sql(store, "SELECT COUNT(*) FROM documents WHERE responsible = ?", name)[0][0]
        assert rows[name]["total"] == total
    assert main(["report", "--config", str(config), "--by", "kind", "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    kinds = dict(sql(store, "SELECT kind, COUNT(*) FROM documents GROUP BY kind"))
    assert {row[0]: int(row[1]) for row in table[1:]} == kinds
    assert main(["report", "--config", str(config), "--by", "company"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("По компаниям\nКонтрагент") and "ООО «Ромашка»" in text
    assert main(["report", "--config", str(config), "--from", "20.05.2024"]) == 1
    assert "ожидается дата ГГГГ-ММ-ДД" in capsys.readouterr().err


def test_serve_is_read_only_and_explains_with_the_playbooks(tmp_path: Path) -> None:
    config = _config(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-c", _CLI, "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"панель: (http://\S+)/", line)
            if match:
                found.append(match.group(1))
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(90)
        base = found[0]
        page = httpx.get(f"{base}/document/doc-001", timeout=60).text
        assert "waiting/remind" in page and "Обновить из 1С" not in page
        assert httpx.post(f"{base}/sync", timeout=60).status_code in {404, 405}
        assert httpx.get(f"{base}/metrics", timeout=60).status_code == 404
        assert httpx.get(f"{base}/agenda?days=2", timeout=60).status_code == 200
        # A SIGTERM the kernel hands to the server's thread, not the main one: Python runs
        # the handler in the main thread, which must wake to run it.
        tgkill(process.pid, other_threads(process.pid)[-1], signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0


def test_serve_refuses_an_open_dashboard_beyond_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, dashboard=None)
    # Without a dashboard: section the dashboard is open, so loopback only.
    assert main(["serve", "--config", str(config), "--listen", "0.0.0.0:0"]) == 1
    assert "refusing to serve the dashboard" in capsys.readouterr().err


def test_a_plain_password_in_the_config_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, dashboard="dashboard: {users: {anna: secret123}}")
    assert main(["serve", "--config", str(config)]) == 1
    assert "ожидается хеш пароля (scrypt$… или pbkdf2_sha256$…), а не сам пароль" in (
        capsys.readouterr().err
    )


@contextmanager
def _client(config: Path) -> Iterator[httpx.Client]:
    from edo_rules.config import load_config
    from edo_rules.runner.app import wall_clock
    from edo_rules.web import Endpoint, WebServer, build_app
    from edo_rules.web._wiring import dashboard_for

    app = build_app(None, dashboard_for(load_config(config), wall_clock))
    server = WebServer(app, Endpoint("127.0.0.1", 0))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def test_the_agenda_is_simulated_and_filtered(tmp_path: Path) -> None:
    manager = MANAGERS[0]
    with _client(_config(tmp_path)) as client:
        first = client.get("/agenda?days=3")  # never waits for the simulation
        ready = agenda_ready(client.get, "/agenda?days=3")
        shown = client.get("/agenda?days=3")
        mine = client.get("/agenda", params={"days": "3", "format": "json", "manager": manager})
    assert first.status_code == 200 and 'http-equiv="refresh" content="5"' in first.text
    assert "Повестка рассчитывается" in first.text
    assert "Рассчитано в" in shown.text and 'http-equiv="refresh"' not in shown.text
    assert ready["agenda"]["state"] == "fresh" and ready["agenda"]["as_of"]
    everything = ready["tables"]
    planned = everything[3]["rows"]
    waiting = sql(tmp_path / "store.sqlite3", "SELECT id FROM documents WHERE status = 'sent'")
    # Only documents waiting for the counterparty are reminded.
    assert {row["url"].rsplit("/", 1)[1] for row in planned} <= {r[0] for r in waiting}
    assert planned and all(row["rule"] == "waiting/remind" for row in planned)
    rows = mine.json()["tables"][3]["rows"]
    assert rows == [row for row in planned if row["manager"] == manager]
    assert sql(tmp_path / "store.sqlite3", "SELECT COUNT(*) FROM firings") == [(0,)]


def test_a_broken_playbook_is_shown_not_a_server_error(tmp_path: Path) -> None:
    config = _config(tmp_path)
    (tmp_path / "playbooks" / "waiting.yaml").write_text("version: 1\nrules: [}", encoding="utf-8")
    with _client(config) as client:
        page = client.get("/document/doc-001")
        failed = agenda_ready(client.get, "/agenda")
        agenda = client.get("/agenda")
    assert page.status_code == 200 and "Правила не загрузились" in page.text
    assert failed["agenda"]["state"] == "failed" and "waiting.yaml" in failed["agenda"]["error"]
    assert agenda.status_code == 200 and "правила не загрузились" in agenda.text
    assert "waiting.yaml" in agenda.text and "edo-rules validate" in agenda.text
    assert 'http-equiv="refresh"' not in agenda.text  # a failure does not reload itself
