"""Soak: a real ``edo-rules run`` for a long time against busy emulators; growth is a failure.

The 1C and Bitrix24 emulators run in this process; the runner is a separate
``edo-rules run`` process on a SQLite store, ticking every few seconds. A
driver thread moves documents through their states at ``--rate`` changes an
hour (send, sign or reject, send again; a signed document is replaced by a
new one). After a warm-up (2.5 minutes, past the 2-minute 1C overlap window whose
state rows every poll re-reads) the script samples the runner's memory (RSS), its
open descriptors, the store's and the WAL's size and the tick time; at the end
it stops the driver, lets the runner drain, samples again and checks:

* unbounded growth: RSS more than ``--rss-growth`` (30 %) above the warm-up
  figure (and by more than 16 MB, the noise of a short run), more than
  ``--fd-growth`` descriptors more, a WAL above ``--wal-limit-mb`` at any
  sample, the median tick more than 3x slower (and above 1 s);
* anything done twice at the emulator (a task's XML_ID, a notification's TAG,
  a timeline comment's text), anything lost (each action the outbox says is
  done exists at the emulator; nothing is left pending), a failed tick stage,
  and the runner exiting on its own.

It exits 1 when any check fails.

    nice -n 5 .venv/bin/python benchmarks/soak.py [--minutes 20] [--documents 2000]
        [--rate 5000] [--interval 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # this folder's calendar.py must not shadow the standard library's

import yaml

from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import ONEC_LOGIN, World
from edo_rules.model import RequestState
from edo_rules.store.sqlite import SQLiteStore

PLAYBOOK = """
version: 1
name: soak
rules:
  - id: waiting
    match: {direction: outgoing, status: sent}
    when: {after: 0 минут, since: sent_at}
    do:
      - task: {responsible: responsible, title: "Подпись {{ doc.id }} {{ doc.sent_at }}"}
      - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
  - id: rejected
    match: {direction: outgoing}
    when: {status_changed: {to: rejected}}
    do:
      - comment: {text: "Отклонён {{ doc.id }} {{ doc.rejected_at }}"}
