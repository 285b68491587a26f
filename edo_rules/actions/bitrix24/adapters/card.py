"""``card_status`` and ``timeline``: the documents' state inside the deal and company card.

``card_status`` rewrites a string user field of the bound deal and company
with one Russian line per document of that card (``crm.deal.update`` /
``crm.company.update``), and a link field when configured. The whole value is
written every time, so re-sending is harmless and a crash loses nothing.

``timeline`` adds a log message (``crm.timeline.logmessage.add``) — the
signing history in the card. The API has no external key for a log message,
so after a crash :meth:`check` lists the record's log messages (10 a page,
newest first) and looks for one with the same title and text: the text is
rendered when the rule fires (it names the status and its time), so it is
the same on every retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from edo_rules import ru
from edo_rules._messages import Text, msg
from edo_rules._untrusted import neutralise, one_line
from edo_rules.actions.bitrix24 import card_index
from edo_rules.actions.bitrix24._card_settings import CardSettings
from edo_rules.actions.bitrix24.adapters import _schemas
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job
from edo_rules.actions.bitrix24.client import Call, Reply
from edo_rules.calendar import FIRST_YEAR
from edo_rules.errors import ActionError
from edo_rules.model import Document, OutcomeStatus, Status

_OWNER_TYPE = {"deal": 2, "company": 4}
_UPDATE = {"deal": "crm.deal.update", "company": "crm.company.update"}
_LOOKUP_PAGES = 5
_MAX_WAIT_DAYS = 366  # bounds the working-day walk for a very old "sent"
_FIRST_DAY = date(FIRST_YEAR, 1, 1)  # the production calendar counts no earlier day


class _NoCardError(ActionError):
    """No card to write to: with the bundled rule running for every document, an unbound
    document is a no-op recorded with its reason, not a failure repeated at every status."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason, retryable=False, code="NOT_BOUND")


class _CardPrepare(Bitrix24Action):
    def _prepare(self, job: Job) -> None:
        try:
            super()._prepare(job)
        except _NoCardError as exc:
            job.outcome = self._outcome(job.request, OutcomeStatus.DONE, reason=str(exc))


class CardStatusAction(_CardPrepare):
    """Keeps the card's summary field (and link) up to date; see the module docstring."""

    name: ClassVar[str] = "card_status"
    params_schema = _schemas.CARD_STATUS
    can_check: ClassVar[bool] = True
    idempotent: ClassVar[bool] = True

    def _card(self) -> CardSettings:
        card = self._ctx.settings.card
        if card is None:
            raise ActionError(
                msg("b24_card_not_configured"),
                retryable=False,
                code="NOT_CONFIGURED",
                hint=msg("b24_hint_card"),
            )
        return card

    def _build(self, job: Job) -> Call:
        card, binding = self._card(), job.binding
        wanted = job.request.params.get("on", "both")
        targets: list[tuple[str, int]] = []
        for entity in ("deal", "company"):
            record = getattr(binding, f"{entity}_id") if binding else None
            if record and card.field_for(entity) and wanted in ("both", entity):
                targets.append((entity, record))
        if not targets:
            raise _NoCardError(msg("b24_no_card"))
        job.extra["targets"] = targets
        return Call(_UPDATE[targets[0][0]], {"id": targets[0][1]}, idempotent=True)

    def _send(self, jobs: Sequence[Job]) -> None:
        now = self._now()
        touched: dict[tuple[str, int], None] = {}
        for job in jobs:
            binding = job.binding
            left = card_index.remember(
                self._ctx.store,
                job.request.document_id,
                deal=binding.deal_id if binding else None,
                company=binding.company_id if binding else None,
                now=now,
            )
            for target in [*job.extra["targets"], *left]:
                touched[target] = None
        calls = [self._write_call(entity, record, now) for entity, record in touched]
        replies = dict(zip(touched, self._ctx.client.call_many(calls), strict=True))
        for job in jobs:
            self._settle(job, [replies[t] for t in job.extra["targets"]])

    def _settle(self, job: Job, replies: list[Reply]) -> None:
        failed = next((r for r in replies if r.error is not None), None)
        if failed is not None and failed.error is not None:
            job.outcome = self._failure(job, failed.error)
        else:
            targets = job.extra["targets"]
            job.outcome = self._done(job, ",".join(f"{e}:{i}" for e, i in targets))

    def _write_call(self, entity: str, record: int, now: datetime) -> Call:
        card = self._card()
        field = card.field_for(entity)
        ids = card_index.documents_for(self._ctx.store, now=now, **{entity: record})
        docs = _ordered(self._ctx.store.get_documents(ids).values())
        zone = ZoneInfo(self._ctx.settings.timezone)
        today = now.astimezone(zone).date()
        count = _counter(self._ctx.working_day, self._ctx.working_days)
        # A line per document: a comment's line break or BB-code must not make it two.
        lines = [
            one_line(neutralise(ru.card_line(d, today=today, working_days=count,
                                             overdue_after=card.overdue_after, zone=zone)))
            for d in docs
        ]  # fmt: skip
        fields: dict[str, Any] = {}
        if field is not None:
            fields[field] = ru.card_text(lines, limit=card.max_lines)
        url = card.url_for(entity, record)
        if card.url_field and url:
            fields[card.url_field] = url
        return Call(_UPDATE[entity], {"id": record, "fields": fields}, idempotent=True)

    def _lookup(self, job: Job) -> str | None:
        return None  # the whole value is rewritten: re-sending is always safe


