"""Files only their owner may read: the store (ИНН, names, comments) and its lock.

SQLite creates a database with mode 0644 (less the umask) and gives its WAL
and shared-memory files the database file's mode; creating the database file
first with 0600 makes all three private whatever the umask. The systemd unit
in docs/systemd.md also sets ``UMask=0077``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

PRIVATE = 0o600

__all__ = ["PRIVATE", "create_private", "open_private"]


def create_private(path: str | Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite takes an empty
    file for a new database). A folder that cannot be written is left for the caller's
    own open to report."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
    except OSError:
        return
    os.close(fd)


def open_private(path: str | Path) -> IO[str]:
    """``open(path, "a+")``, but a file it creates has mode 0600."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE)
    return os.fdopen(fd, "a+", encoding="utf-8")
