"""The argument parser of ``edo-rules``: its help and usage errors in the admin's language.

Help texts are written in English in the command modules; :func:`tr` shows them
in Russian from :mod:`edo_rules._messages_help` when the language is Russian —
gettext's way, keyed by the English. argparse's own words ("usage:", "options",
"unrecognized arguments: …") come from the same table: the formatter translates
headings, texts and help strings as it lays them out, and :meth:`Parser.error`
translates the finished error message by matching argparse's templates. No
argparse global is patched, so other parsers in the process are left alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from functools import cache
from typing import NoReturn, cast

from edo_rules._messages import language
from edo_rules._messages_help import ARGPARSE_RU, HELP_RU

_ERROR = "%(prog)s: error: %(message)s\n"
_REQUIRED = "the following arguments are required: %s"
_FIELD = re.compile(r"%(?:\((\w+)\))?[sr]")


def tr(text: str) -> str:
    """``text`` (an English help text or an argparse word) in the current language."""
    if language() == "en":
        return text
    return HELP_RU.get(text) or ARGPARSE_RU.get(text, text)


class _Translating(argparse.HelpFormatter):
    """Mixed into the parser's formatter class: every text passes through :func:`tr`."""

    def start_section(self, heading: str | None) -> None:
        super().start_section(tr(heading) if heading else heading)

    def add_text(self, text: str | None) -> None:
        super().add_text(tr(text) if text and text is not argparse.SUPPRESS else text)

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, tr("usage: ") if prefix is None else prefix)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return tr(action.help) if action.help else action.help

    def _metavar_formatter(
        self, action: argparse.Action, default_metavar: str
    ) -> Callable[[int], tuple[str, ...]]:
        format_ = super()._metavar_formatter(action, default_metavar)
        return lambda size: tuple(tr(part) for part in format_(size))


_MIXED: dict[str, type[argparse.HelpFormatter]] = {}


def _translating(formatter_class: type[argparse.HelpFormatter]) -> type[argparse.HelpFormatter]:
    """``formatter_class`` (a command may choose its own) with :class:`_Translating` mixed in."""
    name = f"{formatter_class.__module__}.{formatter_class.__qualname__}"
    if name not in _MIXED:
        _MIXED[name] = type(
            f"Translating{formatter_class.__name__}", (_Translating, formatter_class), {}
        )
    return _MIXED[name]


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` speaking the admin's language; sub-commands get it too."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        formatter_class = cast(type[argparse.HelpFormatter], self.formatter_class)
        return _translating(formatter_class)(prog=self.prog)

    def error(self, message: str) -> NoReturn:
        """Usage, then ``prog: ошибка: …`` on stderr; exit status 2 as argparse's own."""
        self.print_usage(sys.stderr)
        self.exit(2, tr(_ERROR) % {"prog": self.prog, "message": error_message(message)})


def error_message(message: str) -> str:
    """argparse's finished error ``message`` in the current language (as it is if unknown)."""
    if language() == "en":
        return message
    if message in ARGPARSE_RU:  # a fixed phrase ("expected one argument")
        return ARGPARSE_RU[message]
    for english, russian, pattern in _templates():
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = found.groupdict()
        if "message" in values:  # "argument X: <argparse's own message>"
            values["message"] = error_message(values["message"])
        if "argument_name" in values:  # a metavar ("COMMAND") or option strings ("--at")
            values["argument_name"] = "/".join(map(tr, values["argument_name"].split("/")))
        if english == _REQUIRED:  # metavars ("DOC, DURATION") or option strings
            values["_0"] = ", ".join(map(tr, values["_0"].split(", ")))
        return _fill(russian, [values[name] for name in _names(english)])
    return message


def _fill(template: str, values: list[str]) -> str:
    """``template`` with its fields replaced, in order, by ``values`` (already text)."""
    given = iter(values)
    return _FIELD.sub(lambda _: next(given), template)


def _names(template: str) -> list[str]:
    return [m.group(1) or f"_{n}" for n, m in enumerate(_FIELD.finditer(template))]


@cache
def _templates() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """argparse's error templates with fields, as patterns matching a finished message."""
    found = []
    for english, russian in ARGPARSE_RU.items():
        if english == _ERROR or not _FIELD.search(english):
            continue
        parts, pos = [], 0
        for name, field in zip(_names(english), _FIELD.finditer(english), strict=True):
            parts += [re.escape(english[pos : field.start()]), f"(?P<{name}>.+?)"]
            pos = field.end()
        parts.append(re.escape(english[pos:]))
        found.append((english, russian, re.compile("".join(parts), re.S)))
    return tuple(found)
