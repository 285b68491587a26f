"""Text from 1C, Bitrix24 and the network, made harmless where it lands.

Three places, three treatments:

* :func:`one_line` — at mapping time, for fields shown on one line (titles,
  names, numbers): line breaks become a space, control characters (C0, C1)
  and the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069)
  are dropped. :func:`clean_text` does the same for multi-line fields (a
  rejection comment keeps its line breaks).
* :func:`neutralise` — what a template interpolates into a Bitrix24 text.
  Bitrix24 renders BB-codes in notifications, chat messages, task
  descriptions and comments: a tag is an opening ``[`` followed by its name
  (``[URL=…]``, ``[USER=1]``, ``[B]``, ``[IMG]``, ``[DISK FILE ID=…]``),
  ``#BR#`` is a line break, a line starting with ``>>`` is a quote and a text
  between two lines of dashes is a quoted message with its author
  (apidocs.bitrix24.com, «Message Formatting» and «Text Formatting (BB
  Codes)»); Bitrix24 has no escape character for them. So the characters that
  open markup are replaced with look-alikes, which read the same and which no
  BB-code or HTML parser takes for markup: ``[ ] < >`` → ``［ ］ ＜ ＞``
  (full width), the ``#`` of ``#BR#`` → ``＃`` and a run of four or more
  ``-`` → as many ``‐`` (U+2010 HYPHEN).
* :func:`printable` — what the CLI and the logs print: every character that
  is not printable (line breaks included) is shown as a Python escape, so a
  value can never start a line of its own.

:class:`Trusted` marks a value an admin chose to pass as markup (the
``trusted`` template filter); :func:`neutralise` leaves it as it is.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["Trusted", "clean_text", "neutralise", "one_line", "printable"]

#: Bidirectional embeddings, overrides and isolates: they reorder what a reader sees.
_BIDI: Final = "\u202a-\u202e\u2066-\u2069"
#: Line breaks as Unicode (and str.splitlines) knows them.
_BREAKS: Final = "\n\r\v\f\x1c-\x1e\x85\u2028\u2029"
_DROP: Final = re.compile(f"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f{_BIDI}]")
_ONE_LINE_SPACE: Final = re.compile(f"[ \t]*[\t{_BREAKS}]+[ \t]*")
_LINE_BREAK: Final = re.compile(f"\r\n|[{_BREAKS}]")
_BB_BREAK: Final = re.compile("#(br)#", re.IGNORECASE)
_DASHES: Final = re.compile("-{4,}")
#: Anything :func:`neutralise` would change: one search decides the common case.
_SPECIAL: Final = re.compile(
    f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\\[\\]<>]|#br#|----", re.IGNORECASE
)
_MARKUP: Final = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞"})


class Trusted(str):
    """A value to insert as it is (an admin's explicit choice: the ``trusted`` filter)."""

    __slots__ = ()


def one_line(text: str) -> str:
    """``text`` on one line: breaks and tabs become one space; controls and bidi marks go."""
    return _ONE_LINE_SPACE.sub(" ", _DROP.sub("", text))


def clean_text(text: str) -> str:
    """Multi-line text: every line break becomes ``\\n``; controls and bidi marks go."""
    return _LINE_BREAK.sub("\n", _DROP.sub("", text))


def neutralise(text: str) -> str:
    """``text`` as Bitrix24 shows it literally: no BB-code, no HTML, no control characters.

    A :class:`Trusted` value is returned unchanged.
    """
    if isinstance(text, Trusted) or _SPECIAL.search(text) is None:
        return text  # the common case: a name, a date, a sum
    cleaned = clean_text(text)
    cleaned = _DASHES.sub(lambda m: "‐" * len(m[0]), cleaned)
    return _BB_BREAK.sub("＃\\1＃", cleaned).translate(_MARKUP)


def printable(text: str) -> str:
    """``text`` with each non-printable character written as an escape (``\\n``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    # repr() of one character gives '\n', '\x85', '\u202e' — the forms a Python reader knows.
    return repr(char)[1:-1]