"""

_TICK = re.compile(r"tick: .*\((\d+\.\d+) s\)")
_MB = 1024 * 1024


@dataclass
class Sample:
    rss_mb: float
    fds: int
    store_mb: float
    wal_mb: float
    tick_s: float
    documents: int


class Runner:
    """The ``edo-rules run`` process; its tick times and failed stages read from its log."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        main = "import sys; from edo_rules.cli import main; sys.exit(main())"
        command = [sys.executable, "-c", main, "run", "--config", str(config)]
        self.process = subprocess.Popen(
            [*command, "--log-format", "json"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ticks: list[float] = []
        self.failed: Counter[str] = Counter()
        self.errors: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                record = json.loads(line)
            except ValueError:
                self.errors.append(line.rstrip())
                continue
            message = str(record.get("message", ""))
            found = _TICK.search(message)
            if found:
                self.ticks.append(float(found.group(1)))
                if "; failed: " in message:
                    self.failed.update(message.rsplit("; failed: ", 1)[1].split(", "))
            elif record.get("level") in ("ERROR", "CRITICAL"):
                self.errors.append(message)

    def tick_time(self, last: int = 10) -> float:
        recent = self.ticks[-last:]
        return statistics.median(recent) if recent else 0.0

    def wait_ticks(self, count: int, timeout: float) -> None:
        target = len(self.ticks) + count
        deadline = time.monotonic() + timeout
        while len(self.ticks) < target and time.monotonic() < deadline:
            if self.process.poll() is not None:
                return
            time.sleep(0.1)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


class Driver(threading.Thread):
    """Moves documents through their states on 1C's clock, at ``rate`` changes an hour."""

    def __init__(self, world: World, company: Company, docs: list[str], rate: float, seed: int):
        super().__init__(daemon=True)
        self.world, self.company, self.docs = world, company, docs
        self.pause = 3600.0 / rate
        self.rng = random.Random(seed)
        self.changes = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.pause):
            self.world.base.now = onec_now()
            self.step()
            self.changes += 1

    def step(self) -> None:
        base = self.world.base
        index = self.rng.randrange(len(self.docs))
        key = self.docs[index]
        state = base.state(key)
        if state in ("ТребуетсяПодписание", "ТребуетсяУточнение"):
            base.send(key)
        elif state == "ОжидаетсяПодтверждение":
            if self.rng.random() < 0.7:
                base.sign(key)
            else:
                base.reject(key, f"исправьте сумму ({self.changes})")
        else:  # signed: the exchange is over, a new document takes its place
            self.docs[index] = new_document(self.world, self.company, self.rng)


def onec_now() -> datetime:
    """The wall clock as a 1C server in Moscow shows it (naive)."""
    return datetime.now(ZoneInfo("Europe/Moscow")).replace(tzinfo=None, microsecond=0)


def new_document(world: World, company: Company, rng: random.Random, at: Any = None) -> str:
    customer = rng.choice(company.customers)
    return world.base.create_document(
        counterparty=customer.counterparty_key,
        responsible=company.managers[customer.manager],
        organization=company.organization_key,
        kind=rng.choice(("act", "upd", "contract")),
        amount=round(rng.uniform(10_000, 500_000), -2),
        contract=customer.contract_key,
        at=at,
    )


def seed_documents(world: World, company: Company, count: int, rng: random.Random) -> list[str]:
    """``count`` documents of the last weeks: a third new, a third sent, a third signed."""
    now = onec_now()
    docs = []
    for number in range(count):
        at = now - timedelta(days=rng.uniform(1, 30))
        key = new_document(world, company, rng, at)
        if number % 3:
            world.base.send(key, at=at + timedelta(hours=1))
        if number % 3 == 2:
            world.base.sign(key, at=at + timedelta(days=1))
        docs.append(key)
    return docs


def write_config(folder: Path, world: World, company: Company, interval: float) -> Path:
    (folder / "playbooks").mkdir()
    (folder / "playbooks" / "soak.yaml").write_text(PLAYBOOK.lstrip(), encoding="utf-8")
    data = {
        "store": {"path": "soak.db"},
        "playbooks": "playbooks",
        "schedule": {"interval": interval},
        "onec": {
            "url": world.onec.url,
            "base": world.onec.publication,
            "user": ONEC_LOGIN,
            "password": "${EDO_SOAK_1C_PASSWORD}",
            "timeout": 10,
            # Each poll re-reads the state rows changed within the overlap: the tick
            # grows until the window is full (10 minutes by default), then stays.
            # Two minutes fill within the warm-up, so what is measured is steady.
            "overlap": "2m",
        },
        "bitrix24": {
            "webhook_url": "${EDO_SOAK_WEBHOOK}",
            "plan": "enterprise",
            "users": dict(company.user_ids),
            "deal": {"strategy": "latest_open"},
        },
    }
    path = folder / "edo-rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def sample(runner: Runner, store: Path) -> Sample:
    pid = runner.process.pid
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    rss_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
    wal = store.with_name(store.name + "-wal")
    with SQLiteStore(store) as reader:
        documents = reader.count_documents()
    return Sample(
        rss_mb=rss_kb / 1024,
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        store_mb=store.stat().st_size / _MB,
        wal_mb=(wal.stat().st_size if wal.exists() else 0) / _MB,
        tick_s=runner.tick_time(),
        documents=documents,
    )


def duplicates(world: World) -> dict[str, int]:
    """Effects found more than once at the emulator, by kind (each must be 0)."""
    portal = world.portal
    with portal.lock:
        tags = Counter(str(n["tag"]) for n in portal.t.notifications)
    tasks = Counter(str(t.get("xmlId") or t.get("XML_ID")) for t in portal.tasks())
    comments = Counter(str(c["COMMENT"]) for c in portal.comments())
    return {
        "task XML_ID": sum(n - 1 for n in tasks.values() if n > 1),
        "notification TAG": sum(n - 1 for n in tags.values() if n > 1),
        "comment text": sum(n - 1 for n in comments.values() if n > 1),
    }


def lost(world: World, store: Path) -> dict[str, int]:
    """Done requests without their effect at the emulator, and requests not done."""
    with SQLiteStore(store) as reader:
        done_state = RequestState.DONE
        done = Counter(r.action for r in reader.requests([done_state]))
        waiting = reader.requests(
            [
                RequestState.PENDING,
                RequestState.IN_FLIGHT,
                RequestState.FAILED,
                RequestState.IN_DOUBT,
            ]
        )
    now = datetime.now(UTC)
    # A notification held for the next digest (quiet hours, the flood guard) waits rightly.
    waiting = [
        r
        for r in waiting
        if r.state is not RequestState.PENDING or (r.next_attempt_at or r.created_at) <= now
    ]
    portal = world.portal
    with portal.lock:
        tags = {str(n["tag"]) for n in portal.t.notifications}
    found = {
        "task": len({t.get("xmlId") or t.get("XML_ID") for t in portal.tasks()}),
        "notify": len(tags),
        "comment": len({c["COMMENT"] for c in portal.comments()}),
    }
    missing = {action: max(0, n - found.get(action, n)) for action, n in done.items()}
    for request in waiting[:5]:
        print(f"not done: {request.action} {request.state.value}: {request.last_error}")
    return {**missing, "not done": len(waiting)}


def growth(start: Sample, end: Sample, wal_peak: float, args: argparse.Namespace) -> list[str]:
    """What grew beyond its bound (an empty list when nothing did)."""
    problems = []
    if end.rss_mb > start.rss_mb * (1 + args.rss_growth) and end.rss_mb - start.rss_mb > 16:
        problems.append(f"RSS {start.rss_mb:.1f} -> {end.rss_mb:.1f} MB")
    if end.fds - start.fds > args.fd_growth:
        problems.append(f"descriptors {start.fds} -> {end.fds}")
    if wal_peak > args.wal_limit_mb:
        problems.append(f"WAL peaked at {wal_peak:.1f} MB (limit {args.wal_limit_mb} MB)")
    if end.tick_s > max(3 * start.tick_s, 1.0):
        problems.append(f"median tick {start.tick_s:.3f} -> {end.tick_s:.3f} s")
    return problems


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="how long (default 20)")
    parser.add_argument("--documents", type=int, default=2000, help="documents at the start")
    parser.add_argument("--rate", type=float, default=5000.0, help="state changes an hour")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between ticks")
    parser.add_argument("--rss-growth", type=float, default=0.30, help="allowed RSS growth")
    parser.add_argument("--fd-growth", type=int, default=8, help="allowed descriptor growth")
    parser.add_argument("--wal-limit-mb", type=float, default=16.0, help="largest WAL allowed")
    parser.add_argument("--seed", type=int, default=20261204)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    duration = args.minutes * 60
    warmup = min(150.0, duration / 4)  # past the 2-minute overlap window
    with (
        tempfile.TemporaryDirectory(prefix="edo-soak-") as folder,
        World.started(seed=args.seed % 1000, first_day=date.today(), now=onec_now()) as world,
    ):
        company = seed_company(world.portal, world.base, rng, customers=20)
        docs = seed_documents(world, company, args.documents, rng)
        config = write_config(Path(folder), world, company, args.interval)
        store = Path(folder) / "soak.db"
        env = {"EDO_SOAK_1C_PASSWORD": world.onec_password, "EDO_SOAK_WEBHOOK": world.webhook_url}
        runner = Runner(config, env)
        runner.wait_ticks(1, timeout=300)
        if runner.process.poll() is not None:
            print("\n".join(runner.errors[-20:]), file=sys.stderr)
            print(f"FAILED: the runner exited at once (status {runner.stop()})", file=sys.stderr)
            return 1
        driver = Driver(world, company, docs, args.rate, args.seed)
        driver.start()
        started = time.monotonic()
        time.sleep(warmup)
        first = sample(runner, store)
        wal_peak = first.wal_mb
        while time.monotonic() - started < duration and runner.process.poll() is None:
            time.sleep(min(10.0, max(0.1, duration - (time.monotonic() - started))))
            if runner.process.poll() is None:
                wal_peak = max(wal_peak, sample(runner, store).wal_mb)
        driver.done.set()
        driver.join()
        runner.wait_ticks(3, timeout=120)  # the last changes synced, fired and sent
        alive = runner.process.poll() is None
        last = sample(runner, store) if alive else first
        wal_peak = max(wal_peak, last.wal_mb)
        result = Result(first, last, wal_peak, driver.changes, alive)
        result.doubled, result.missing = duplicates(world), lost(world, store)
        result.code = runner.stop()
    return report(args, runner, result)


