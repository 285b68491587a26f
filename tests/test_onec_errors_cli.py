"""Item 8 of the 1C sync, through the real CLI: errors a person can read.

``edo-rules sync`` against the emulated 1C over HTTP: a failing set is named with
its request decoded (Cyrillic, not percent-encoding) and cut to a readable length;
the same failure is reported once with its count; a ``bp30-legacy`` preset against
a base with the new library says to use ``bp30``. Russian by default, English
with ``--lang en``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from _onec_helpers import LOGIN, PASSWORD, make_base, serving

from edo_rules.cli import main
from edo_rules.emulators.onec import OUTGOING, Fault


def _config(tmp_path: Path, url: str, extra: str = "") -> Path:
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    path = tmp_path / "edo-rules.yaml"
    path.write_text(
        f"version: 1\nstore: {{path: edo.db}}\nonec:\n  url: {url}\n  base: buh\n"
        f"  user: {LOGIN}\n  password: ${{ONEC_PASSWORD}}\n  backoff: 0.01\n  retries: 2\n"
        f"{extra}",
        encoding="utf-8",
    )
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEC_PASSWORD", PASSWORD)


def test_a_failing_set_is_named_with_its_request_decoded_and_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(make_base(20)) as emulator:
        emulator.inject(Fault("status500", entity_set=OUTGOING, times=1000))
        config = _config(tmp_path, emulator.url)
        code, out, err = _run(["sync", "--config", str(config)], capsys)
        code_en, _, err_en = _run(["sync", "--config", str(config), "--lang", "en"], capsys)
    assert code == 1 and code_en == 1 and "синхронизация с 1С" not in out
    error = next(line for line in err.splitlines() if line.startswith("edo-rules: ошибка:"))
    assert f"1С ответила HTTP 500 на запрос к {OUTGOING}" in error, err
    request = error.split("(запрос: ", 1)[1].rsplit(")", 1)[0]
    # Decoded: Cyrillic names and spaces as a person reads them, no percent-encoding.
    assert "%D0" not in request and "%20" not in request
    assert f"/buh/odata/standard.odata/{OUTGOING}?$format=json&$select=Ref_Key,DataVersion" in (
        request
    )
    assert "Date asc,Ref_Key asc" in request
    # Cut in the middle to a readable length: the start and the paging options stay.
    assert len(request) <= 400 and "…" in request and request.endswith("allowedOnly=true")
    assert "Что сделать:" in err
    english = next(line for line in err_en.splitlines() if line.startswith("edo-rules: error:"))
    assert f"1C answered HTTP 500 for {OUTGOING}" in english and "%D0" not in english
    assert "What to do:" in err_en


def test_the_same_failure_is_reported_once_with_its_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="edo_rules")
    with serving(make_base(30)) as emulator:
        # Two answers of the same failure, on two different requests: the first page and
        # its retry (the client halves the page and asks again).
        emulator.inject(Fault("status503", entity_set=OUTGOING, times=2))
        config = _config(tmp_path, emulator.url)
        code, out, err = _run(["sync", "--config", str(config)], capsys)
    assert code == 0, err
    assert "синхронизация с 1С (полная): документов 30" in out
    failed = [line for line in out.splitlines() if "503" in line]
    assert len(failed) == 1, out
    assert failed[0].startswith("ошибка 1С ×2 (запрос повторён): 1С ответила HTTP 503 ")
    assert OUTGOING in failed[0]
    # The log names it once too, not once per retry: one line, its request decoded.
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    retries = [line for line in warned if "503" in line]
    assert len(retries) == 1, warned
    assert "\n" not in retries[0] and "Что сделать" not in retries[0]
    assert f"request: http://127.0.0.1:{emulator.url.rsplit(':', 1)[1]}/buh/" in retries[0]
    assert "%D0" not in retries[0] and "Ref_Key,DataVersion" in retries[0]


def test_the_legacy_preset_against_the_new_library_says_use_bp30(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(make_base(10)) as emulator:
        config = _config(tmp_path, emulator.url, "  preset: bp30-legacy\n")
        code, out, err = _run(["sync", "--config", str(config)], capsys)
        code_en, _, err_en = _run(["sync", "--config", str(config), "--lang", "en"], capsys)
    assert code == 1 and code_en == 1 and out == ""
    assert err.startswith("edo-rules: ошибка: ")
    assert "InformationRegister_СостоянияЭД" in err
    assert "Что сделать: укажите набор bp30 (onec.preset в конфиге)" in err
    assert "What to do: use preset bp30 (onec.preset in the config)" in err_en
    # Nothing was written: the next sync with the right preset starts from scratch.
    assert not (tmp_path / "edo.db").exists() or "onec.watermark" not in (
        (tmp_path / "edo.db").read_bytes().decode("latin-1")
    )


def test_the_new_preset_against_a_legacy_base_says_use_bp30_legacy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(make_base(10, generation="legacy")) as emulator:
        config = _config(tmp_path, emulator.url)
        code, _, err = _run(["sync", "--config", str(config)], capsys)
    assert code == 1
    assert "Что сделать: укажите набор bp30-legacy (onec.preset в конфиге)" in err
