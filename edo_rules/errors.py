"""The one error root of edo-rules and its families.

Foreign errors (httpx, sqlite3, psycopg, yaml, jsonschema) are translated once,
at the edge where they occur, with ``raise X(...) from exc``. Each exception
builds its own message so that callers never have to format one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class EdoRulesError(Exception):
    """Root of every error raised by edo-rules on purpose."""


class CalendarError(EdoRulesError):
    """A calendar data or override file is malformed, or a date is out of range."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(f"{where}{message}")


class CalendarWarning(UserWarning):
    """A date falls in a year the bundled calendar does not confirm (derived or draft)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a playbook or config file, with its position."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        path = f" {self.path}:" if self.path else ""
        return f"{self.file}:{self.line}:{self.column}:{path} {self.message}"


class PlaybookError(EdoRulesError):
    """A playbook (or config) file is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]):
        if not problems:
            raise ValueError("PlaybookError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = self.problems[0]
        self.file = first.file
        self.line = first.line
        self.path = first.path
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(PlaybookError):
    """The runner's config file is invalid (same shape as a playbook error)."""


class StoreError(EdoRulesError):
    """The store could not be opened, migrated, read or written."""


class SourceError(EdoRulesError):
    """A document source (1C OData, a JSON Lines file) failed or sent bad data.

    ``code`` is the source's own error code when it gave one (1C sends strings
    such as ``"6"`` or ``"14"``); ``hint`` says what the admin should do.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        retryable: bool = False,
        url: str | None = None,
    ):
        self.code = code
        self.hint = hint
        self.retryable = retryable
        self.url = url
        text = message if code is None else f"[1C code {code}] {message}"
        if url:
            text += f" (request: {url})"
        if hint:
            text += f"\nWhat to do: {hint}"
        super().__init__(text)


class ActionError(EdoRulesError):
    """An action could not be carried out.

    ``retryable`` tells the dispatcher whether sending again may succeed
    (rate limit, refused before it ran) or not (scope, access, bad input).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str | None = None,
        hint: str | None = None,
    ):
        self.retryable = retryable
        self.code = code
        self.hint = hint
        text = message if code is None else f"{code}: {message}"
        if hint:
            text += f"\nWhat to do: {hint}"
        super().__init__(text)


class LockError(EdoRulesError):
    """Another runner already holds the store."""
