"""The agenda page's simulation, kept while nothing it reads has changed.

Simulating the coming days copies the store and runs the engine's ticks on the
copy: at a million documents that is seconds (benchmarks/README.md), where every
other page is an aggregate. Between two writes to the store the answer is the
same, so the last simulation is kept under a key that changes with any commit
to the store, the playbooks, the horizon and today's date; the filters are
applied to the kept plan (changing them never simulates again).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

from edo_rules.model import Document
from edo_rules.playbook.loader import playbook_files
from edo_rules.web._filters import Filters

#: One planned firing: its document (the filters test it) and the page's row.
Planned = list[tuple[Document, dict[str, Any]]]


def sqlite_version(path: Path) -> Callable[[], Hashable]:
    """A value that changes whenever another connection commits to the store file.

    ``PRAGMA data_version`` is per connection, so one read-only connection is kept
    for it (it never writes: its own changes, which the pragma would not count,
    cannot happen).
    """
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
        isolation_level=None,
    )  # fmt: skip
    lock = threading.Lock()

    def version() -> Hashable:
        with lock:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])

    return version


def playbooks_key(paths: Iterable[str | Path]) -> Hashable:
    """The playbook files' names and contents, in a few hashes: loading them (parsing and
    checking every rule) took 60-200 ms, the reads and hashes well under one."""
    return tuple(
        (str(file), hashlib.sha256(file.read_bytes()).hexdigest())
        for file in playbook_files(paths)
        if file.is_file()
    )


#: PostgreSQL: the current snapshot (xmin:xmax:running xids). Equal snapshots see
#: the same committed transactions, so an equal value means no commit in between;
#: any commit on the server changes it (conservative: other databases count too).
PG_VERSION = "SELECT CAST(pg_current_snapshot() AS text)"


class AgendaCache:
    """The last simulation and its key; one simulation at a time."""

    def __init__(self, version: Callable[[], Hashable]) -> None:
        self._version = version
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._planned: Planned = []

    def planned(self, key: Hashable, simulate: Callable[[], Planned]) -> Planned:
        """The kept plan if the store and ``key`` are unchanged, else ``simulate()``'s."""
        with self._lock:
            # Read before simulating: a commit during the simulation changes the next
            # key, so a plan that may predate it is never kept past it.
            full = (self._version(), key)
            if full != self._key:
                self._planned = simulate()
                self._key = full
            return self._planned

    def rows(
        self, key: Hashable, simulate: Callable[[], Planned], filters: Filters
    ) -> list[dict[str, Any]]:
        """The page's rows: the firings of :meth:`planned` whose document ``filters`` match."""
        planned = self.planned(key, simulate)
        # Unfiltered, every firing is shown: 100,000 of them at 1M documents.
        if not filters.active:
            return [row for _, row in planned]
        return [row for doc, row in planned if filters.matches(doc)]
