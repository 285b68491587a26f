"""The files a SQLite store needs, looked at when SQLite fails, so that an error names the culprit.

SQLite's messages name only the database ("attempt to write a readonly
database", "database or disk is full") even when the cause is its ``-wal`` or
``-shm`` file — SQLite creates them with the database's mode, so a
``chmod 444`` undone later leaves a read-only ``-shm`` behind — the folder
they are created in, the runner's lock file, or a full disk.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from edo_rules._messages import Joined, Text, msg

#: The database and the files beside it: SQLite's write-ahead log and shared memory, our lock.
SUFFIXES = ("", "-wal", "-shm", ".lock")

#: Below this much free space, a failed write is blamed on the disk too.
LOW_SPACE = 1024 * 1024


def side_files(path: str | Path) -> list[Path]:
    """The database file and the files SQLite and the runner keep beside it."""
    db = Path(path)
    return [db.with_name(db.name + suffix) for suffix in SUFFIXES]


def problems(path: str | Path, *, disk_full: bool = False) -> list[Text]:
    """What is wrong with the store's files, one sentence each (empty when nothing is seen)."""
    if str(path) == ":memory:":
        return []
    found = [text for file in side_files(path) if (text := _file_problem(file))]
    folder = Path(path).parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        found.append(msg("store_folder_readonly", folder=str(folder)))
    free = free_bytes(folder)
    if free is not None and (disk_full or free < LOW_SPACE):
        found.append(msg("store_disk_free", folder=str(folder), size=_size(free)))
    return found


def with_problems(message: str, path: str | Path, *, disk_full: bool = False) -> Text | str:
    """SQLite's ``message`` followed by one line per problem found with the store's files."""
    found = problems(path, disk_full=disk_full)
    if not found:
        return message
    lines = Joined(tuple(msg("store_problem", text=text) for text in found), sep="")
    return msg("store_with_problems", message=message, problems=lines)


def _file_problem(file: Path) -> Text | None:
    try:
        info = file.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return msg("store_file_unreadable", file=str(file), reason=exc.strerror or str(exc))
    # Root may write a 0444 file, the service's own user may not: the mode is what to fix.
    if os.access(file, os.W_OK) and info.st_mode & 0o222:
        return None
    mode = f"{info.st_mode & 0o777:04o}"
    return msg("store_file_readonly", file=str(file), mode=mode, uid=info.st_uid)


def free_bytes(folder: Path) -> int | None:
    """Free space for unprivileged writes on the disk of ``folder`` (None if unknown)."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def is_disk_full(exc: BaseException) -> bool:
    """An OSError of a full disk (or quota), or SQLite's "database or disk is full"."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return "full" in str(exc).lower()


def _size(count: int) -> str:
    # Units every admin reads the same in both languages (as `df -h` prints them).
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f}M"
    return f"{count // 1024}K"


def identity(path: str | Path) -> tuple[int, int] | None:
    """The file's (device, inode), or None when it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def changed(path: str | Path, opened: tuple[int, int]) -> Text | None:
    """Why ``path`` is no longer the file opened as ``opened`` (deleted, unreadable,
    replaced), or None while it still is.

    A process that keeps an open descriptor writes on into a deleted or
    replaced file unnoticed: the store's and the lock's checks ask this.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return msg("file_deleted")
    except OSError as exc:
        return msg("file_unreadable", reason=exc.strerror or str(exc))
    if (info.st_dev, info.st_ino) != opened:
        return msg("file_replaced")
    return None
