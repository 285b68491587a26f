"""1,100 idle connections against ``edo-rules run --listen`` under ``ulimit -n 1024``:
the runner's ticks go on and ``/healthz`` answers."""

from __future__ import annotations

import os
import random
import resource
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from _runner_helpers import onec_now, write_config
from test_runner_service import NOTIFY

from edo_rules.demo._company import seed_company
from edo_rules.demo._world import World

_RUNNER = "import sys; from edo_rules.cli import main; sys.exit(main())"
CONNECTIONS = 1100


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _open_idle(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        conn = socket.socket()
        conn.setblocking(False)
        conn.connect_ex(("127.0.0.1", port))  # the handshake completes in the kernel
        sockets.append(conn)
    return sockets


def test_idle_connections_cannot_starve_the_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < CONNECTIONS + 200:
        pytest.skip(f"this test needs {CONNECTIONS + 200} descriptors; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, CONNECTIONS + 200), hard))
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=3)
        config, variables = write_config(tmp_path, world, company, NOTIFY, interval=0.5)
        port = _free_port()
        # systemd's default LimitNOFILE: 1024 descriptors (`ulimit -n 1024`, then the runner).
        command = 'ulimit -n 1024 && exec "$0" -c "$1" run --config "$2" --listen "$3"'
        process = subprocess.Popen(
            ["sh", "-c", command, sys.executable, _RUNNER, str(config), f"127.0.0.1:{port}"],
            env={**os.environ, **variables},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: list[str] = []
        ticks = threading.Semaphore(0)

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                if "tick:" in line:
                    ticks.release()

        threading.Thread(target=read, daemon=True).start()
        idle: list[socket.socket] = []
        try:
            assert ticks.acquire(timeout=60), "".join(lines)
            idle = _open_idle(port, CONNECTIONS)
            time.sleep(1.0)  # the server accepts them all (and closes the oldest)
            before = len(lines)
            reply = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            assert reply.status_code == 200 and reply.json()["status"] == "ok"
            for _ in range(3):  # ticks go on while the flood holds its sockets
                assert ticks.acquire(timeout=30), "".join(lines[before:])
            limits = Path(f"/proc/{process.pid}/limits").read_text()
            files = next(row for row in limits.splitlines() if row.startswith("Max open files"))
            assert files.split()[3:5] == ["1024", "1024"], files
            descriptors = len(os.listdir(f"/proc/{process.pid}/fd"))
            assert descriptors < 700, f"the runner holds {descriptors} descriptors"
            logged = "".join(lines)
            assert "Too many open files" not in logged and "Errno 24" not in logged
            assert "sync failed" not in logged and "Traceback" not in logged
        finally:
            for conn in idle:
                conn.close()
            process.terminate()
            process.wait(timeout=30)
