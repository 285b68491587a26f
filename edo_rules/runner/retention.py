"""``edo-rules store prune``: how far back the store must keep documents, and the prune itself.

The horizon is the configured retention (``store.retention``, or
``--older-than``), refused when shorter than what a rule or the sync may still
need: the longest ladder of the playbooks (its last step plus its repeats,
working days counted double for the holidays) and the 1C healing window, each
plus a week of margin. What is pruned, and why nothing is ever done twice
because of it, is :mod:`edo_rules.store._prune`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from edo_rules._messages import Text, msg
from edo_rules.config import MIN_RETENTION, Config
from edo_rules.errors import ConfigError, Problem
from edo_rules.playbook.rules import Duration, Playbook, TimeTrigger
from edo_rules.store._prune import PruneReport

MARGIN = timedelta(days=7)

_CALENDAR = {
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    # Two calendar days a working day covers any run of Russian holidays.
    "working_days": timedelta(days=2),
}


def span(duration: Duration) -> timedelta:
    """An upper bound of ``duration`` in calendar time."""
    return duration.amount * _CALENDAR[duration.unit]


def longest_ladder(playbooks: Iterable[Playbook]) -> timedelta:
    """How long after its ``since`` moment a time rule may still fire (the longest of all)."""
    longest = timedelta(0)
    for playbook in playbooks:
        for rule in playbook.rules:
            if not isinstance(rule.trigger, TimeTrigger):
                continue
            for step in rule.trigger.steps:
                end = span(step.after)
                if step.repeat is not None:
                    end += step.repeat.times * span(step.repeat.every)
                longest = max(longest, end)
    return longest


def minimum_retention(config: Config, playbooks: Iterable[Playbook]) -> tuple[timedelta, Text]:
    """The shortest safe retention and what sets it."""
    found = [
        (MIN_RETENTION, msg("retention_least")),
        (longest_ladder(playbooks) + MARGIN, msg("retention_ladder")),
    ]
    if config.onec is not None:
        heal = config.onec.heal_window + config.onec.overlap + MARGIN
        found.append((heal, msg("retention_heal")))
    return max(found, key=lambda item: item[0])


def prune_store(
    config: Config,
    *,
    now: datetime,
    older_than: timedelta | None = None,
    dry_run: bool = False,
) -> tuple[PruneReport, datetime]:
    """Prune the configured store; returns the report and the horizon used."""
    from edo_rules.playbook.loader import load_playbooks
    from edo_rules.runner.wiring import open_store

    retention = older_than if older_than is not None else config.store.retention
    least, why = minimum_retention(config, load_playbooks(config.playbooks))
    if retention < least:
        raise ConfigError(
            [
                Problem(
                    str(config.file),
                    1,
                    1,
                    "store.retention",
                    msg("retention_too_short", days=retention.days, why=why, least=least.days),
                )
            ]
        )
    before = now - retention
    store = open_store(config)
    try:
        report = store.prune(before, now, dry_run=dry_run)
    finally:
        store.close()
    return report, before
