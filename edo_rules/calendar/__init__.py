"""The official Russian production calendar (производственный календарь).

``ProductionCalendar.russia()`` answers from the bundled, versioned data file
``data/ru.json`` (built from public data sets and cross-checked; see its
``provenance`` block), lets a YAML override file add late decrees or company
days, and derives unknown years from Labour Code art. 112 with a warning.
"""

from edo_rules.calendar._calendar import FIRST_YEAR, LAST_YEAR, ProductionCalendar
from edo_rules.calendar._data import YearStatus
from edo_rules.calendar._year import DayInfo, DayKind
from edo_rules.errors import CalendarError, CalendarWarning

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "CalendarError",
    "CalendarWarning",
    "DayInfo",
    "DayKind",
    "ProductionCalendar",
    "YearStatus",
]
