"""The runner's config file, ``edo-rules.yaml``, parsed once into frozen settings.

:func:`load_config` reads the file with line numbers, checks it against
``schemas/config.schema.json``, resolves ``${ENV_VAR}`` secrets (from the
environment or the ``secrets_file``), hands the ``onec`` and ``bitrix24``
sections to their own settings parsers, and raises one
:class:`~edo_rules.errors.ConfigError` listing every problem as
``file:line:col: path: message``. Relative paths are read from the config
file's folder. The resolved secrets never appear in a repr; ``Config.secrets``
is what the log filter masks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from edo_rules._config_build import build_config, located_problem, read_located
from edo_rules._config_schema import config_schema, schema_problems
from edo_rules._config_secrets import read_secrets_file, resolve
from edo_rules._messages import msg
from edo_rules.errors import ConfigError, Problem
from edo_rules.playbook._budget import DEFAULT_BUDGET, Budget
from edo_rules.runner.dispatch import RetryPolicy
from edo_rules.runner.schedule import CronSchedule, IntervalSchedule, Schedule

if TYPE_CHECKING:
    from edo_rules.actions.bitrix24.settings import Bitrix24Settings
    from edo_rules.sources.onec import OneCSettings

__all__ = [
    "Config",
    "DispatchConfig",
    "HttpConfig",
    "LoggingConfig",
    "ScheduleConfig",
    "StoreConfig",
    "config_schema",
    "load_config",
]

DEFAULT_INTERVAL = 300.0  # five minutes
DEFAULT_RETENTION = timedelta(days=365)
#: Shorter would prune documents a sync's healing window or a rule may still need.
MIN_RETENTION = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where documents, firings and the outbox live: a SQLite file (default) or a DSN."""

    path: Path | None = None
    dsn: str | None = field(default=None, repr=False)  # may carry a password
    #: Seconds a runner's claims and sync lease outlive its last heartbeat (PostgreSQL).
    lease: float = 30.0
    #: ``store prune`` removes closed documents whose last state is older than this.
    retention: timedelta = field(default_factory=lambda: DEFAULT_RETENTION)


#: A stage that passes its limit stops with a clear error; the tick's other stages go on.
#: Generous: the first sync of a large 1C base is long (pages are kept, the next tick goes on).
DEFAULT_STAGE_LIMITS: Mapping[str, float] = {"sync": 3600.0, "evaluate": 1800.0, "dispatch": 1800.0}


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """Tick every ``interval`` seconds, or on a ``cron`` expression (never both)."""

    interval: float | None = DEFAULT_INTERVAL
    cron: str | None = None
    #: The longest each tick stage may run, in seconds (``schedule.stage_limits``).
    stage_limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STAGE_LIMITS))

    def build(self, timezone: ZoneInfo) -> Schedule:
        if self.cron is not None:
            return CronSchedule.parse(self.cron, timezone)
        return IntervalSchedule(self.interval or DEFAULT_INTERVAL)


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """Outbox claim size and the retry policy."""

    batch_size: int = 1000
    max_attempts: int = 10
    backoff: float = 10.0
    max_backoff: float = 3600.0

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            base=self.backoff, max_delay=self.max_backoff, max_attempts=self.max_attempts
        )


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = "info"
    format: Literal["text", "json"] = "text"


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """The optional trigger/health/metrics endpoint."""

    listen: str | None = None
    token: str | None = field(default=None, repr=False)
    hook_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    """The web dashboard (``dashboard:``); ``None`` in :class:`Config` when absent."""

    token: str | None = field(default=None, repr=False)
    users: Mapping[str, str] = field(default_factory=dict, repr=False)
    proxy_header: str | None = None
    frame_ancestors: tuple[str, ...] = ()
    overdue_after: int = 3
    onec_url: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """The whole ``edo-rules.yaml``, validated; build with :func:`load_config`."""

    file: Path
    timezone: ZoneInfo
    store: StoreConfig
    playbooks: tuple[Path, ...]
    calendar_override: Path | None = None
    schedule: ScheduleConfig = ScheduleConfig()
    dispatch: DispatchConfig = DispatchConfig()
    logging: LoggingConfig = LoggingConfig()
    http: HttpConfig = HttpConfig()
    onec: OneCSettings | None = None
    bitrix24: Bitrix24Settings | None = None
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    #: Before this moment everything is history (see docs/playbooks.md, «Запуск»).
    go_live: datetime | None = None
    #: The budget of one evaluation of a ``where`` or a template (section ``evaluation``).
    evaluation: Budget = DEFAULT_BUDGET
    dashboard: DashboardConfig | None = None

    def redact(self, text: str) -> str:
        """``text`` with every secret of this config replaced by ``***``."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def load_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> Config:
    """Load and check ``path``; raises :class:`ConfigError` with every problem found.

    ``env`` (default: ``os.environ``) supplies ``${NAME}`` values; names missing
    there are looked up in the ``secrets_file``.
    """
    file = Path(path)
    located = read_located(file)
    problems: list[Problem] = []
    environment = dict(os.environ if env is None else env)
    base = file.parent
    secrets_path = _secrets_file(located.data, base)
    if secrets_path is not None:
        problems += _merge_secrets(located, secrets_path, environment)
    resolved = resolve(located, environment)
    problems += resolved.problems
    located.data = resolved.data
    # A value whose reference failed is already reported; later checks would only echo it.
    shape = [p for p in schema_problems(located) if p.path not in resolved.failed]
    config, build_problems = build_config(
        located,
        base,
        environment,
        secrets=frozenset(resolved.secrets),
        broken={p.path.split(".")[0].split("[")[0] for p in shape},
    )
    problems += shape + [p for p in build_problems if p.path not in resolved.failed]
    if problems or config is None:
        raise ConfigError(_sorted(problems))
    return config


def _secrets_file(data: Any, base: Path) -> Path | None:
    raw = data.get("secrets_file") if isinstance(data, dict) else None
    return base / raw if isinstance(raw, str) and raw else None


def _merge_secrets(located: Any, path: Path, environment: dict[str, str]) -> list[Problem]:
    try:
        values, errors = read_secrets_file(path)
    except OSError as exc:
        message = msg("cfg_secrets_unreadable", path=str(path), error=exc.strerror or str(exc))
        return [located_problem(located, ("secrets_file",), message)]
    for name, value in values.items():
        environment.setdefault(name, value)  # the environment wins over the file
    return [
        located_problem(located, ("secrets_file",), msg("cfg_secrets_line", path=str(path), line=n))
        for n in errors
    ]


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line, p.column))
