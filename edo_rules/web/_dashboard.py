"""What the dashboard serves from: the store (read-only), calendar, access, links."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar
from zoneinfo import ZoneInfo

from edo_rules.store._sqlite_dashboard import OFFSET_MINUTES
from edo_rules.web import _queries as q
from edo_rules.web._access import Access
from edo_rules.web._agenda import DEFAULT_DAYS, AgendaCache
from edo_rules.web._sql import Dialect

if TYPE_CHECKING:
    from edo_rules.engine import Engine
    from edo_rules.store.base import Store

#: How long the filter form's lists of organisations and managers, and what the store
#: keeps (its summary, the ledger's counts), are kept, seconds.
CHOICES_SECONDS = 10.0
T = TypeVar("T")
#: Opens the store for one request (a store object belongs to one thread).
StoreOpener = Callable[[], AbstractContextManager["Store"]]
#: Builds an engine over a store (for explain and the agenda's scratch simulation).
EngineFactory = Callable[["Store"], "Engine"]


class _Kept(Generic[T]):
    """A value read again once it is older than the given seconds (``time.monotonic``)."""

    def __init__(self) -> None:
        self._pair: tuple[float, T] | None = None

    def get(self, seconds: float, read: Callable[[], T]) -> T:
        pair, now = self._pair, time.monotonic()
        if pair is None or now - pair[0] >= seconds:
            pair = (now, read())
            self._pair = pair  # one assignment: threads see the old or the new pair
        return pair[1]


@dataclass(frozen=True, slots=True)
class Links:
    """Where the document page links to: the Bitrix24 portal and a 1C web client."""

    portal: str | None = None  # https://example.bitrix24.ru
    onec: str | None = None  # a URL template with {id}, e.g. …/#e1cib/data/…?ref={id}


@dataclass(frozen=True, slots=True)
class DocumentSource:
    open_store: StoreOpener
    engine: EngineFactory | None = None


@dataclass(slots=True)
class Dashboard:
    """What the dashboard reads: the store (read-only), the calendar, today's date."""

    reader: q.Reader
    dialect: Dialect
    calendar: q.Days
    zone: ZoneInfo
    clock: Callable[[], datetime]
    access: Access = field(default_factory=Access)
    overdue_after: int = 3
    frame_ancestors: tuple[str, ...] = ()
    documents: DocumentSource | None = None
    agenda: AgendaCache | None = None
    links: Links = field(default_factory=Links)

    #: How long the filter form's lists are kept, seconds.
    choices_seconds: float = CHOICES_SECONDS
    #: What the store keeps, and the filter form's lists (see the methods below).
    _probes: _Kept[Probes] = field(default_factory=_Kept, init=False, repr=False)
    _choices: _Kept[dict[str, list[str]]] = field(default_factory=_Kept, init=False, repr=False)

    def warm(self) -> None:
        """Start what the first views would wait for: the agenda's default horizon."""
        if self.agenda is not None:
            self.agenda.warm(DEFAULT_DAYS)

    def close(self) -> None:
        """Stop the agenda's background simulations (the server is stopping)."""
        if self.agenda is not None:
            self.agenda.close()

    def choices(self) -> dict[str, list[str]]:
        """The filter form's organisations and managers, read again after
        ``choices_seconds``: every page shows the form, and on PostgreSQL its two
        look-ups were 1-2.5 ms of a 5 ms search page. A new manager appears in the
        list that much later; a filter in the query string works at once."""
        return self._choices.get(self.choices_seconds, self._read_choices)

    def _read_choices(self) -> dict[str, list[str]]:
        ctx = self.context()
        return {
            "organization": q.choices(ctx, "organization"),
            "manager": q.choices(ctx, "responsible"),
        }

    def context(self) -> q.Context:
        """What one request reads with. What the store keeps (its summary, the ledger's
        counts) is asked again after ``choices_seconds`` too: it changes only when the
        store is migrated or its summary rebuilt, and asking cost each page two more
        statements (on PostgreSQL, two round trips)."""
        probes = self._probes.get(self.choices_seconds, lambda: probe(self.reader))
        return context(
            self.reader,
            self.dialect,
            self.calendar,
            self.clock(),
            self.zone,
            self.overdue_after,
            probes,
        )


#: What the store keeps: (its summary, the summary's spans agree with the reader's
#: calendar, the ledger's counts).
Probes = tuple[bool, bool, bool]


def probe(reader: q.Reader) -> Probes:
    """Ask the store what it keeps (see :data:`Probes`)."""
    summary, same_calendar = reader.summary()
    return summary, same_calendar, reader.ledger()


def context(  # noqa: PLR0917 -- what every request reads with, in one place
    reader: q.Reader,
    dialect: Dialect,
    calendar: q.Days,
    now: datetime,
    zone: ZoneInfo,
    overdue_after: int,
    probes: Probes | None = None,
) -> q.Context:
    """What one request reads with: "today" in ``zone``, and what the store's summary serves
    (``probes``, or asked of the store now)."""
    summary, same_calendar, ledger = probes or probe(reader)
    # The summary's spans count local days at the store's offset (Moscow's).
    spans = same_calendar and dialect.offset_minutes == OFFSET_MINUTES
    today = now.astimezone(zone).date()
    return q.Context(reader, dialect, calendar, today, overdue_after, summary, spans, ledger)
