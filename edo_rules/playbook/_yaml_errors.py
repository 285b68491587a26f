"""YAML syntax errors told where the broken construct starts, with the line, a caret and a hint.

PyYAML reports where it *noticed* the problem: an unclosed quote is noticed
at the end of the file, an unclosed ``[`` at the next line's colon. Its
``context_mark`` says where the construct began; for the usual shapes that
is where the admin has to look, so the position and a hint are chosen per
shape here (the texts are the catalogue's, Russian by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import yaml

from edo_rules._messages import Text, msg


@dataclass(frozen=True, slots=True)
class _Shape:
    """One kind of syntax error: how to recognise it, where to point, what to say."""

    context: str  # a substring of PyYAML's context ("" matches any)
    problem: str  # a substring of PyYAML's problem ("" matches any)
    at_start: bool  # point at the context mark (where the construct starts)
    name: str  # the catalogue's yaml_what_<name> and yaml_hint_<name>
    hint: str = ""  # the hint's name when another shape's ("" → the same name)

    @property
    def what(self) -> Text:
        return msg(f"yaml_what_{self.name}")

    @property
    def advice(self) -> Text:
        return msg(f"yaml_hint_{self.hint or self.name}")


_SHAPES: Final = (
    _Shape("quoted scalar", "", True, "quote"),
    _Shape("", "'\\t'", False, "tab"),
    _Shape("flow sequence", "", True, "list"),
    _Shape("flow mapping", "", True, "mapping"),
    _Shape("simple key", "':'", True, "key"),
    _Shape("", "<block end>", False, "indent"),
    _Shape("", "mapping values are not allowed", False, "colon"),
)


_RUNAWAY: Final = _Shape("", "", True, "runaway", hint="quote")


@dataclass(frozen=True, slots=True)
class SyntaxReport:
    """Where to point (1-based) and the message with the line, a caret and a hint."""

    line: int
    column: int
    message: Text


def describe(exc: yaml.MarkedYAMLError, text: str) -> SyntaxReport:
    """The position and the admin-facing message for a PyYAML syntax error in ``text``."""
    shape = _shape_of(exc)
    mark = exc.problem_mark or exc.context_mark
    if shape is not None and shape.at_start and exc.context_mark is not None:
        mark = exc.context_mark
    runaway = _runaway_quote(text, exc.problem_mark) if shape is not _SHAPES[0] else None
    if runaway is not None:  # a quote left open swallowed the lines up to the next quote
        shape, mark = _RUNAWAY, runaway
    elif "<stream end>" in (exc.problem or ""):  # the file ended inside a [ … ] or { … }
        opener = _unclosed_bracket(text)
        if opener is not None:
            shape, mark = opener
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    excerpt = _excerpt(text, line, column)
    if shape is None:
        parts = [p for p in (exc.context, exc.problem) if p]  # PyYAML's own words
        what: Text | str = "; ".join(parts) if parts else msg("yaml_malformed")
        message = msg("yaml_syntax", what=what, noticed="", excerpt=excerpt, hint="")
    else:
        hint = msg("yaml_hint", hint=shape.advice)
        noticed = _noticed(exc, line)
        message = msg("yaml_syntax", what=shape.what, noticed=noticed, excerpt=excerpt, hint=hint)
    return SyntaxReport(line, column, message)


def _runaway_quote(text: str, problem: yaml.Mark | None) -> yaml.Mark | None:
    """The start of a quoted value spanning lines and ending on the problem's line, if any.

    ``message: "unclosed`` followed later by ``text: "x"`` is read as one long
    value from the first quote to the second; the error then shows up right
    after it, far from the quote the admin forgot to close.
    """
    if problem is None:
        return None
    found: yaml.Mark | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.line > problem.line:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ("'", '"')
                and token.start_mark.line < token.end_mark.line == problem.line
            ):
                found = token.start_mark
    except yaml.YAMLError:
        pass  # the scan stops at the error: what was found before it stands
    return found


def _unclosed_bracket(text: str) -> tuple[_Shape, yaml.Mark] | None:
    """The innermost '[' or '{' still open where the scan stops, with its shape."""
    stack: list[tuple[_Shape, yaml.Mark]] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.FlowSequenceStartToken):
                stack.append((_SHAPES[2], token.start_mark))
            elif isinstance(token, yaml.FlowMappingStartToken):
                stack.append((_SHAPES[3], token.start_mark))
            elif isinstance(token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken) and stack:
                stack.pop()
    except yaml.YAMLError:
        pass  # the scan stops at the error: the brackets open so far are the answer
    return stack[-1] if stack else None


def _shape_of(exc: yaml.MarkedYAMLError) -> _Shape | None:
    context, problem = exc.context or "", exc.problem or ""
    for shape in _SHAPES:
        if shape.context in context and shape.problem in problem:
            return shape
    return None


def _noticed(exc: yaml.MarkedYAMLError, line: int) -> Text | str:
    """Where PyYAML noticed the problem, when that is another line (the end of the file…)."""
    mark = exc.problem_mark
    if mark is None or mark.line + 1 == line:
        return ""
    if "end of stream" in (exc.problem or "") or "<stream end>" in (exc.problem or ""):
        return msg("yaml_noticed_end")
    return msg("yaml_noticed_at", line=mark.line + 1, column=mark.column + 1)


def _excerpt(text: str, line: int, column: int) -> str:
    """The offending line and a caret under the column (tabs shown as one space)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    shown = lines[line - 1].replace("\t", " ")
    if len(shown) > 120:  # keep the caret in view on a long line
        start = max(0, column - 60)
        shown, column = shown[start : start + 120], column - start
    number = str(line)
    gutter = " " * len(number)
    return f"\n  {number} | {shown}\n  {gutter} | {' ' * (column - 1)}^"
