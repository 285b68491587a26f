"""The two emulators the demo runs against, and a watch over the portal's inspection API."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time

from edo_rules.emulators.bitrix24 import Bitrix24Emulator, PlanLimits, Portal
from edo_rules.emulators.onec import OneCBase, OneCEmulator

ONEC_LOGIN = "edo-rules"


@dataclass(frozen=True, slots=True)
class World:
    """The running emulators and the credentials the demo's config uses."""

    onec: OneCEmulator
    bitrix24: Bitrix24Emulator
    onec_password: str
    webhook_url: str

    @property
    def base(self) -> OneCBase:
        return self.onec.base

    @property
    def portal(self) -> Portal:
        return self.bitrix24.portal

    @classmethod
    @contextmanager
    def started(
        cls,
        seed: int,
        first_day: date,
        *,
        plan: str | PlanLimits = "enterprise",
        now: datetime | None = None,
    ) -> Iterator[World]:
        """Both emulators on free 127.0.0.1 ports; stopped on exit.

        1C's clock starts at 08:00 of ``first_day``, or at ``now`` (naive 1C
        server time) when a test runs the runner on the wall clock.
        """
        base = OneCBase(seed=seed, now=now or datetime.combine(first_day, time(8, 0)))
        password = secrets.token_urlsafe(12)
        base.add_login(ONEC_LOGIN, password)
        onec = OneCEmulator(base).start()
        try:
            bitrix24 = Bitrix24Emulator(plan=plan, seed=None).start()
            try:
                webhook = bitrix24.add_webhook(user_id=1)
                yield cls(onec, bitrix24, password, webhook)
            finally:
                bitrix24.stop()
        finally:
            onec.stop()


class PortalWatch:
    """Remembers the portal's counts and deal stages to report what a day changed."""

    def __init__(self, portal: Portal) -> None:
        self._portal = portal
        self._counts = Counter(portal.counts())
        self._stages = _stages(portal)

    def changes(self) -> tuple[Counter[str], list[str]]:
        """(count differences by kind, one line per deal that changed stage)."""
        counts = Counter(self._portal.counts())
        counts.subtract(self._counts)
        moved = []
        for deal_id, (title, stage) in _stages(self._portal).items():
            before = self._stages.get(deal_id)
            if before is not None and before[1] != stage:
                moved.append(f"→ сделка «{title}»: {before[1]} → {stage}")
        return counts, moved


def _stages(portal: Portal) -> dict[int, tuple[str, str]]:
    with portal.lock:
        return {
            deal_id: (str(deal["TITLE"]), str(deal["STAGE_ID"]))
            for deal_id, deal in portal.t.deals.items()
        }
