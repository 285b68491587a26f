"""Counterparty statistics: kept up to date from the documents written, read per tick.

Before an evaluation that needs them, the documents written since the
statistics' cursor (the store's write sequence) are turned into samples —
signed with the working days it took, or rejected — in chunks, so even the
first evaluation over a large store runs in bounded memory. A tick then reads
one small histogram per counterparty it meets (memoised), never the
counterparty's documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from edo_rules.engine._due import WorkingCalendar
from edo_rules.model import Counterparty, CounterpartyStats, Direction
from edo_rules.playbook.rules import Rule, StatusTrigger
from edo_rules.store.base import CounterpartySample, SigningFacts, Store

#: Statistics count the decisions of the last 12 months (this month and the 11 before).
WINDOW_MONTHS = 12
#: The zone whose calendar months and dates the statistics are counted in.
STATS_ZONE = ZoneInfo("Europe/Moscow")
_CHUNK = 5_000
_USES_STATS = re.compile(r"(?<![\w.])counterparty\s*\.\s*stats\b")


def uses_stats(rules: Iterable[Rule]) -> bool:
    """Whether any rule's ``where`` or templates read ``counterparty.stats``."""
    return any(_USES_STATS.search(source) for rule in rules for source in _sources(rule))


def _sources(rule: Rule) -> Iterator[str]:
    if rule.match.where is not None:
        yield rule.match.where.source
    trigger = rule.trigger
    specs = (
        trigger.actions
        if isinstance(trigger, StatusTrigger)
        else [spec for step in trigger.steps for spec in step.actions]
    )
    for spec in specs:
        yield from _templates(spec.params)


def _templates(value: object) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _templates(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _templates(item)
    else:
        source = getattr(value, "source", None)
        if isinstance(source, str):
            yield source


def refresh(store: Store, calendar: WorkingCalendar, *, chunk: int = _CHUNK) -> int:
    """Bring the statistics up to the store's current write sequence; returns documents read."""
    target = store.document_seq()
    done = store.stats_seq()
    if done >= target:  # the usual tick: nothing written since, nothing to do
        return 0
    # Document ids are never empty: (done + 1, "") comes before every later write.
    after: tuple[int, str] = (done + 1, "")
    read = 0
    while True:
        facts = store.signing_facts(after, target, chunk)
        read += len(facts)
        if len(facts) < chunk:  # the last chunk: the statistics are up to ``target``
            store.apply_counterparty_samples([sample(f, calendar) for f in facts], target)
            return read
        after = (facts[-1].seq, facts[-1].document_id)
        # Re-reading a half-done sequence number after a crash only rewrites the same samples.
        store.apply_counterparty_samples([sample(f, calendar) for f in facts], after[0] - 1)


def sample(facts: SigningFacts, calendar: WorkingCalendar) -> CounterpartySample:
    """What one document says about its counterparty (nothing unless outgoing and decided)."""
    if facts.inn is None or facts.direction != Direction.OUTGOING.value:
        return CounterpartySample(facts.document_id)
    if facts.signed_at is not None and facts.sent_at is not None:
        signed = _local(facts.signed_at)
        days = max(calendar.working_days_between(_local(facts.sent_at), signed), 0)
        return CounterpartySample(facts.document_id, facts.inn, f"{signed:%Y-%m}", "signed", days)
    if facts.rejected_at is not None:
        month = f"{_local(facts.rejected_at):%Y-%m}"
        return CounterpartySample(facts.document_id, facts.inn, month, "rejected", 0)
    return CounterpartySample(facts.document_id)


def _local(moment: datetime) -> date:
    return moment.astimezone(STATS_ZONE).date()


def first_month(now: datetime) -> str:
    """The first month of the window ending with ``now``'s month."""
    local = now.astimezone(STATS_ZONE)
    index = local.year * 12 + local.month - 1 - (WINDOW_MONTHS - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def stats_from(inn: str, rows: Iterable[tuple[str, int, int]]) -> CounterpartyStats:
    """Counts, median and 90th percentile (nearest rank) from histogram rows."""
    signed = sorted((days, count) for outcome, days, count in rows if outcome == "signed")
    total = sum(count for _, count in signed)
    rejections = sum(count for outcome, _, count in rows if outcome == "rejected")
    if total == 0:
        return CounterpartyStats(inn, 0, None, None, rejections)
    low, high = _ranked(signed, (total + 1) // 2), _ranked(signed, total // 2 + 1)
    p90 = _ranked(signed, -(-9 * total // 10))  # ceil(0.9 n), the nearest rank
    return CounterpartyStats(inn, total, (low + high) / 2, p90, rejections)


def _ranked(buckets: list[tuple[int, int]], rank: int) -> int:
    seen = 0
    for days, count in buckets:
        seen += count
        if seen >= rank:
            return days
    return buckets[-1][0]


@dataclass
class StatsReader:
    """``counterparty.stats`` for the documents of one tick: one histogram per counterparty."""

    store: Store
    now: datetime
    _since: str = ""
    _known: dict[str, CounterpartyStats] = field(default_factory=dict)

    def get(self, counterparty: Counterparty) -> CounterpartyStats:
        inn = counterparty.inn
        if inn is None:
            return CounterpartyStats(None)
        found = self._known.get(inn)
        if found is None:
            self._since = self._since or first_month(self.now)
            rows = self.store.counterparty_histogram(inn, self._since)
            found = self._known[inn] = stats_from(inn, rows)
        return found
