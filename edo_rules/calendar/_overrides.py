"""The user override file: extra days off, extra working days, short days.

Format (YAML; every entry needs a date and a comment saying why)::

    days_off:
      - date: 2026-12-30
        comment: Приказ № 45 — корпоративный выходной
    working_days:
      - date: 2026-12-26
        comment: Отработка за 30 декабря
    short_days:
      - date: 2026-12-29
        comment: Предновогодний сокращённый день

The file is composed into YAML nodes (not loaded into plain dicts) so that every
error can name the line it is on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from edo_rules._messages import Text, msg
from edo_rules.errors import CalendarError

_SECTIONS = ("days_off", "working_days", "short_days")


@dataclass(frozen=True, slots=True)
class OverrideEntry:
    """One override: which list it came from, the day, the comment and where it was written."""

    section: str
    date: dt.date
    comment: str
    file: str
    line: int

    @property
    def reason(self) -> str:
        """The text shown to users for this day."""
        return f"{self.comment} ({self.file}:{self.line})"


def load_overrides(path: str | Path) -> tuple[OverrideEntry, ...]:
    """Read and validate an override file.

    Raises:
        CalendarError: the file cannot be read, is not YAML, or an entry is
            malformed or repeats a date; ``file`` and ``line`` point at it.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(msg("cal_override_unreadable", error=exc.strerror), file=name) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CalendarError(
            msg("cal_override_yaml", problem=problem), file=name, line=line
        ) from exc
    entries = _Reader(name).read(root)
    _check_unique(entries, name)
    return entries


class _Reader:
    """Walks the composed YAML tree; every error carries the node's line."""

    def __init__(self, name: str) -> None:
        self._name = name

    def fail(self, node: yaml.Node, message: Text) -> CalendarError:
        text = msg("cal_override_example", text=message)
        return CalendarError(text, file=self._name, line=node.start_mark.line + 1)

    def read(self, root: yaml.Node | None) -> tuple[OverrideEntry, ...]:
        if root is None:
            return ()  # an empty file overrides nothing
        if not isinstance(root, yaml.MappingNode):
            raise self.fail(root, msg("cal_override_not_mapping"))
        entries: list[OverrideEntry] = []
        for key, value in root.value:
            section = self._section(key)
            entries.extend(self._items(section, value))
        return tuple(entries)

    def _section(self, key: yaml.Node) -> str:
        if not isinstance(key, yaml.ScalarNode) or key.value not in _SECTIONS:
            shown = key.value if isinstance(key, yaml.ScalarNode) else "?"
            allowed = ", ".join(_SECTIONS)
            raise self.fail(key, msg("cal_override_section", name=shown, allowed=allowed))
        return str(key.value)

    def _items(self, section: str, node: yaml.Node) -> list[OverrideEntry]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, msg("cal_override_not_list", section=section))
        return [self._entry(section, item) for item in node.value]

    def _entry(self, section: str, node: yaml.Node) -> OverrideEntry:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, msg("cal_override_entry_mapping", section=section))
        fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        extra = sorted(set(fields) - {"date", "comment"})
        if extra:
            raise self.fail(node, msg("cal_override_entry_keys", section=section, keys=extra))
        return OverrideEntry(
            section=section,
            date=self._date(section, node, fields.get("date")),
            comment=self._comment(section, node, fields.get("comment")),
            file=self._name,
            line=node.start_mark.line + 1,
        )

    def _date(self, section: str, entry: yaml.Node, node: yaml.Node | None) -> dt.date:
        if node is None:
            raise self.fail(entry, msg("cal_override_no_date", section=section))
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise self.fail(
                node, msg("cal_override_bad_date", section=section, value=value)
            ) from None

    def _comment(self, section: str, entry: yaml.Node, node: yaml.Node | None) -> str:
        if node is None:
            raise self.fail(entry, msg("cal_override_no_comment", section=section))
        if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
            raise self.fail(node, msg("cal_override_empty_comment", section=section))
        return str(node.value).strip()


def _check_unique(entries: tuple[OverrideEntry, ...], name: str) -> None:
    seen: dict[tuple[str, dt.date], OverrideEntry] = {}
    by_date: dict[dt.date, OverrideEntry] = {}
    for entry in entries:
        first = seen.get((entry.section, entry.date)) or _conflict(by_date.get(entry.date), entry)
        if first is not None:
            raise CalendarError(
                msg(
                    "cal_override_repeated", date=entry.date, section=first.section, line=first.line
                ),
                file=name,
                line=entry.line,
            )
        seen[(entry.section, entry.date)] = entry
        by_date.setdefault(entry.date, entry)


def _conflict(first: OverrideEntry | None, entry: OverrideEntry) -> OverrideEntry | None:
    # A short day is a working day, so short_days may repeat a working_days date;
    # a day cannot be both a day off and a working (or short) day.
    if first is None or {first.section, entry.section} == {"working_days", "short_days"}:
        return None
    return first
