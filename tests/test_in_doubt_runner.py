"""In doubt, as ops see it: the runner heals a timed-out task; `outbox retry` checks first."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent

import pytest
from _runner_helpers import onec_now, write_config

from edo_rules.cli import main
from edo_rules.config import load_config
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24 import Fault
from edo_rules.model import RequestState
from edo_rules.runner.app import wall_clock
from edo_rules.runner.loop import Runner
from edo_rules.runner.schedule import IntervalSchedule
from edo_rules.runner.wiring import Service, open_service

TASK = dedent(
    """
    version: 1
    name: tasks
    rules:
      - id: waiting
        match: {status: sent}
        when: {after: 0 минут, since: sent_at}
        do:
          - task: {responsible: responsible, title: "Задача по {{ doc.id }}"}
    """
).lstrip()


class _Setup:
    def __init__(self, world: World, company: Company, service: Service, config: Path) -> None:
        self.world, self.company, self.service, self.config = world, company, service, config
        self.runner = Runner(service.pipeline, IntervalSchedule(1), clock=wall_clock)

    def in_doubt(self) -> int:
        """One task whose add took effect unanswered and whose look-up timed out too.

        The document is sent after the runner started: a firing due before that is
        looked up before it is created (what a rebuilt store must do), and this test
        is about a send that times out.
        """
        _send_after_start(self.world, self.company)
        self.world.bitrix24.inject(Fault("timeout", method="tasks.task.add", ran=True, delay=1.5))
        self.world.bitrix24.inject(Fault("timeout", method="tasks.task.list", delay=1.5), times=3)
        self.runner.tick()
        (request,) = self.service.store.requests([RequestState.IN_DOUBT])
        assert len(self.world.portal.tasks()) == 1
        return request.id or 0

    def state(self, request_id: int) -> RequestState:
        request = self.service.store.get_request(request_id)
        assert request is not None
        return request.state


def _send_after_start(world: World, company: Company) -> None:
    now = onec_now()  # whole seconds: the runner may have started later within this second
    world.base.now = now
    customer = company.customers[0]
    key = world.base.create_document(
        counterparty=customer.counterparty_key,
        responsible=company.managers[customer.manager],
        organization=company.organization_key,
        kind="act",
        amount=10_000.0,
        contract=customer.contract_key,
        at=now - timedelta(minutes=10),
    )
    sent = now + timedelta(seconds=2)  # signed a minute before, as the emulator's send does
    world.base.send(key, at=sent - timedelta(minutes=1))
    world.base.now = sent
    time.sleep(2.2)  # until the task is due


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Setup]:
    with World.started(seed=6, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(7), customers=3)
        path, env = write_config(tmp_path, world, company, TASK, onec_timeout=0.5)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        service = open_service(load_config(path), clock=wall_clock)
        try:
            yield _Setup(world, company, service, path)
        finally:
            service.close()


def test_later_ticks_heal_a_timed_out_task_with_no_duplicate(setup: _Setup) -> None:
    request_id = setup.in_doubt()
    deadline = time.monotonic() + 20
    while setup.state(request_id) is RequestState.IN_DOUBT and time.monotonic() < deadline:
        time.sleep(0.3)  # the dispatch back-off (0.2 s, doubling) between re-checks
        setup.runner.tick()
    assert setup.state(request_id) is RequestState.DONE
    assert len(setup.world.portal.tasks()) == 1


def test_outbox_retry_checks_in_bitrix24_first(
    setup: _Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    request_id = setup.in_doubt()
    capsys.readouterr()
    assert main(["outbox", "retry", "--in-doubt", "--config", str(setup.config)]) == 0
    assert "уже есть в Битрикс24: отмечено выполненным, повторно не отправляется" in (
        capsys.readouterr().out
    )
    assert setup.state(request_id) is RequestState.DONE
    setup.runner.tick()
    assert len(setup.world.portal.tasks()) == 1
