"""Building :class:`edo_rules.config.Config` from checked, resolved YAML data.

Each section builder collects problems instead of raising, so that one run of
``edo-rules validate --config`` lists every mistake in the file.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from edo_rules._messages import Text, msg, reason
from edo_rules.errors import ConfigError, Problem
from edo_rules.playbook._budget import Budget
from edo_rules.playbook._text import did_you_mean
from edo_rules.playbook._yaml import (
    LocatedData,
    LocatedYamlError,
    NodePath,
    format_path,
    load_located,
)
from edo_rules.playbook.durations import DurationSyntaxError, parse_duration
from edo_rules.playbook.golive import GoLiveError, parse_go_live
from edo_rules.runner.schedule import CronSchedule, ScheduleError

if TYPE_CHECKING:
    from edo_rules.config import Config, DashboardConfig

_SECONDS = re.compile(
    r"^\s*(\d{1,9})\s*(s|sec|secs|second|seconds|с|сек|секунда|секунды|секунд)\s*$", re.I
)
_UNIT_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400}


def read_located(file: Path) -> LocatedData:
    """The config file's data with positions; raises :class:`ConfigError` if unreadable."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(file), 1, 1, "", msg("cfg_no_file"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        unreadable = msg("cfg_unreadable", error=str(exc))
        raise ConfigError([Problem(str(file), 1, 1, "", unreadable)]) from exc
    try:
        located = load_located(text, str(file))
    except LocatedYamlError as exc:
        message: str | Text = exc.message
        if isinstance(message, Text) and message.key == "yaml_empty":
            message = msg("yaml_empty_config")
        raise ConfigError([Problem(str(file), exc.line, exc.column, "", message)]) from exc
    if not isinstance(located.data, dict):
        raise ConfigError([located.problem((), msg("cfg_not_mapping"))])
    return located


def located_problem(located: LocatedData, path: NodePath, message: str | Text) -> Problem:
    return located.problem(path, message)


def build_config(
    located: LocatedData,
    base: Path,
    env: Mapping[str, str],
    *,
    secrets: frozenset[str],
    broken: set[str],
) -> tuple[Config | None, list[Problem]]:
    """The config (``None`` when there were problems) and the problems found here.

    ``broken`` names the top-level keys the schema already refused: those
    sections are not built (their values may have any type), every other one
    is, so that one run reports the problems of all sections.
    """
    data: dict[str, Any] = {k: v for k, v in located.data.items() if k not in broken}
    builder = _Builder(located, base)
    onec = builder.onec(data.get("onec"), env)
    bitrix24 = builder.bitrix24(data.get("bitrix24"), env)
    config = builder.build(data, onec, bitrix24, secrets)
    return (None if builder.problems or broken else config), builder.problems


#: ``store.retention``: whole days, with an optional unit in English or Russian.
RETENTION_DAYS = re.compile(r"^\s*(\d+)\s*(d|days?|д|дн|дня|дней|день)?\s*$", re.IGNORECASE)


