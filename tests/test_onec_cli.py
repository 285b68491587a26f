"""``edo-rules sync --config``: the password from the environment, a summary, never the secret."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from _onec_helpers import LOGIN, PASSWORD, make_base, serving

from edo_rules.cli import main
from edo_rules.store.sqlite import SQLiteStore


def _config(tmp_path: Path, url: str) -> Path:
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    path = tmp_path / "edo-rules.yaml"
    path.write_text(
        dedent(
            f"""
            version: 1
            store: {{path: edo.db}}
            onec:
              url: {url}
              base: buh
              user: {LOGIN}
              password: ${{ONEC_PASSWORD}}
              page_size: 25
              states: {{ОжидаетсяПодтверждение: sent}}
            """
        ).lstrip(),
        encoding="utf-8",
    )
    return path


def test_sync_command_loads_then_updates_and_prints_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEC_PASSWORD", PASSWORD)
    base = make_base(50)
    with serving(base) as emulator:
        config = _config(tmp_path, emulator.url)
        assert main(["sync", "--config", str(config), "--progress"]) == 0
        first = capsys.readouterr()
        base.advance(hours=1)
        base.set_state(
            base.sets["InformationRegister_СостоянияДокументовЭДО"].rows[0]["ЭлектронныйДокумент"],
            "НовоеСостояние",
        )
        assert main(["sync", "--config", str(config), "--no-progress"]) == 0
        second = capsys.readouterr()
    assert "синхронизация с 1С (полная): документов 50" in first.out
    assert "1С: [" in first.err and "50/50 документов" in first.err
    assert "синхронизация с 1С (изменения): документов 1, новых событий 1" in second.out
    assert "НовоеСостояние ×1" in second.out and "onec.states" in second.out
    # No progress bar; the one warning is a log line (level, then the 1C state it names).
    (warning,) = second.err.splitlines()
    assert " WARNING 1C state 'НовоеСостояние' is not in preset" in warning
    for text in (first.out, first.err, second.out, second.err):
        assert PASSWORD not in text
    store = SQLiteStore(tmp_path / "edo.db")
    assert store.count_documents() == 50
    store.close()


def test_sync_command_reports_a_wrong_password_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEC_PASSWORD", "секретный-неверный")
    with serving(make_base(5)) as emulator:
        code = main(["sync", "--config", str(_config(tmp_path, emulator.url))])
    captured = capsys.readouterr()
    assert code == 1
    assert "401" in captured.err and "password" in captured.err
    assert "секретный-неверный" not in captured.err + captured.out


def test_sync_command_without_the_password_variable_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ONEC_PASSWORD", raising=False)
    code = main(["sync", "--config", str(_config(tmp_path, "http://127.0.0.1:9"))])
    assert code == 1 and "ONEC_PASSWORD" in capsys.readouterr().err
