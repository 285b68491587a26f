"""A failing machine: a full disk, read-only side files, a store deleted under the runner.

The store lives on a small tmpfs where the machine allows mounting one (root);
those tests are skipped elsewhere. The runner and the CLI run as separate
processes against the 1C and Bitrix24 emulators served by this process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from _onec_helpers import clock_of, make_base, serving, settings_for
from _runner_helpers import onec_now, send_documents, write_config
from store_contract import make_document

from edo_rules._messages import in_language
from edo_rules.demo._company import seed_company
from edo_rules.demo._world import World
from edo_rules.errors import StoreError
from edo_rules.model import RequestState
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.runner.loop import Pipeline, Runner
from edo_rules.runner.schedule import IntervalSchedule
from edo_rules.sources.onec import run_sync
from edo_rules.store.sqlite import WAL_TRUNCATE_BYTES, SQLiteStore

_CLI = "import sys; from edo_rules.cli import main; sys.exit(main())"

NOTIFY_AND_TASK = """
version: 1
name: waiting
rules:
  - id: waiting
    match: {status: sent}
    when: {after: 0 минут, since: sent_at}
    do:
      - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
      - task: {responsible: responsible, title: "Задача по {{ doc.title }} / {{ doc.id }}"}
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0777", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): the full-disk tests are skipped")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CLI, *args, "--lang", "en"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to ``leave`` bytes free; returns the filler file."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with open(filler, "ab") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def _counts(world: World) -> Counter[str]:
    """Every notification sent (replaced ones too) by TAG and every task by XML_ID."""
    portal = world.portal
    with portal.lock:
        tags = [f"notify {n['tag']}" for n in portal.t.notifications]
    return Counter(tags + [f"task {t.get('xmlId') or t.get('XML_ID')}" for t in portal.tasks()])


@pytest.mark.slow
def test_a_full_disk_is_named_nothing_half_done_and_healed(small_disk: Path) -> None:
    rng = random.Random(20)
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, rng, customers=8)
        config, env = write_config(small_disk, world, company, NOTIFY_AND_TASK)
        send_documents(world, company, rng, 150)
        first = _cli("sync", "--config", str(config), env=env)
        assert first.returncode == 0, first.stderr
        store_path = small_disk / "edo-rules.db"
        # A second connection keeps the WAL file as a running runner's would.
        with SQLiteStore(store_path) as watcher:
            wal_before = watcher.wal_bytes()
            filler = _fill(small_disk, leave=150_000)
            send_documents(world, company, rng, 600)
            synced = _cli("sync", "--config", str(config), env=env)
            assert synced.returncode == 1, synced.stdout + synced.stderr
            assert "disk is full" in synced.stderr or "database or disk is full" in synced.stderr
            assert "free" in synced.stderr and "Traceback" not in synced.stderr
            # Nothing committed half: each page is a whole transaction, so every document
            # stored has its history; the WAL's rolled-back frames are given back.
            stored = list(watcher.iter_documents())
            assert all(watcher.history(doc.id) for doc in stored)
            assert watcher.wal_bytes() <= max(wal_before, WAL_TRUNCATE_BYTES)
        ticked = _cli("tick", "--config", str(config), env=env)
        assert ticked.returncode == 1, ticked.stdout + ticked.stderr
        assert "Traceback" not in ticked.stderr
        # The lock file deleted, the disk full to the last byte: a clear error, no traceback.
        (small_disk / "edo-rules.db.lock").unlink()
        _fill(small_disk, leave=0)
        locked = _cli("tick", "--config", str(config), env=env)
        assert locked.returncode == 1
        assert "cannot write the lock file" in locked.stderr and "disk is full" in locked.stderr
        assert "Traceback" not in locked.stderr
        filler.unlink()
        healed = [_cli("tick", "--config", str(config), env=env) for _ in range(3)]
        # 0, or 3 while the portal asks to retry; notifications out of hours wait for a digest.
        assert {h.returncode for h in healed} <= {0, 3}, healed[-1].stdout + healed[-1].stderr
        assert "waiting" in healed[-1].stdout or "nothing to send" in healed[-1].stdout
        counts = _counts(world)
    with SQLiteStore(store_path) as store:
        assert store.count_documents() == 750
        done = store.requests([RequestState.DONE])
        waiting = store.requests([RequestState.PENDING])
    assert [key for key, n in counts.items() if n > 1] == []
    assert len(done) == sum(counts.values())
    assert len(done) + len(waiting) == 2 * 750