class _Builder:
    def __init__(self, located: LocatedData, base: Path) -> None:
        self.located = located
        self.base = base
        self.problems: list[Problem] = []

    def problem(self, path: NodePath, message: str | Text) -> None:
        self.problems.append(self.located.problem(path, message))

    def build(
        self, data: dict[str, Any], onec: Any, bitrix24: Any, secrets: frozenset[str]
    ) -> Config:
        from edo_rules.config import (
            Config,
            DispatchConfig,
            HttpConfig,
            LoggingConfig,
        )

        timezone = self.timezone(data.get("timezone", "Europe/Moscow"))
        return Config(
            file=self.located_file(),
            timezone=timezone,
            store=self.store(data.get("store") or {}),
            playbooks=self.playbooks(data.get("playbooks", "playbooks")),
            calendar_override=self.calendar(data.get("calendar") or {}),
            schedule=self.schedule(data.get("schedule") or {}, timezone),
            dispatch=DispatchConfig(**(data.get("dispatch") or {})),
            logging=LoggingConfig(**(data.get("logging") or {})),
            http=HttpConfig(**(data.get("http") or {})),
            onec=onec,
            bitrix24=bitrix24,
            secrets=secrets,
            go_live=self.go_live(data.get("go_live"), timezone),
            evaluation=Budget(**(data.get("evaluation") or {})),
            dashboard=_dashboard(data.get("dashboard")),
        )

    def go_live(self, raw: Any, timezone: ZoneInfo) -> datetime | None:
        if raw is None:
            return None
        try:
            return parse_go_live(raw, timezone)
        except GoLiveError as exc:
            self.problem(("go_live",), reason(exc))
            return None

    def located_file(self) -> Path:
        return Path(self.located.file)

    def path(self, raw: str) -> Path:
        path = Path(raw).expanduser()
        return path if path.is_absolute() else self.base / path

    # -- sections ------------------------------------------------------------------
    def timezone(self, name: str) -> ZoneInfo:
        try:
            return ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(name, sorted(zoneinfo.available_timezones()))
            self.problem(("timezone",), msg("cfg_unknown_zone", name=name, hint=hint))
            return ZoneInfo("Europe/Moscow")

    def store(self, section: Mapping[str, Any]) -> Any:
        from edo_rules.config import StoreConfig

        if "path" in section and "dsn" in section:
            self.problem(("store",), msg("cfg_store_both"))
        retention = self.retention(section.get("retention"))
        if "dsn" in section:
            lease = float(section.get("lease", 30.0))
            return StoreConfig(dsn=section["dsn"], lease=lease, retention=retention)
        return StoreConfig(path=self.path(section.get("path", "edo-rules.db")), retention=retention)

    def retention(self, raw: object) -> timedelta:
        """``store.retention``: days (``365``, ``"365d"``, ``"365 дней"``), at least 30."""
        from edo_rules.config import DEFAULT_RETENTION, MIN_RETENTION

        if raw is None:
            return DEFAULT_RETENTION
        found = RETENTION_DAYS.match(str(raw)) if not isinstance(raw, bool) else None
        days = timedelta(days=int(found.group(1))) if found else None
        if days is None or days < MIN_RETENTION:
            problem = msg("cfg_store_retention", raw=repr(raw), days=MIN_RETENTION.days)
            self.problem(("store", "retention"), problem)
            return DEFAULT_RETENTION
        return days

    def playbooks(self, raw: str | list[str]) -> tuple[Path, ...]:
        items = [raw] if isinstance(raw, str) else raw
        found: list[Path] = []
        for index, item in enumerate(items):
            path = self.path(item)
            where: NodePath = ("playbooks",) if isinstance(raw, str) else ("playbooks", index)
            if not path.exists():
                self.problem(where, msg("cfg_no_playbooks", path=str(path)))
            found.append(path)
        return tuple(found)

    def calendar(self, section: Mapping[str, Any]) -> Path | None:
        raw = section.get("override")
        if raw is None:
            return None
        path = self.path(raw)
        if not path.is_file():
            self.problem(("calendar", "override"), msg("cfg_no_override", path=str(path)))
        return path

    def schedule(self, section: Mapping[str, Any], timezone: ZoneInfo) -> Any:
        from edo_rules.config import ScheduleConfig

        if "interval" in section and "cron" in section:
            self.problem(("schedule",), msg("cfg_schedule_both"))
        if "cron" in section:
            try:
                CronSchedule.parse(section["cron"], timezone)
            except ScheduleError as exc:
                self.problem(("schedule", "cron"), reason(exc))
            return ScheduleConfig(
                interval=None, cron=section["cron"], stage_limits=self.stage_limits(section)
            )
        interval = self.interval(section.get("interval", 300))
        return ScheduleConfig(interval=interval, stage_limits=self.stage_limits(section))

    def stage_limits(self, section: Mapping[str, Any]) -> dict[str, float]:
        from edo_rules.config import DEFAULT_STAGE_LIMITS

        limits = dict(DEFAULT_STAGE_LIMITS)
        for stage, raw in (section.get("stage_limits") or {}).items():
            limits[stage] = self.interval(raw, ("schedule", "stage_limits", stage))
        return limits

    def interval(
        self, raw: str | float, where: tuple[str, ...] = ("schedule", "interval")
    ) -> float:
        if not isinstance(raw, str):
            return float(raw)
        seconds = _SECONDS.match(raw)
        if seconds is not None:
            return float(seconds.group(1))
        try:
            duration = parse_duration(raw)
        except DurationSyntaxError as exc:
            self.problem(where, msg("cfg_interval_syntax", error=reason(exc)))
            return 300.0
        if duration.unit not in _UNIT_SECONDS:
            self.problem(where, msg("cfg_interval_real_time", value=raw))
            return 300.0
        return float(duration.amount * _UNIT_SECONDS[duration.unit])

    def onec(self, section: Any, env: Mapping[str, str]) -> Any:
        if section is None:
            return None
        from edo_rules.sources.onec import OneCSettings

        lines = {format_path(path): mark.line for path, mark in self.located.keys.items()}
        return self._section(
            lambda m, where: OneCSettings.from_mapping(m, where=where, lines=lines), section
        )

    def bitrix24(self, section: Any, env: Mapping[str, str]) -> Any:
        if section is None:
            return None
        from edo_rules.actions.bitrix24.settings import Bitrix24Settings

        return self._section(
            lambda m, where: Bitrix24Settings.from_mapping(m, where=where, env=env), section
        )

    def _section(self, parse: Callable[[Any, str], Any], section: Any) -> Any:
        try:
            return parse(section, self.located.file)
        except ConfigError as exc:
            self.problems.extend(self._position(p) for p in exc.problems)
            return None

    def _position(self, problem: Problem) -> Problem:
        """A section parser's problem with the line and column of the node it names."""
        if problem.line > 0 and problem.column > 0:
            return problem
        found = self.located.mark(_node_path(self.located.data, problem.path))
        message = problem.text or problem.message
        return Problem(problem.file, found.line, found.column, problem.path, message)


def _node_path(data: Any, dotted: str) -> NodePath:
    """``"bitrix24.deal.field"`` → ``("bitrix24", "deal", "field")``, keys may hold dots."""
    path: list[str | int] = []
    rest = dotted
    node = data
    while rest and isinstance(node, dict):
        key = next(
            (
                k
                for k in sorted(node, key=len, reverse=True)
                if rest == k or rest.startswith(f"{k}.")
            ),
            None,
        )
        if key is None:
            break
        path.append(key)
        node = node[key]
        rest = rest[len(key) + 1 :]
    return tuple(path)


def _dashboard(data: dict[str, Any] | None) -> DashboardConfig | None:
    from edo_rules.config import DashboardConfig

    if data is None:
        return None
    values = dict(data)
    values["frame_ancestors"] = tuple(values.get("frame_ancestors") or ())
    values["users"] = dict(values.get("users") or {})
    return DashboardConfig(**values)
