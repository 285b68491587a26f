"""Logging for the runner: readable lines by default, JSON lines on request.

Every record passes a redaction filter that replaces each known secret (the
config's resolved ``${ENV}`` values) with ``***``: a secret that slips into a
message (an URL in an httpx error, say) never reaches the log.

Firings and action outcomes carry structured fields (``rule``, ``document``,
``key``, ``action``, ``outcome``) passed with ``extra=``; the JSON format emits
them as keys, the text format appends them as ``key=value``.

Logs are for developers and stay in English whatever ``--lang`` says: an
error's catalogue text is rendered in English for the log line (see
``edo_rules._messages``), while the same error reads in Russian on the terminal.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, TextIO

from edo_rules._messages import in_language
from edo_rules._untrusted import printable

LogFormat = Literal["text", "json"]

#: Structured fields copied from ``extra=`` into the output.
FIELDS: tuple[str, ...] = (
    "rule",
    "document",
    "step",
    "key",
    "action",
    "outcome",
    "request",
    "remote_id",
    "reason",
    "attempts",
)

_ROOT = "edo_rules"


class EnglishFilter(logging.Filter):
    """Renders the message and the traceback now, in English (errors' texts are lazy)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with in_language("en"):
            record.msg = record.getMessage()
            record.args = None
            if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
        return True


class RedactingFilter(logging.Filter):
    """Replaces every secret in the rendered message (and the structured fields) with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            shown = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(shown)
            record.exc_info = None
        for name in FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


class TextFormatter(logging.Formatter):
    """``2026-11-28 06:00:01 INFO  message  rule=… document=…``.

    The message and the fields carry text from 1C and Bitrix24: their
    non-printable characters are escaped, so one record is one line (a
    traceback follows it indented, each line escaped alike) and no value can
    forge a line of its own.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        shown = copy.copy(record)  # other handlers see the record as it was
        shown.msg, shown.args = printable(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            shown.exc_text = self.formatException(record.exc_info)
        if shown.exc_text:
            shown.exc_text = _lines(shown.exc_text)
        shown.exc_info = None
        if record.stack_info:
            shown.stack_info = _lines(record.stack_info)
        text = super().format(shown)
        extras = [
            f"{name}={printable(str(getattr(record, name)))}"
            for name in FIELDS
            if getattr(record, name, None) is not None
        ]
        return text + ("  " + " ".join(extras) if extras else "")


def _json_printable(text: str) -> str:
    """A JSON text with each non-printable character as a ``\\uXXXX`` escape (same value)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _json_escape(c) for c in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: a surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _lines(text: str) -> str:
    """A traceback with each line escaped and indented: its own breaks stay, and a line
    break inside an exception's message cannot start a line that looks like a record."""
    return "\n".join("  " + printable(line) for line in text.split("\n"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_text:
            data["exception"] = record.exc_text
        elif record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        # JSON escapes C0 controls; C1, U+2028 and the bidi marks it would pass raw, and
        # a reader that splits on them (str.splitlines does) would see two records.
        return _json_printable(json.dumps(data, ensure_ascii=False, default=str))


def setup_logging(
    *,
    level: str = "info",
    fmt: LogFormat = "text",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send the ``edo_rules`` loggers to ``stream`` (stderr) in ``fmt``; returns the handler.

    Calling it again replaces the previous handler (the CLI may call it once per
    command, tests many times).
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(EnglishFilter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger(_ROOT)
    for old in [h for h in root.handlers if getattr(h, "_edo_rules", False)]:
        root.removeHandler(old)
    handler._edo_rules = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Detach a handler installed by :func:`setup_logging` (end of a CLI command, a test)."""
    logging.getLogger(_ROOT).removeHandler(handler)