def test_a_read_only_shm_left_by_chmod_is_named(tmp_path: Path) -> None:
    """SQLite gives -wal and -shm the database's mode: a chmod 444 undone leaves them read-only.

    Root writes read-only files anyway, so as root the scenario runs in a forked
    child that has given up root (user nobody).
    """
    folder = Path("/tmp") / f"edo-ro-{os.getpid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    try:
        first, second = _as_unprivileged(lambda: _read_only_scenario(folder / "edo.db"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert "edo.db is read-only (mode 0444" in first
    assert "edo.db-shm is read-only (mode 0444" in second
    assert "edo.db is read-only" not in second


def _read_only_scenario(path: Path) -> list[str]:
    with in_language("en"):
        return _read_only_steps(path)


def _read_only_steps(path: Path) -> list[str]:
    SQLiteStore(path).close()
    path.chmod(0o444)
    said = []
    for fix in (False, True):
        if fix:
            path.chmod(0o644)  # the admin fixes the database; -shm stays read-only
        try:
            with SQLiteStore(path) as store:
                store.upsert_documents([make_document()])
            said.append("written")
        except StoreError as exc:
            said.append(str(exc))
    return said


def _as_unprivileged(run: Callable[[], list[str]]) -> list[str]:
    """``run()`` in this process, or as root in a forked child switched to user nobody."""
    if os.geteuid() != 0:
        return run()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(reader)
            os.setgid(65534)
            os.setuid(65534)
            with os.fdopen(writer, "w", encoding="utf-8") as out:
                json.dump(run(), out)
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, encoding="utf-8") as answer:
        text = answer.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, text
    return list(json.loads(text))


def test_the_runner_stops_loudly_when_its_store_is_deleted(tmp_path: Path) -> None:
    _deleted_under_the_runner(tmp_path, "edo-rules.db", "was deleted")


def test_the_runner_stops_loudly_when_its_lock_file_is_replaced(tmp_path: Path) -> None:
    _deleted_under_the_runner(tmp_path, "edo-rules.db.lock", "was replaced")


def _deleted_under_the_runner(tmp_path: Path, name: str, said: str) -> None:
    rng = random.Random(7)
    with World.started(seed=4, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, rng, customers=6)
        config, env = write_config(tmp_path, world, company, NOTIFY_AND_TASK, interval=0.3)
        send_documents(world, company, rng, 20)
        port = _free_port()
        command = [sys.executable, "-c", _CLI, "run", "--config", str(config)]
        runner = subprocess.Popen(
            [*command, "--listen", f"127.0.0.1:{port}"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(runner.stderr or []), daemon=True).start()
        try:
            _wait(lambda: sum(_counts(world).values()) == 40, 60)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            before = _counts(world)
            target = tmp_path / name
            if name.endswith(".lock"):
                target.rename(tmp_path / "old.lock")
                target.write_text("", encoding="utf-8")
            else:
                target.unlink()
            send_documents(world, company, rng, 5)  # would fire in a ghost store
            status = runner.wait(timeout=30)
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
        time.sleep(0.2)
        after = _counts(world)
    log = "".join(lines)
    assert status == 1, log[-2000:]
    assert said in log and "CRITICAL" in log and "the runner stops" in log
    assert after == before  # nothing more was sent, nothing twice
    assert [key for key, n in after.items() if n > 1] == []


def _wait(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_health_is_not_ok_once_the_store_is_gone(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "edo.db")
    pipeline = Pipeline(
        store=store,
        dispatcher=Dispatcher(store, {}, clock=lambda: datetime.now(UTC)),
        evaluate=lambda now: 0,
        guard=store.check_files,
    )
    runner = Runner(pipeline, IntervalSchedule(60), clock=lambda: datetime.now(UTC))
    assert runner.tick().ok and runner.health()[0]
    (tmp_path / "edo.db").unlink()
    report = runner.tick()
    healthy, info = runner.health()
    store.close()
    with in_language("en"):
        said = str(report.fatal)
    assert report.errors == ["store files"] and "was deleted" in said
    assert not healthy and info["status"] == "failed" and runner.stopping
    with in_language("en"), pytest.raises(StoreError, match="replaced"):
        replaced = SQLiteStore(tmp_path / "other.db")
        (tmp_path / "edo2.db").write_bytes(b"")
        os.replace(tmp_path / "edo2.db", tmp_path / "other.db")
        replaced.check_files()


def test_the_wal_is_truncated_after_a_large_sync(tmp_path: Path) -> None:
    """A sync's WAL (up to 32 MB between checkpoints) is given back, not kept at its peak."""
    base = make_base(6000)
    with serving(base) as emulator, SQLiteStore(tmp_path / "edo.db") as store:
        peak = 0

        def watch(done: int, total: int) -> None:
            nonlocal peak
            peak = max(peak, store.wal_bytes())

        settings = settings_for(emulator, page_size=1000)
        run_sync(settings, store, clock=clock_of(base), progress=watch)
        after = store.wal_bytes()
    assert peak > WAL_TRUNCATE_BYTES  # the sync did grow it
    assert after == 0


def test_a_store_folder_that_cannot_be_created_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edo_rules.cli import main

    (tmp_path / "a-file").write_text("", encoding="utf-8")
    (tmp_path / "playbooks").mkdir()
    config = tmp_path / "edo-rules.yaml"
    config.write_text(
        "version: 1\nstore: {path: a-file/inside/edo.db}\nplaybooks: playbooks\n", encoding="utf-8"
    )
    assert main(["tick", "--config", str(config), "--lang", "en"]) == 1  # the lock file first
    assert "cannot create the lock file" in capsys.readouterr().err
    assert main(["store", "prune", "--config", str(config), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "cannot create the store's folder" in err and "a-file/inside" in err
