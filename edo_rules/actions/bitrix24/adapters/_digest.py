"""Digests and the flood guard for ``notify``.

A notification goes into the recipient's digest when the playbook asks
(``delivery: digest``), when the recipient chose digests (``bitrix24.digest.users``)
or when the recipient already got ``per_tick`` notifications from this tick or
``per_day`` today (the flood guard; the admin is told once per user and day).
Nothing is dropped: a digest item waits in the outbox (a retry whose reason
starts with :data:`HELD`) until the digest moment — the first working hour
(``digest.hour`` in ``bitrix24.timezone``) of the day it arose, or of the next
working day when it arose later — and then goes out with the other items of
the same user in one message. The message's TAG is derived from the items'
keys, so a re-send replaces it instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from edo_rules._untrusted import neutralise
from edo_rules.actions.bitrix24.adapters._base import Context, Job
from edo_rules.actions.bitrix24.client import Call
from edo_rules.model import Document

HELD: Final = "в сводку"
_PER_MESSAGE: Final = 50
_TEXT_LIMIT: Final = 300


@dataclass(slots=True)
class Routed:
    """Notify jobs split by how they go out."""

    now: list[Job] = field(default_factory=list)
    digest: list[Job] = field(default_factory=list)
    warnings: list[Call] = field(default_factory=list)


def route(ctx: Context, jobs: Sequence[Job]) -> Routed:
    """Send now, or fold into the digest (asked for, or over the flood limits)."""
    routed = Routed()
    guard = _Guard(ctx)
    for job in jobs:
        assert job.call is not None
        user = int(job.call.params["USER_ID"])
        if _wants_digest(ctx, job, user):
            routed.digest.append(job)
        elif guard.admit(user, job.request.created_at):
            routed.now.append(job)
        else:
            routed.digest.append(job)
            routed.warnings += guard.warn_once(user)
    guard.flush()
    return routed


def _wants_digest(ctx: Context, job: Job, user: int) -> bool:
    request = job.request
    return (
        request.params.get("delivery") == "digest"
        or user in ctx.settings.digest.users
        or (request.last_error or "").startswith(HELD)
    )


def moment(ctx: Context, created: datetime, user: int | None = None) -> datetime:
    """When the digest of ``user`` holding an item created at ``created`` goes out."""
    digest = ctx.settings.digest
    zone = ZoneInfo(digest.zones.get(user or 0, ctx.settings.timezone))
    hour = digest.hour
    local = created.astimezone(zone)
    start = datetime.combine(local.date(), time(hour), tzinfo=zone)
    if ctx.working_day(local.date()) and local < start + timedelta(hours=1):
        return max(start, local)
    day = local.date() + timedelta(days=1)
    for _ in range(60):  # the longest run of days off is far shorter
        if ctx.working_day(day):
            break
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=zone)


def message_calls(ctx: Context, jobs: Sequence[Job]) -> list[tuple[Call, list[Job]]]:
    """One ``im.notify.system.add`` per user (per 50 items) for the digest items due now."""
    by_user: dict[int, list[Job]] = {}
    for job in jobs:
        assert job.call is not None
        by_user.setdefault(int(job.call.params["USER_ID"]), []).append(job)
    calls = []
    for user, items in sorted(by_user.items()):
        for start in range(0, len(items), _PER_MESSAGE):
            part = items[start : start + _PER_MESSAGE]
            calls.append((_message(ctx, user, part), part))
    return calls


def _message(ctx: Context, user: int, jobs: Sequence[Job]) -> Call:
    keys = ",".join(sorted(job.request.idempotency_key for job in jobs))
    tag = "edo-digest-" + hashlib.sha256(keys.encode()).hexdigest()[:24]
    fields = {"USER_ID": user, "MESSAGE": digest_text(ctx, jobs), "TAG": tag}
    if ctx.settings.webhook_url is not None:
        fields["CLIENT_ID"] = ctx.settings.client_id
    return Call("im.notify.system.add", fields, idempotent=True)


def digest_text(ctx: Context, jobs: Sequence[Job]) -> str:
    """The digest in Russian: each document with a link and its age in working days."""
    today = ctx.now().astimezone(ZoneInfo(ctx.settings.timezone)).date()
    lines = [f"Сводка на {today:%d.%m.%Y}: документы, которые ждут вашего внимания ({len(jobs)})"]
    for number, job in enumerate(jobs, start=1):
        lines.append(f"{number}. {_entry(ctx, job, today)}")
        text = str(job.request.params.get("text", "")).strip()
        if text:
            lines.append("   " + (text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + "…"))
    return "\n".join(lines)


def _entry(ctx: Context, job: Job, today: date) -> str:
    doc = job.document
    if doc is None:
        return f"документ {job.request.document_id}"
    link = _link(ctx, job, doc)
    # The title and the name come from 1C, the link may too (a PDF link): only our
    # [URL] tag may be markup.
    title = neutralise(doc.title)
    if link:
        title = f"[URL={link.replace('[', '%5B').replace(']', '%5D')}]{title}[/URL]"
    since = doc.sent_at or doc.status_changed_at
    age = "" if since is None else f", {_working_days(ctx, since, today)} раб. дн."
    return f"{title} — {neutralise(doc.counterparty.name)}{age}"


def _link(ctx: Context, job: Job, doc: Document) -> str | None:
    deal = job.binding.deal_id if job.binding is not None else None
    base = _portal(ctx)
    if deal and base:
        return f"{base}/crm/deal/details/{deal}/"
    return doc.pdf_url


def _portal(ctx: Context) -> str | None:
    settings = ctx.settings
    url = settings.webhook_url.reveal() if settings.webhook_url is not None else None
    if url is None and settings.oauth is not None:
        url = settings.oauth.portal_url
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _working_days(ctx: Context, since: datetime, today: date) -> int:
    day = since.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    count = 0
    while day < today and count < 10_000:
        day += timedelta(days=1)
        count += ctx.working_day(day)
    return count


class _Guard:
    """Per-recipient counters in the store's cache: this tick's and today's notifications."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._zone = ZoneInfo(ctx.settings.timezone)
        self._today = ctx.now().astimezone(self._zone).date()
        self._counts: dict[str, int] = {}  # read once per batch, written back by flush()
        self._changed: set[str] = set()

    def admit(self, user: int, created: datetime) -> bool:
        limits = self._ctx.settings.digest
        tick_key = f"flood:tick:{user}:{created.isoformat()}"
        day_key = f"flood:day:{user}:{self._today.isoformat()}"
        tick, day = self._count(tick_key), self._count(day_key)
        if tick >= limits.per_tick or day >= limits.per_day:
            return False
        self._put(tick_key, tick + 1)
        self._put(day_key, day + 1)
        return True

    def warn_once(self, user: int) -> list[Call]:
        key = f"flood:told:{user}:{self._today.isoformat()}"
        admin = self._ctx.settings.digest.admin or self._ctx.settings.fallback_user
        if admin is None or self._count(key):
            return []
        self._put(key, 1)
        limits = self._ctx.settings.digest
        text = (
            f"edo-rules: пользователю {user} сегодня ({self._today:%d.%m.%Y}) уже отправлено"
            f" {limits.per_day} уведомлений за день или {limits.per_tick} за один такт."
            " Остальные не потеряны: они придут ему одной сводкой в начале рабочего дня."
        )
        tag = f"edo-flood-{user}-{self._today.isoformat()}"
        fields = {"USER_ID": admin, "MESSAGE": text, "TAG": tag}
        if self._ctx.settings.webhook_url is not None:
            fields["CLIENT_ID"] = self._ctx.settings.client_id
        return [Call("im.notify.system.add", fields, idempotent=True)]

    def flush(self) -> None:
        # Kept two days: long enough for "today" in any zone, short enough to stay small.
        until = self._ctx.now() + timedelta(days=2)
        for key in sorted(self._changed):
            self._ctx.store.cache_put(key, json.dumps(self._counts[key]), until)
        self._changed.clear()

    def _count(self, key: str) -> int:
        if key not in self._counts:
            raw = self._ctx.store.cache_get(key, self._ctx.now())
            self._counts[key] = int(json.loads(raw)) if raw is not None else 0
        return self._counts[key]

    def _put(self, key: str, value: int) -> None:
        self._counts[key] = value
        self._changed.add(key)
