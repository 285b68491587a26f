"""Durations as admins write them: "3 working days", "4 hours", "3 рабочих дня", "2 дня".

The number comes first, then the unit; English and Russian forms are both
accepted, in any grammatical number (Russian agreement is not enforced: "3
рабочих дней" is read as well as "3 рабочих дня"), case-insensitively.
"""

from __future__ import annotations

import re
from typing import Final

from edo_rules._messages import Text, msg
from edo_rules.playbook.rules import Duration, DurationUnit

#: Every accepted spelling of every unit (lower case, single spaces).
UNIT_WORDS: Final[dict[DurationUnit, tuple[str, ...]]] = {
    "working_days": (
        "working day",
        "working days",
        "рабочий день",
        "рабочих дня",
        "рабочих дней",
        "рабочего дня",
    ),
    "days": (
        "day",
        "days",
        "день",
        "дня",
        "дней",
        "календарный день",
        "календарных дня",
        "календарных дней",
        "calendar day",
        "calendar days",
    ),
    "hours": ("hour", "hours", "час", "часа", "часов"),
    "minutes": ("minute", "minutes", "минута", "минуты", "минут", "минуту"),
}

#: The largest amount per unit: about ten years, so that calendar walks stay bounded.
MAX_AMOUNT: Final[dict[DurationUnit, int]] = {
    "working_days": 2500,
    "days": 3650,
    "hours": 87600,
    "minutes": 5256000,
}

EXAMPLES: Final[str] = (
    "e.g. '3 working days', '2 days', '4 hours', '30 minutes', "
    "'3 рабочих дня', '5 рабочих дней', '2 дня', '4 часа'"
)

_WORD_TO_UNIT: Final[dict[str, DurationUnit]] = {
    word: unit for unit, words in UNIT_WORDS.items() for word in words
}
_SHAPE = re.compile(r"^\s*(\d{1,12})\s*([^\d\s.,].*?)\s*$")


def duration_pattern() -> str:
    """A regular expression accepting exactly what :func:`parse_duration` accepts.

    Published in the JSON Schema so that editors flag a bad duration as the
    loader would (modulo the amount limits, which the loader reports).
    """
    words = sorted(_WORD_TO_UNIT, key=len, reverse=True)
    alternatives = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else r"\s+" for c in word)
        for word in words
    )
    return rf"^\s*[0-9]{{1,12}}\s*({alternatives})\s*$"


class DurationSyntaxError(ValueError):
    """The text is not a duration; the message says what is expected."""


def parse_duration(text: str) -> Duration:
    """Parse "3 working days" / "3 рабочих дня" / "4 hours" into a :class:`Duration`.

    Raises :class:`DurationSyntaxError` with a message that shows the accepted forms.
    """
    shape = _SHAPE.match(text)
    if shape is None:
        raise DurationSyntaxError(
            msg("duration_syntax", text=text, examples=msg("duration_examples"))
        )
    amount = int(shape.group(1))
    word = " ".join(shape.group(2).lower().split())
    unit = _WORD_TO_UNIT.get(word)
    if unit is None:
        raise DurationSyntaxError(_unknown_unit(text, word))
    if amount > MAX_AMOUNT[unit]:
        limit, shown = MAX_AMOUNT[unit], unit.replace("_", " ")
        raise DurationSyntaxError(msg("duration_too_long", text=text, limit=limit, unit=shown))
    return Duration(amount=amount, unit=unit, text=" ".join(text.split()))


def _unknown_unit(text: str, word: str) -> Text:
    import difflib

    close = difflib.get_close_matches(word, list(_WORD_TO_UNIT), n=1, cutoff=0.6)
    hint = msg("did_you_mean", word=close[0]) if close else ""
    examples = msg("duration_examples")
    return msg("duration_unknown_unit", text=text, word=word, hint=hint, examples=examples)
