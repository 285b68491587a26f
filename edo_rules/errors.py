"""The one error root of edo-rules and its families.

Foreign errors (httpx, sqlite3, psycopg, yaml, jsonschema) are translated once,
at the edge where they occur, with ``raise X(...) from exc``. Each exception
builds its own message so that callers never have to format one.

An error's message is a catalogue :class:`~edo_rules._messages.Text`
(``raise StoreError(msg("no_store", path=path))``): it keeps
a stable ``message_key`` and its ``message_params`` for programs, and ``str()``
renders it in the language in force (Russian for the admin, English in logs).
A plain string still works and is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from edo_rules._messages import Joined, Text, reason, t


class EdoRulesError(Exception):
    """Root of every error raised by edo-rules on purpose.

    ``message_key`` is the error's stable machine code (a catalogue key; None for
    an error made from a plain string) and ``message_params`` its fields.
    """

    @property
    def message_key(self) -> str | None:
        first = self.args[0] if self.args else None
        return first.key if isinstance(first, Text) else None

    @property
    def message_params(self) -> Mapping[str, object]:
        first = self.args[0] if self.args else None
        return first.params if isinstance(first, Text) else {}


class CalendarError(EdoRulesError):
    """A calendar data or override file is malformed, or a date is out of range."""

    def __init__(self, message: str | Text, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        return f"{where}{self.args[0]}"


class CalendarWarning(UserWarning):
    """A date falls in a year the bundled calendar does not confirm (derived or draft)."""


@dataclass(frozen=True, slots=True, init=False)
class Problem:
    """One problem found in a playbook or config file, with its position.

    ``message`` is the text as rendered when the problem was found; made from a
    catalogue :class:`~edo_rules._messages.Text`, the problem also keeps it
    (``text``, ``message_key``, ``message_params``) and ``str()`` renders it in
    the language in force.
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    text: Text | None = field(default=None, compare=False)

    def __init__(self, file: str, line: int, column: int, path: str, message: str | Text):
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "message", str(message))
        object.__setattr__(self, "text", message if isinstance(message, Text) else None)

    @property
    def message_key(self) -> str | None:
        return self.text.key if self.text is not None else None

    @property
    def message_params(self) -> Mapping[str, object]:
        return self.text.params if self.text is not None else {}

    def __str__(self) -> str:
        return self.unrendered().render()

    def unrendered(self) -> Joined:
        """The problem as ``str()`` shows it, still to be rendered (for a log, a later display)."""
        path = f" {self.path}:" if self.path else ""
        return Joined((f"{self.file}:{self.line}:{self.column}:{path}", self.text or self.message))


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
        super().__init__("\n".join(p.message for p in self.problems))

    @property
    def message_key(self) -> str | None:
        return self.problems[0].message_key

    @property
    def message_params(self) -> Mapping[str, object]:
        return self.problems[0].message_params

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def unrendered(self) -> Joined:
        """Every problem, rendered only when shown (in the language in force then)."""
        return Joined(tuple(p.unrendered() for p in self.problems), sep="\n")


def unrendered(exc: BaseException) -> Text | Joined | str:
    """An error's message kept unrendered, to be shown later in the language then in force."""
    if isinstance(exc, PlaybookError):
        return exc.unrendered()
    return reason(exc)


class ConfigError(PlaybookError):
    """The runner's config file is invalid (same shape as a playbook error)."""


class StoreError(EdoRulesError):
    """The store could not be opened, migrated, read or written."""


class _HintedError(EdoRulesError):
    """An error with what the admin should do, rendered in the language in force."""

    _hint: str | Text | None

    @property
    def hint(self) -> str | None:
        """What the admin should do, in the language in force."""
        return None if self._hint is None else str(self._hint)

    def _with_hint(self, text: str) -> str:
        hint = self.hint
        return t("what_to_do", text=text, hint=hint) if hint else text


class SourceError(_HintedError):
    """A document source (1C OData, a JSON Lines file) failed or sent bad data.

    ``code`` is the source's own error code when it gave one (1C sends strings
    such as ``"6"`` or ``"14"``); ``hint`` says what the admin should do.
    """

    def __init__(
        self,
        message: str | Text,
        *,
        code: str | None = None,
        hint: str | Text | None = None,
        retryable: bool = False,
        url: str | None = None,
    ):
        self.code = code
        self._hint = hint
        self.retryable = retryable
        self.url = url
        super().__init__(message)

    def __str__(self) -> str:
        text = str(self.args[0])
        if self.code is not None:
            text = t("onec_code", code=self.code, text=text)
        if self.url:
            text = t("onec_request", text=text, url=self.url)
        return self._with_hint(text)


class ActionError(_HintedError):
    """An action could not be carried out.

    ``retryable`` tells the dispatcher whether sending again may succeed
    (rate limit, refused before it ran) or not (scope, access, bad input).
    """

    def __init__(
        self,
        message: str | Text,
        *,
        retryable: bool,
        code: str | None = None,
        hint: str | Text | None = None,
    ):
        self.retryable = retryable
        self.code = code
        self._hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        text = str(self.args[0])
        if self.code is not None:
            text = f"{self.code}: {text}"
        return self._with_hint(text)


class LockError(EdoRulesError):
    """Another runner already holds the store."""
