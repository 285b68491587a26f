"""``edo-rules sync`` logs as the runner does: level and format from the command line."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest
from _runner_helpers import onec_now, send_documents, write_config

from edo_rules.cli import main
from edo_rules.demo._company import seed_company
from edo_rules.demo._world import World

PLAYBOOK = """version: 1
name: quiet
rules: []
"""
ODD_STATE = "ОжидаетсяРешенияСуда"


def _sync_unknown_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *flags: str
) -> tuple[int, str]:
    """A sync of a base where one document is in a state no preset knows (1C warns)."""
    with World.started(seed=4, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(6), customers=3)
        path, variables = write_config(tmp_path, world, company, PLAYBOOK, interval=3600)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        doc = send_documents(world, company, random.Random(3), 2)[0]
        world.base.set_state(doc, ODD_STATE)
        return main(["sync", "--config", str(path), *flags]), doc


def test_sync_warnings_are_log_lines_in_the_chosen_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = _sync_unknown_state(tmp_path, monkeypatch, "--log-format", "json")
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    warnings = [record for record in records if record["level"] == "warning"]
    assert len(warnings) == 1, records
    assert ODD_STATE in warnings[0]["message"] and doc in warnings[0]["message"]


def test_sync_log_level_error_hides_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _sync_unknown_state(tmp_path, monkeypatch, "--log-level", "error")
    captured = capsys.readouterr()
    assert code == 0 and ODD_STATE not in captured.err
    assert ODD_STATE in captured.out  # the summary still names it
