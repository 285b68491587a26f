"""Playbook hot reload: pick up edited playbooks between ticks, refuse broken ones.

The watcher fingerprints the playbook files (path, size, modification time).
When the fingerprint changes it loads the new version; a version with errors
is refused with every problem logged, and the running version stays. The same
broken version is reported once, not at every tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from edo_rules.errors import PlaybookError
from edo_rules.playbook import load_playbooks, playbook_files
from edo_rules.playbook.rules import Playbook

_log = logging.getLogger("edo_rules.reload")

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: Sequence[Path]) -> Fingerprint:
    """What identifies one version of the playbooks under ``paths``."""
    stamps: list[tuple[str, int, int]] = []
    for file in playbook_files(paths):
        try:
            stat = file.stat()
        except OSError:
            continue  # deleted between listing and stat: the next look sees it gone
        stamps.append((str(file), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


class PlaybookWatcher:
    """Holds the running playbooks and swaps in a new valid version when files change.

    ``on_change`` receives each accepted new version (the runner rebuilds its
    engine from it); ``on_refused`` is called with the problems of a refused one.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        on_change: Callable[[tuple[Playbook, ...]], None],
        on_refused: Callable[[PlaybookError], None] | None = None,
    ) -> None:
        self._paths = tuple(paths)
        self._on_change = on_change
        self._on_refused = on_refused
        self._seen = fingerprint(self._paths)
        self.playbooks: tuple[Playbook, ...] = load_playbooks(self._paths)

    def check(self) -> bool:
        """Reload if the files changed; True when a new version was accepted."""
        current = fingerprint(self._paths)
        if current == self._seen:
            return False
        self._seen = current
        try:
            playbooks = load_playbooks(self._paths)
        except PlaybookError as exc:
            _log.error(
                "the changed playbooks are refused; the previous version keeps running:\n%s", exc
            )
            if self._on_refused is not None:
                self._on_refused(exc)
            return False
        self.playbooks = playbooks
        rules = sum(len(p.rules) for p in playbooks)
        _log.info("playbooks reloaded: %d file(s), %d rule(s)", len(playbooks), rules)
        self._on_change(playbooks)
        return True
