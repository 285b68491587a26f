"""A starter that works: `emulate all` (wired emulators, a ready config) and `init`."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from edo_rules.cli import _emulate_all, main
from edo_rules.cli._emulate_all import MARK
from edo_rules.demo._playbooks import bundled_playbooks
from edo_rules.emulators.bitrix24._portal import DEMO_LIST_FIELDS
from edo_rules.store.sqlite import SQLiteStore


@pytest.fixture
def emulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    stop = threading.Event()
    args = argparse.Namespace(
        documents=120, seed=4, write=tmp_path / "edo-rules.yaml", onec_port=0, bitrix24_port=0
    )
    thread = threading.Thread(target=_emulate_all.run, args=(args, stop), daemon=True)
    thread.start()
    for _ in range(300):
        if (tmp_path / "playbooks").is_dir():
            break
        time.sleep(0.1)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    stop.set()
    thread.join(10)


def test_emulate_all_wires_the_two_systems_and_writes_a_ready_config(
    emulated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (emulated / "edo-rules.yaml").read_text(encoding="utf-8")
    assert config.startswith(MARK) and "webhook_url: http://127.0.0.1:" in config
    assert main(["validate", "--config", "edo-rules.yaml"]) == 0
    assert main(["sync"]) == 0
    capsys.readouterr()
    assert main(["tick", "--json"]) == 0  # every action done: recipients and companies found
    report = json.loads(capsys.readouterr().out)
    assert report["fired"] > 50 and set(report["actions"]) == {"done"}
    with SQLiteStore(emulated / "edo-rules.db") as store:
        assert store.count_documents() == 120
    # Every document's mirror record names the company (found by ИНН) and its deal.
    mirrored = _list_elements(yaml.safe_load(config)["bitrix24"]["webhook_url"])
    assert len(mirrored) == 120
    company, deal = DEMO_LIST_FIELDS["company"], DEMO_LIST_FIELDS["deal"]
    assert all(e[company] and e[deal] for e in mirrored)
    # setup makes the card's field; the seeded list has every field the config maps onto
    assert main(["bitrix24", "setup"]) == 0
    setup = capsys.readouterr().out
    assert setup.count("уже есть: поле списка 42 ") == len(DEMO_LIST_FIELDS), setup
    assert main(["bitrix24", "setup", "--lang", "en"]) == 0
    setup = capsys.readouterr().out
    assert setup.count("present: list 42 field ") == len(DEMO_LIST_FIELDS), setup
    assert "note: the register is a universal list" in setup and "уже есть" not in setup
    assert main(["validate", "--config", "edo-rules.yaml", "--online"]) == 0
    assert capsys.readouterr().out.endswith("OK: в портале есть всё, что нужно конфигу\n")
    assert main(["outbox", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def _list_elements(webhook: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    while True:
        answer = httpx.post(
            webhook + "lists.element.get",
            json={"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 42, "start": len(found)},
        ).json()
        found += answer["result"]
        if "next" not in answer:
            return found


def test_emulate_all_never_replaces_a_config_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "edo-rules.yaml"
    mine.write_text("version: 1\n", encoding="utf-8")
    assert main(["emulate", "all", "--write", str(mine)]) == 1
    assert "уже существует" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "version: 1\n"


def test_init_writes_files_that_validate_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "starter"
    assert main(["init", "--dir", str(folder)]) == 0
    assert "edo-rules validate --config" in capsys.readouterr().out
    config = (folder / "edo-rules.yaml").read_text(encoding="utf-8")
    assert "# " in config and "timeout:" in config  # commented, bitrix24.timeout shown
    assert (folder / "secrets.env").stat().st_mode & 0o777 == 0o600
    bundled = sorted(p.name for p in bundled_playbooks().glob("*.yaml"))
    assert "signing-control.yaml" in bundled
    assert sorted(p.name for p in (folder / "playbooks").glob("*.yaml")) == bundled
    assert main(["validate", "--config", str(folder / "edo-rules.yaml")]) == 0
    assert "OK:" in capsys.readouterr().out
    assert main(["init", "--dir", str(folder)]) == 1  # nothing is overwritten
    assert "уже существует" in capsys.readouterr().err
    assert main(["init", "--dir", str(folder), "--force"]) == 0


def test_validate_without_arguments_checks_the_config_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["validate"])  # no config here: a usage error
    assert info.value.code == 2
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["validate"]) == 0
    assert "OK: edo-rules.yaml и файлов сценариев" in capsys.readouterr().out
