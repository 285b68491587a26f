"""The demo's script: emulators up, company seeded, history, then day after day."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from edo_rules.calendar import ProductionCalendar
from edo_rules.config import Config
from edo_rules.demo._card import print_card, run_setup
from edo_rules.demo._company import MIRROR_LIST, Company, seed_company
from edo_rules.demo._config import CARD_FIELD, DEMO_PLAN, write_config
from edo_rules.demo._life import Life
from edo_rules.demo._playbooks import bundled_playbooks
from edo_rules.demo._report import (
    DayLog,
    DemoResult,
    collect,
    plural,
    print_day,
    print_summary,
)
from edo_rules.demo._world import PortalWatch, World
from edo_rules.emulators.bitrix24 import PlanLimits
from edo_rules.errors import EdoRulesError
from edo_rules.runner.app import opened
from edo_rules.runner.loop import Runner, TickReport
from edo_rules.runner.schedule import IntervalSchedule
from edo_rules.runner.wiring import Service

ZONE = ZoneInfo("Europe/Moscow")
#: The first simulated day: a Monday before the May holidays, to show the calendar at work.
FIRST_DAY = date(2026, 4, 20)
_HISTORY_DAYS = 10
_TICKS = ((12, 0), (17, 30))
_EVENING = time_of_day(18, 0)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """``days`` working days from ``first_day``; ``speed`` in simulated days per second."""

    days: int = 22
    seed: int = 1
    speed: float = 0.0
    store: Path | None = None
    customers: int = 24
    documents_per_day: tuple[int, int] = (8, 12)
    first_day: date = FIRST_DAY
    serve: str | None = None  # HOST:PORT: keep the dashboard open there after the month


class _SimulatedClock:
    """The demo's injected time: moved by the script, read by every component."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def run_demo(
    options: DemoOptions, out: TextIO, *, inspect: Callable[[World], None] | None = None
) -> DemoResult:
    """Run the demo, print its timeline to ``out`` and return the final numbers.

    ``inspect`` is called with the running emulators at the end, before they
    stop (tests compare the summary with what the emulators hold).
    """
    started = time.monotonic()
    calendar = ProductionCalendar.russia()
    days = _working_days(calendar, options.first_day, options.days)
    history = _working_days_before(calendar, options.first_day, _HISTORY_DAYS)
    rng = random.Random(options.seed)
    with ExitStack() as stack:
        plan = PlanLimits(capacity=int(DEMO_PLAN["capacity"]), rate=DEMO_PLAN["rate"])
        world = stack.enter_context(World.started(options.seed, history[0], plan=plan))
        company = seed_company(world.portal, world.base, rng, options.customers)
        folder = stack.enter_context(_workdir(options.store))
        config = write_config(folder, world, company, bundled_playbooks(), options.store)
        clock = _SimulatedClock(_at(history[-1], 18, 30))
        service = stack.enter_context(opened(config, command="demo", clock=clock))
        _print_intro(out, world, config, service, company)
        run_setup(out, config)
        month = _Month(
            options, rng=rng, world=world, company=company, service=service, clock=clock, out=out
        )
        month.history(history)
        for number, (previous, day) in enumerate(
            zip([history[-1], *days], days, strict=False), start=1
        ):
            month.day(number, day, previous)
        result = collect(service.store, month.steps, len(days), time.monotonic() - started)
        print_summary(out, result, days[0], days[-1])
        print_card(out, world.portal, CARD_FIELD)
        if inspect is not None:
            inspect(world)
        if options.serve is not None:
            from edo_rules.demo._serve import serve_dashboard

            serve_dashboard(options.serve, config, month.runner, clock, out)
        return result


