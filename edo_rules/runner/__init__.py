"""The runner: the service that ticks sync → evaluate → dispatch on a schedule.

* :mod:`.dispatch` — effectively-once dispatch from the outbox (:class:`Dispatcher`);
* :mod:`.loop` — one tick (:func:`run_tick`) and the timer loop (:class:`Runner`);
* :mod:`.schedule` — an interval or a cron expression;
* :mod:`.lock` — one runner per SQLite store;
* :mod:`.refresh` — refresh named documents now (the dashboard and the hook call it);
* :mod:`.wiring` / :mod:`.app` — building all of it from the config (the CLI's entry).

Only the modules that do not need the config are re-exported here, so that
:mod:`edo_rules.config` can use the schedule and the retry policy.
"""

from edo_rules.runner.dispatch import Dispatcher, DispatchReport, RetryPolicy
from edo_rules.runner.lock import LockHolder, StoreLock
from edo_rules.runner.loop import Pipeline, Runner, TickReport, run_tick
from edo_rules.runner.metrics import Metrics
from edo_rules.runner.schedule import CronSchedule, IntervalSchedule, Schedule, ScheduleError

__all__ = [
    "CronSchedule",
    "DispatchReport",
    "Dispatcher",
    "IntervalSchedule",
    "LockHolder",
    "Metrics",
    "Pipeline",
    "RetryPolicy",
    "Runner",
    "Schedule",
    "ScheduleError",
    "StoreLock",
    "TickReport",
    "run_tick",
]