@dataclass
class Result:
    first: Sample
    last: Sample
    wal_peak: float
    changes: int
    alive: bool
    doubled: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    code: int = 0


def report(args: argparse.Namespace, runner: Runner, result: Result) -> int:
    first, last, wal_peak = result.first, result.last, result.wal_peak
    changes, doubled, missing = result.changes, result.doubled, result.missing
    print(f"soak: {args.minutes:g} min, {changes} state changes ({args.rate:g}/h asked),")
    print(f"      {len(runner.ticks)} ticks every {args.interval:g} s")
    print(f"{'':16}{'after warm-up':>14}{'end':>12}{'ratio':>8}")
    rows = (
        ("RSS MB", first.rss_mb, last.rss_mb),
        ("descriptors", first.fds, last.fds),
        ("store MB", first.store_mb, last.store_mb),
        ("WAL MB", first.wal_mb, last.wal_mb),
        ("tick s (median)", first.tick_s, last.tick_s),
        ("documents", first.documents, last.documents),
    )
    for name, before, after in rows:
        ratio = f"{after / before:.2f}" if before else "-"
        print(f"{name:16}{before:>14.3f}{after:>12.3f}{ratio:>8}")
    print(f"WAL peak MB: {wal_peak:.3f}")
    problems = growth(first, last, wal_peak, args)
    if not result.alive:
        problems.append(f"the runner exited on its own (status {runner.process.returncode})")
    elif result.code != 0:
        problems.append(f"the runner's exit status was {result.code}")
    if runner.failed:
        problems.append(f"failed tick stages: {dict(runner.failed)}")
    print("done twice: " + ", ".join(f"{k} {v}" for k, v in doubled.items()))
    print("lost: " + ", ".join(f"{k} {v}" for k, v in sorted(missing.items())))
    problems += [f"{n} done twice ({k})" for k, n in doubled.items() if n]
    problems += [f"{n} lost ({k})" for k, n in missing.items() if n]
    for line in runner.errors[-5:]:
        print(f"runner error: {line}", file=sys.stderr)
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("soak checks passed: no unbounded growth, nothing done twice, nothing lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