class _Month:
    """The simulated month: 1C's life, the runner's ticks and the timeline."""

    def __init__(
        self,
        options: DemoOptions,
        *,
        rng: random.Random,
        world: World,
        company: Company,
        service: Service,
        clock: _SimulatedClock,
        out: TextIO,
    ) -> None:
        self.options = options
        self.rng = rng
        self.world = world
        self.life = Life(world.base, company, rng)
        self.service = service
        self.clock = clock
        self.out = out
        self.runner = Runner(service.pipeline, IntervalSchedule(300), clock=clock)
        self.steps: dict[int, str] = {}  # firing id → step, for the summary

    def history(self, days: list[date]) -> None:
        """Two weeks of work before the first sync, then that sync (its events are history)."""
        for day in days:
            self.life.plan_day(day, self.rng.randint(*self.options.documents_per_day))
            self.life.run_until(datetime.combine(day, _EVENING))
        report = self._tick()
        mirrored = len(self.world.portal.list_elements(MIRROR_LIST))
        print(
            f"\nПервая синхронизация ({self.clock.now:%d.%m.%Y %H:%M}): "
            f"{plural(report.synced, 'документ', 'документа', 'документов')} за две недели. "
            "Их история — не повод для правил по событиям (сделки по старым подписаниям "
            f"не двигаются); в реестре CRM записей: {mirrored}; "
            f"ждут ответа контрагентов: {self.life.waiting}.",
            file=self.out,
        )
        for problem in _problems(report):
            print(f"    ! {problem}", file=self.out)

    def day(self, number: int, day: date, previous: date) -> None:
        """One working day: 1C happenings between the ticks, then the day's timeline."""
        paced = time.monotonic()
        log = DayLog(day=day, number=number, previous=previous)
        self.life.plan_day(day, self.rng.randint(*self.options.documents_per_day))
        watch = PortalWatch(self.world.portal)
        for hour, minute in _TICKS:
            moment = _at(day, hour, minute)
            happened = self.life.run_until(moment.replace(tzinfo=None))
            self.clock.now = moment
            report = self._tick()
            log.happenings.extend(happened)
            log.add_evaluation(self.service.last_evaluation, self.service.store)
            log.add_rejections(happened, self.service.store)
            log.problems.extend(_problems(report))
        log.portal, log.moved = watch.changes()
        print_day(self.out, log, self.life.waiting)
        _pace(paced, self.options.speed)

    def _tick(self) -> TickReport:
        report = self.runner.tick()
        result = self.service.last_evaluation
        for planned in result.fired if result is not None else ():
            if planned.firing.id is not None:
                self.steps[planned.firing.id] = planned.firing.step
        return report


def _problems(report: TickReport) -> list[str]:
    problems = [
        f"этап «{stage}» не удался (см. журнал); следующий тик повторит" for stage in report.errors
    ]
    failed = report.dispatch.outcomes.get("failed", 0)
    if failed:
        problems.append(f"действий с ошибкой: {failed} (edo-rules outbox покажет причины)")
    return problems


def _print_intro(
    out: TextIO, world: World, config: Config, service: Service, company: Company
) -> None:
    playbooks = service.watcher.playbooks
    rules = sum(len(p.rules) for p in playbooks)
    managers = len({c.manager for c in company.customers})
    lines = (
        "edo-rules demo: месяц подписания документов по ЭДО — 1С и Битрикс24 на 127.0.0.1",
        f"  1С (OData):  {world.onec.service_url}",
        f"  Битрикс24:   {world.bitrix24.url} (входящий вебхук, тариф Enterprise; "
        "лимит запросов ускорен вместе со временем)",
        f"  Хранилище:   {config.store.path}",
        f"  Правила:     {config.playbooks[0]} — "
        f"{plural(len(playbooks), 'файл', 'файла', 'файлов')}, "
        f"{plural(rules, 'правило', 'правила', 'правил')}",
        f"  Компания:    {plural(managers, 'менеджер', 'менеджера', 'менеджеров')} в двух "
        "отделах с руководителями, "
        f"{plural(len(company.customers), 'клиент', 'клиента', 'клиентов')} с ИНН и сделками",
    )
    for line in lines:
        print(line, file=out)


@contextmanager
def _workdir(store: Path | None) -> Iterator[Path]:
    if store is not None:
        if store.exists():
            # A store from an earlier demo belongs to emulators that no longer exist.
            raise EdoRulesError(
                f"{store} already exists; the demo starts from an empty store: "
                "remove the file or give another --store path"
            )
        store.parent.mkdir(parents=True, exist_ok=True)
        yield store.parent
        return
    folder = Path(tempfile.mkdtemp(prefix="edo-rules-demo-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pace(started: float, speed: float) -> None:
    if speed > 0:
        time.sleep(max(0.0, 1.0 / speed - (time.monotonic() - started)))


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def _working_days(calendar: ProductionCalendar, first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _working_days_before(calendar: ProductionCalendar, first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first - timedelta(days=1)
    while len(days) < count:
        if calendar.is_working_day(day):
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]
