"""One runner per store: an advisory ``flock`` on ``<store>.lock``.

The lock file holds who took it (pid, host, start time) so that a second
runner can say exactly who is in the way. ``flock`` is released by the kernel
when the holder dies, even by SIGKILL, so a crash never leaves a stale lock;
the file itself stays and is simply re-locked.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from edo_rules._messages import Joined, Text, msg
from edo_rules._private import open_private
from edo_rules.errors import LockError
from edo_rules.store._sqlite_files import changed


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a store's lock, as written in the lock file."""

    pid: int | None
    host: str | None
    started_at: str | None
    command: str | None

    def __str__(self) -> str:
        return str(self.describe())

    def describe(self) -> Joined:
        """«pid 4242 on host (run) since …», in the language in force when shown."""
        parts: list[Text | str] = [
            msg("lock_pid", pid=self.pid) if self.pid is not None else msg("lock_unknown_process")
        ]
        if self.host:
            parts.append(msg("lock_host", host=self.host))
        if self.command:
            parts.append(f"({self.command})")
        if self.started_at:
            parts.append(msg("lock_since", since=self.started_at))
        return Joined(tuple(parts))


def lock_path_for(store_path: Path) -> Path:
    """The lock file that guards ``store_path``."""
    return store_path.with_name(store_path.name + ".lock")


class StoreLock:
    """An exclusive, non-blocking lock on a store; use as a context manager.

    Raises :class:`LockError` naming the holder when another process has it.
    """

    def __init__(self, store_path: Path, *, command: str = "run") -> None:
        self.path = lock_path_for(store_path)
        self._command = command
        self._file: IO[str] | None = None
        self._identity: tuple[int, int] = (0, 0)

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockError` saying who holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open_private(self.path)  # held while locked
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise LockError(msg("lock_no_file", path=str(self.path), reason=reason)) from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(handle)
            handle.close()
            raise LockError(_busy_message(self.path, holder)) from None
        try:
            _write_holder(handle, self._command)
        except OSError as exc:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()
            raise LockError(_write_failed(self.path, exc)) from exc
        info = os.fstat(handle.fileno())
        self._identity = (info.st_dev, info.st_ino)
        self._file = handle

    def check(self) -> None:
        """Raise LockError when the lock file was deleted or replaced since it was taken.

        A lock on a deleted file guards nothing: a second runner would create a
        new file, lock it and run beside this one.
        """
        if self._file is None:
            return
        what = changed(self.path, self._identity)
        if what is not None:
            raise LockError(_lost(self.path, what))

    def release(self) -> None:
        """Release the lock (the file stays; its content is cleared)."""
        if self._file is None:
            return
        try:
            self._file.truncate(0)
            self._file.flush()
        except OSError:
            pass  # the holder's details stay in the file; the lock itself goes with flock
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def read_holder(store_path: Path) -> LockHolder | None:
    """Who holds the lock of ``store_path`` right now, or ``None`` if nobody does."""
    path = lock_path_for(store_path)
    if not path.exists():
        return None
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(handle)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None


def _write_holder(handle: IO[str], command: str) -> None:
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
    }
    # Unbuffered: a write that fails (a full disk) leaves nothing for close() to flush again.
    os.ftruncate(handle.fileno(), 0)
    os.write(handle.fileno(), json.dumps(info).encode("utf-8"))


def _read_holder(handle: IO[str]) -> LockHolder:
    handle.seek(0)
    try:
        raw = json.loads(handle.read() or "{}")
    except ValueError:
        raw = {}
    if not isinstance(raw, dict):
        raw = {}
    pid = raw.get("pid")
    return LockHolder(
        pid=pid if isinstance(pid, int) else None,
        host=_str_or_none(raw.get("host")),
        started_at=_str_or_none(raw.get("started_at")),
        command=_str_or_none(raw.get("command")),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _busy_message(path: Path, holder: LockHolder) -> Text:
    return msg("lock_busy", holder=holder.describe(), path=str(path))


def _write_failed(path: Path, exc: OSError) -> Text:
    from edo_rules.store._sqlite_files import free_bytes, is_disk_full

    if is_disk_full(exc):
        free = free_bytes(path.parent)
        left: Text | str = "" if free is None else msg("lock_free", kb=free // 1024)
        return msg("lock_write_full", path=str(path), free=left)
    return msg("lock_write_failed", path=str(path), reason=exc.strerror or str(exc))


def _lost(path: Path, what: Text) -> Text:
    return msg("lock_lost", path=str(path), what=what)
