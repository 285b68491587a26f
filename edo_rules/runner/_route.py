"""On-demand refreshes among runners sharing a store: they go to the sync lease's holder.

One runner syncs from 1C at a time (:mod:`._cluster`); a refresh (``POST
/sync?document=…``, the card's hook, ``edo-rules sync --document``) is a sync
of a few documents, so it is that runner's work too:

* a runner that holds the sync lease — or takes it now, being free — serves the
  refresh itself, in its next tick (the direct path, as with SQLite);
* any other runner (or a CLI process) writes the request to the store's
  ``sync_requests`` and announces it (``NOTIFY``); the holder, woken by that
  announcement, takes it at its next loop turn, refreshes, and writes the
  tick's summary as the answer, which the asker waits for up to its timeout;
* when the holder dies with a request taken, the request's own lease runs
  out and the next holder takes it again (a refresh is safe to repeat).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edo_rules.errors import StoreError
from edo_rules.runner._cluster import Membership
from edo_rules.runner.refresh import RefreshRequest

_log = logging.getLogger("edo_rules.runner")

#: How often an asker looks for its answer (the holder's tick takes longer anyway).
_POLL = 0.1
#: How long the listener waits for an announcement before checking whether to stop.
_LISTEN = 1.0


class RefreshRoute:
    """Routes refreshes to the sync lease's holder; ``start(wake)`` when serving them."""

    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        self.store = membership.store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the asking side -----------------------------------------------------------
    def serves_here(self) -> bool:
        """True when this runner holds the sync lease (taking it when free)."""
        try:
            return self.membership.may_sync()
        except StoreError as exc:
            _log.warning("cannot tell who holds the sync lease: %s", exc)
            return False

    def ask(self, request: RefreshRequest, wait: bool, timeout: float) -> Mapping[str, Any] | None:
        """Ask the holder; with ``wait``, its tick's summary (None: no answer within timeout)."""
        asked = self.submit(request)
        return self.answer_to(asked, timeout) if wait else None

    def submit(self, request: RefreshRequest) -> int:
        """Write the request for the holder and announce it; returns its number."""
        asked = self.store.ask_refresh(_encode(request))
        _log.info(
            "refresh asked of the sync lease's holder (request %d)",
            asked,
            extra={"runner": self.membership.runner_id},
        )
        return asked

    def answer_to(
        self, asked: int, timeout: float, *, unless: Callable[[], bool] = lambda: False
    ) -> Mapping[str, Any] | None:
        """The answer to request ``asked``; None after ``timeout`` s or once ``unless()``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not unless():
            answer = self.store.refresh_answer(asked)
            if answer is not None:
                result: Mapping[str, Any] = json.loads(answer)
                return result
            time.sleep(_POLL)
        return None

    # -- the serving side ----------------------------------------------------------
    def take(self) -> list[tuple[int, RefreshRequest]]:
        """The requests to serve in this tick (none unless this runner holds the lease)."""
        if not self.membership.holds_sync_lease:
            return []
        try:
            taken = self.store.take_refreshes(self.membership.lease)
        except StoreError as exc:
            _log.warning("cannot read the refresh requests: %s", exc)
            return []
        return [(number, _decode(text)) for number, text in taken]

    def answer(self, request_ids: Sequence[int], summary: Mapping[str, Any]) -> None:
        try:
            self.store.answer_refreshes(request_ids, json.dumps(summary, default=str))
        except StoreError as exc:  # the askers time out; the refresh itself was done
            _log.warning("cannot answer the refresh requests: %s", exc)

    def start(self, wake: Callable[[], object]) -> RefreshRoute:
        """Listen for requests; ``wake`` the loop when one comes and this runner serves."""
        self._thread = threading.Thread(
            target=self._listen, args=(wake,), name="edo-rules-refresh-route", daemon=True
        )
        self._thread.start()
        return self

    def _listen(self, wake: Callable[[], object]) -> None:
        held = False
        while not self._stop.is_set():
            try:
                asked = self.store.wait_refresh_asked(_LISTEN)
            except StoreError as exc:
                _log.warning("cannot listen for refresh requests: %s", exc)
                self._stop.wait(_LISTEN)
                continue
            holds = self.membership.holds_sync_lease
            # A runner that has just taken the lease serves what waited for the last
            # holder (one that died, say); announcements lost while reconnecting are
            # not lost work either: the holder takes every open request at each tick.
            if holds and (asked or not held):
                wake()
            held = holds

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_LISTEN + 1)


def _encode(request: RefreshRequest) -> str:
    return json.dumps(
        {"documents": list(request.documents), "inn": request.inn, "deal": request.deal}
    )


def _decode(text: str) -> RefreshRequest:
    data = json.loads(text)
    return RefreshRequest(
        documents=tuple(data.get("documents") or ()),
        inn=data.get("inn"),
        deal=data.get("deal"),
    )
