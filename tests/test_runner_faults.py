"""Faults in 1C or Bitrix24 during a tick never stop the runner; the next ticks heal."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from textwrap import dedent

import pytest
from _runner_helpers import onec_now, send_documents, write_config

from edo_rules.config import load_config
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24 import Fault as Bitrix24Fault
from edo_rules.emulators.onec import Fault as OneCFault
from edo_rules.model import RequestState
from edo_rules.runner.app import wall_clock
from edo_rules.runner.loop import Runner, TickReport
from edo_rules.runner.schedule import IntervalSchedule
from edo_rules.runner.wiring import Service, open_service

CHECKABLE = dedent(
    """
    version: 1
    name: checkable
    rules:
      - id: waiting
        match: {status: sent}
        when: {after: 0 минут, since: sent_at}
        do:
          - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
          - task: {responsible: responsible, title: "Задача по {{ doc.id }}"}
          - comment: {text: "Комментарий по {{ doc.id }}"}
          - invoice: {title: "Счёт по {{ doc.id }}"}
          - mirror: {target: list}
    """
).lstrip()


class _Setup:
    def __init__(self, world: World, company: Company, service: Service) -> None:
        self.world = world
        self.company = company
        self.service = service
        self.runner = Runner(service.pipeline, IntervalSchedule(1), clock=wall_clock)
        self.rng = random.Random(3)

    def send(self, count: int) -> list[str]:
        return send_documents(self.world, self.company, self.rng, count)

    def drain(self, seconds: float = 20) -> TickReport:
        """Tick until the outbox is empty (retries wait for their back-off)."""
        deadline = time.monotonic() + seconds
        while True:
            report = self.runner.tick()
            waiting = self.service.store.requests([RequestState.PENDING, RequestState.IN_FLIGHT])
            if not waiting or time.monotonic() > deadline:
                return report
            time.sleep(0.2)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[_Setup]:
    with World.started(seed=2, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(4), customers=6)
        path, env = write_config(tmp_path, world, company, CHECKABLE, onec_timeout=0.5)
        service = open_service(load_config(path, env=env), clock=wall_clock)
        try:
            yield _Setup(world, company, service)
        finally:
            service.close()


@pytest.mark.parametrize(
    "kind", ["status500", "status503", "html", "malformed", "truncated", "hang"]
)
def test_a_1c_fault_fails_only_the_sync_and_the_next_tick_heals(setup: _Setup, kind: str) -> None:
    first = setup.send(3)
    assert setup.drain().ok
    later = setup.send(2)
    setup.world.onec.faults.hang_seconds = 1.0
    setup.world.onec.inject(OneCFault(kind, times=1000))  # every data request of this tick
    faulty = setup.runner.tick()
    assert faulty.errors == ["sync"]  # evaluate and dispatch still ran
    assert setup.service.store.count_documents() == len(first)
    setup.world.onec.faults.clear()
    healed = setup.drain()
    assert healed.ok
    assert setup.service.store.count_documents() == len(first) + len(later)
    counts = setup.world.portal.counts()
    assert counts["tasks"] == counts["comments"] == counts["items"] == len(first) + len(later)


def test_a_control_character_in_1c_data_is_tolerated(setup: _Setup) -> None:
    documents = setup.send(3)
    setup.world.onec.inject(OneCFault("control_char", times=1000))
    assert setup.drain().ok  # 1C really sends these; the source reads them leniently
    assert setup.service.store.count_documents() == len(documents)


@pytest.mark.parametrize("kind", ["500", "500_nocode", "html", "timeout", "rate_limit"])
def test_bitrix24_faults_never_stop_the_runner_nor_duplicate(setup: _Setup, kind: str) -> None:
    documents = setup.send(4)
    setup.world.bitrix24.inject(Bitrix24Fault(kind, delay=1.5, ran=kind != "rate_limit"), times=2)
    setup.runner.tick()  # whatever the faults do, the tick returns
    setup.drain()
    portal = setup.world.portal
    states = {r.state for r in setup.service.store.requests(list(RequestState))}
    assert states == {RequestState.DONE}
    assert len(portal.tasks()) == len({t["xmlId"] for t in portal.tasks()}) == len(documents)
    assert len(portal.comments()) == len(documents)
    assert len(portal.items(31)) == len(documents)
    assert len(portal.notifications()) == len(documents)
    assert len(portal.list_elements(42)) == len(documents)