#: Decided documents: shown after the ones a manager still has to chase.
_DECIDED = frozenset({Status.SIGNED, Status.SIGNED_WITH_CORRECTIONS, Status.REVOKED, Status.CLOSED})


def _ordered(docs: Iterable[Document]) -> list[Document]:
    """What still waits first (the longest wait on top), then what is decided, newest first.

    The field shows at most ``max_lines`` lines: cutting must drop old signed
    documents, never the one the manager has to chase.
    """
    ordered = sorted(docs, key=_order)
    waiting = [doc for doc in ordered if doc.status not in _DECIDED]
    decided = [doc for doc in ordered if doc.status in _DECIDED]
    return [*waiting, *reversed(decided)]


def _order(doc: Document) -> tuple[date, str, str]:
    return (doc.date or date.min, doc.number, doc.id)


def _counter(
    working_day: Callable[[date], bool], between: ru.WorkingDaysBetween | None
) -> ru.WorkingDaysBetween:
    """Working days waited in ``(start, end]``; never negative (a date ahead of today).

    A wait that began before the calendar's first year is counted from that year:
    the calendar cannot count earlier days, and the card must still show the rest.
    """
    if between is not None:
        return lambda start, end: max(0, between(max(start, _FIRST_DAY), end))

    def count(start: date, end: date) -> int:
        start = max(start, _FIRST_DAY)
        days = min((end - start).days, _MAX_WAIT_DAYS)
        return sum(1 for n in range(1, days + 1) if working_day(start + timedelta(days=n)))

    return count


class TimelineAction(_CardPrepare):
    """A log message in the deal's (or company's) timeline; see the module docstring."""

    name: ClassVar[str] = "timeline"
    params_schema = _schemas.TIMELINE
    can_check: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        params = job.request.params
        try:
            kind, owner = self._deal_or_company(job, params.get("on"))
        except ActionError as exc:
            raise _NoCardError(msg("b24_nothing_written", reason=exc)) from None
        fields = {
            "entityTypeId": _OWNER_TYPE[kind],
            "entityId": owner,
            "title": params["title"],
            "text": params["text"],
            "iconCode": params.get("icon", "info"),
        }
        return Call("crm.timeline.logmessage.add", {"fields": fields})

    def _send(self, jobs: Sequence[Job]) -> None:
        # An entry identical to one of the card's newest is not news: two status events
        # seen in one tick render the same text, and a crash-retry must not repeat it.
        found = self._ctx.client.call_many([self._page_call(job, 0) for job in jobs])
        fresh: list[Job] = []
        for job, reply in zip(jobs, found, strict=True):
            same = _same(job, reply.result) if reply.error is None else None
            if reply.error is not None:
                job.outcome = self._before_send(job, reply.error)
            elif same is not None:
                job.outcome = self._done(job, same)
            else:
                fresh.append(job)
        first: dict[tuple[Any, ...], Job] = {}
        for job in fresh:
            first.setdefault(_entry_key(job), job)
        super()._send(list(first.values()))
        for job in fresh:
            written = first[_entry_key(job)].outcome
            if job.outcome is None and written is not None:
                job.outcome = self._outcome(
                    job.request,
                    written.status,
                    remote_id=written.remote_id,
                    reason=written.reason,
                    retry_after=written.retry_after,
                )

    def _page_call(self, job: Job, start: int) -> Call:
        kind, owner = self._deal_or_company(job, job.request.params.get("on"))
        query = {
            "entityTypeId": _OWNER_TYPE[kind],
            "entityId": owner,
            "order": {"id": "desc"},
            "start": start,
        }
        return Call("crm.timeline.logmessage.list", query, idempotent=True)

    def _remote_id(self, job: Job, result: Any) -> str | None:
        message = result.get("logMessage") if isinstance(result, dict) else result
        if isinstance(message, dict):
            return str(message.get("id"))
        return None if message is None else str(message)

    def _lookup(self, job: Job) -> str | None:
        for start in range(0, 10 * _LOOKUP_PAGES, 10):
            call = self._page_call(job, start)
            result = self._ctx.client.call(call.method, call.params, idempotent=True).result
            same = _same(job, result)
            if same is not None or len(_messages(result)) < 10:
                return same
        return None


def _entry_key(job: Job) -> tuple[Any, ...]:
    assert job.call is not None
    fields = job.call.params["fields"]
    return (fields["entityTypeId"], fields["entityId"], fields["title"], fields["text"])


def _same(job: Job, result: Any) -> str | None:
    """The id of a log message with the request's title and text, if the page has one."""
    title, text = job.request.params["title"], job.request.params["text"]
    for message in _messages(result):
        if message.get("title") == title and message.get("text") == text:
            return str(message.get("id"))
    return None


def _messages(result: Any) -> list[dict[str, Any]]:
    items = result.get("logMessages") if isinstance(result, dict) else result
    return [m for m in items if isinstance(m, dict)] if isinstance(items, list) else []
