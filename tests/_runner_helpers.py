"""Shared by the runner's end-to-end tests: a seeded company on both emulators, a config."""

from __future__ import annotations

import ctypes
import os
import platform
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest
import yaml

from edo_rules.demo._company import MIRROR_LIST, Company
from edo_rules.demo._world import ONEC_LOGIN, World
from edo_rules.emulators.bitrix24._portal import DEMO_LIST_FIELDS

#: One time rule doing every kind of Bitrix24 action for each document waiting for a signature.
EVERY_ACTION = dedent(
    """
    version: 1
    name: every-action
    rules:
      - id: all-kinds
        match: {status: sent}
        when: {after: 0 минут, since: sent_at}
        do:
          - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
          - task: {responsible: responsible, title: "Задача по {{ doc.title }} / {{ doc.id }}"}
          - comment: {text: "Комментарий по {{ doc.title }} / {{ doc.id }}"}
          - todo: {title: "Дело по {{ doc.id }}", deadline: 1 рабочий день}
          - workflow: {template_id: 7, parameters: {document: "{{ doc.id }}"}}
          - invoice: {title: "Счёт по {{ doc.id }}"}
          - mirror: {target: list}
          - deal_stage: {stage: "C1:PREPAYMENT_INVOICE"}
    """
).lstrip()

KINDS_PER_DOCUMENT = 8


def send_documents(world: World, company: Company, rng: random.Random, count: int) -> list[str]:
    """Create ``count`` outgoing documents in 1C and send them, a few minutes ago (wall clock)."""
    now = onec_now()
    world.base.now = now
    keys = []
    for _ in range(count):
        customer = rng.choice(company.customers)
        key = world.base.create_document(
            counterparty=customer.counterparty_key,
            responsible=company.managers[customer.manager],
            organization=company.organization_key,
            kind=rng.choice(("act", "upd", "contract")),
            amount=round(rng.uniform(10_000, 500_000), -2),
            contract=customer.contract_key,
            at=now - timedelta(minutes=10),
        )
        world.base.send(key, at=now - timedelta(minutes=5))
        keys.append(key)
    return keys


def write_config(
    folder: Path,
    world: World,
    company: Company,
    playbook: str,
    *,
    interval: float = 0.2,
    plan: object = "enterprise",
    batch_size: int = 200,
    onec_timeout: float = 2.0,
    flood_guard: dict[str, int] | None = None,
) -> tuple[Path, dict[str, str]]:
    """Write the playbook and ``edo-rules.yaml`` into ``folder``; returns (config, env)."""
    (folder / "playbooks").mkdir(exist_ok=True)
    (folder / "playbooks" / "test.yaml").write_text(playbook, encoding="utf-8")
    data = {
        "store": {"path": "edo-rules.db"},
        "playbooks": "playbooks",
        "schedule": {"interval": interval},
        "onec": {
            "url": world.onec.url,
            "base": world.onec.publication,
            "user": ONEC_LOGIN,
            "password": "${EDO_TEST_1C_PASSWORD}",
            "retries": 2,
            "backoff": 0.05,
            "timeout": onec_timeout,
            "first_timeout": onec_timeout,
        },
        "bitrix24": {
            "webhook_url": "${EDO_TEST_WEBHOOK}",
            "plan": plan,
            "users": dict(company.user_ids),
            "deal": {"strategy": "latest_open"},
            "mirror": {
                "target": "list",
                "iblock_id": MIRROR_LIST,
                "fields": {"status": DEMO_LIST_FIELDS["status"]},
            },
            "timeout": 1,
            **({"flood_guard": flood_guard} if flood_guard else {}),
        },
        "dispatch": {
            "batch_size": batch_size,
            "backoff": 0.2,
            "max_backoff": 1.0,
            "max_attempts": 1000,
        },
    }
    path = folder / "edo-rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {"EDO_TEST_1C_PASSWORD": world.onec_password, "EDO_TEST_WEBHOOK": world.webhook_url}
    return path, env


def onec_now() -> datetime:
    """The wall clock as a 1C server in Moscow shows it (naive), for runs on real time."""
    return datetime.now(ZoneInfo("Europe/Moscow")).replace(tzinfo=None, microsecond=0)


def stop_runner(process: subprocess.Popen[str], lines: list[str], timeout: float = 60) -> None:
    """SIGTERM a `run` process and wait; one that does not stop fails with its threads' stacks.

    The runner writes every thread's stack to stderr on SIGUSR1 (faulthandler), so a
    runner stuck in shutdown says where instead of only timing out.
    """
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(2)  # the stacks reach the test's stderr reader
        process.kill()
        process.wait()
        stuck = "".join(lines[-150:])
        raise AssertionError(f"the runner did not stop within {timeout:g} s:\n{stuck}") from None
    assert code == 0, "".join(lines[-40:])


def tgkill(pid: int, tid: int, signum: int) -> None:
    """A signal to one thread of another process (Linux's tgkill; ``kill`` lets the kernel
    pick the thread, usually the main one)."""
    number = {"x86_64": 234, "aarch64": 131}.get(platform.machine())
    if number is None or not sys.platform.startswith("linux"):
        pytest.skip(f"no tgkill syscall known on {sys.platform} {platform.machine()}")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(number, pid, tid, signum) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {tid}, {signum})")


def other_threads(pid: int) -> list[int]:
    """The ids of a process's threads besides its main one (Linux's /proc)."""
    if not sys.platform.startswith("linux"):
        pytest.skip(f"no /proc/PID/task on {sys.platform}")
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid)
