"""A real ``edo-rules tick``: a hostile 1C or Bitrix24 stops its own stage, the others go on."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from _hostile import HostileServer
from _runner_helpers import onec_now, send_documents, write_config
from test_cli_tick_exit import NOTIFY

from edo_rules.cli import main
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24._faults import Fault


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, Company, Path]]:
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=4)
        config, variables = write_config(tmp_path, world, company, NOTIFY, interval=3600)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        yield world, company, config


def _edit(config: Path, section: str, **values: object) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data.setdefault(section, {}).update(values)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _tick(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    status = main(["tick", "--config", str(config), "--json", "--lang", "en"])
    out, err = capsys.readouterr()
    assert out.strip(), f"no report (exit {status}): {err}"
    return status, json.loads(out), err


def test_a_dripping_1c_fails_the_sync_and_pending_actions_still_go_out(
    setup: tuple[World, Company, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    world, company, config = setup
    assert main(["tick", "--config", str(config)]) == 0  # the initial sync
    send_documents(world, company, random.Random(1), 2)
    world.bitrix24.inject(Fault("500"), times=50)
    assert main(["tick", "--config", str(config)]) == 3  # two notifications wait for a retry
    world.bitrix24.faults.clear()
    capsys.readouterr()
    with HostileServer("drip", every=0.3) as onec:
        _edit(config, "onec", url=onec.url, request_deadline=1.5, retries=1, backoff=0.01)
        time.sleep(0.3)  # the failed sends' back-off (dispatch.backoff 0.2 s)
        start = time.monotonic()
        status, report, err = _tick(config, capsys)
        took = time.monotonic() - start
    assert report["errors"] == ["sync"], report
    assert report["actions"] == {"done": 2}  # dispatch ran after the failed sync
    assert status != 0 and took < 10  # two requests of 1.5 s
    assert "request deadline of 1.5 s (onec.request_deadline)" in err
    assert onec.url.removeprefix("http://") in err and "odata/standard.odata" in err
    assert world.onec_password not in err


def test_a_dripping_portal_is_cut_at_the_dispatch_stage_limit(
    setup: tuple[World, Company, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, company, config = setup
    assert main(["tick", "--config", str(config)]) == 0
    send_documents(world, company, random.Random(1), 2)
    capsys.readouterr()
    with HostileServer("stall", every=0.3) as portal:
        monkeypatch.setenv("EDO_TEST_WEBHOOK", f"{portal.url}/rest/1/s3cr3tw3bh00k/")
        _edit(config, "bitrix24", request_deadline=30)
        _edit(config, "schedule", stage_limits={"dispatch": 2})
        start = time.monotonic()
        status, report, err = _tick(config, capsys)
        took = time.monotonic() - start
    assert report["synced"] == 2 and report["fired"] == 2  # sync and evaluate ran
    assert "dispatch" in report["errors"] and "sync" not in report["errors"], report
    assert took < 10
    assert "the dispatch stage's limit of 2 s (schedule.stage_limits.dispatch)" in err
    assert "s3cr3tw3bh00k" not in err + json.dumps(report)
    assert status != 0


def test_an_evaluation_past_its_limit_records_nothing_and_the_next_tick_catches_up(
    setup: tuple[World, Company, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    world, company, config = setup
    assert main(["tick", "--config", str(config)]) == 0
    send_documents(world, company, random.Random(1), 2)
    capsys.readouterr()
    _edit(config, "schedule", stage_limits={"evaluate": 0.000001})
    status, report, err = _tick(config, capsys)
    assert report["errors"] == ["evaluate"] and report["synced"] == 2, report
    assert report["fired"] == 0 and report["actions"] == {} and status != 0
    assert "the evaluate stage's limit of 1e-06 s (schedule.stage_limits.evaluate)" in err
    _edit(config, "schedule", stage_limits={"evaluate": 60})
    status, report, _ = _tick(config, capsys)
    assert (status, report["fired"], report["actions"]) == (0, 2, {"done": 2})
