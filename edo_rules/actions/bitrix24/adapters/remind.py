"""``remind_counterparty``: an e-mail from the CRM to the counterparty's contact person.

The e-mail is a CRM activity of type «Письмо» (``crm.activity.add`` with
``TYPE_ID`` 4, ``DIRECTION`` 2 outgoing, ``COMPLETED`` "Y" — sent at once),
owned by the deal (or company) so it shows in the card, addressed to the
contact's ``EMAIL`` through ``COMMUNICATIONS`` (``ENTITY_TYPE_ID`` 3). The
contact is the deal's primary contact (``crm.deal.contact.items.get``), else
the company's contacts (``crm.contact.list``). Our key goes into
``ORIGIN_ID``, so a request is looked up (``crm.activity.list``) before it is
sent and after a crash.

A document gets at most one reminder per ``every`` (default 5 working days):
the time of the last one is kept in the store. When no contact has an
e-mail the request fails with the reason and — unless ``no_email: fail`` —
a task goes to the responsible manager instead (``tasks.task.add``, keyed by
``XML_ID`` so it is created once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from edo_rules import ru
from edo_rules._untrusted import neutralise
from edo_rules.actions.bitrix24 import _deadline
from edo_rules.actions.bitrix24.adapters import _schemas
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job, marker
from edo_rules.actions.bitrix24.client import Call
from edo_rules.errors import ActionError
from edo_rules.model import Outcome, OutcomeStatus

ORIGINATOR = "edo-rules"
_OWNER_TYPE = {"deal": 2, "company": 4}
_CONTACT = 3
_EMAIL = 4
_OUTGOING = 2
_PLAIN_TEXT = 1
_RATE_PREFIX = "bitrix24:remind:v1:"


class RemindCounterpartyAction(Bitrix24Action):
    """Sends the reminder e-mail through the CRM; see the module docstring."""

    name: ClassVar[str] = "remind_counterparty"
    params_schema = _schemas.REMIND
    can_check: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        kind, owner = self._deal_or_company(job, job.request.params.get("on"))
        job.extra["owner"] = (kind, owner)
        return _find_call(job)

    def _send(self, jobs: Sequence[Job]) -> None:
        # Each step goes out for all requests at once (one batch), so that a morning's
        # reminders cost a handful of requests, not a handful per reminder.
        fresh = self._not_sent_yet(jobs)
        fresh = [job for job in fresh if not self._rate_limited(job)]
        contacts = self._contacts(fresh)
        ready: list[tuple[Job, int, str]] = []
        for job in fresh:
            found = contacts.get(id(job))
            if job.outcome is not None:
                continue
            if found is None:
                self._step(job, lambda j: setattr(j, "outcome", self._no_email(j)))
            else:
                ready.append((job, *found))
        self._send_emails(ready)

    def _step(self, job: Job, step: Callable[[Job], None]) -> None:
        try:
            step(job)
        except ActionError as exc:
            job.outcome = self._before_send(job, exc)

    def _not_sent_yet(self, jobs: Sequence[Job]) -> list[Job]:
        replies = self._ctx.client.call_many([_find_call(job) for job in jobs])
        fresh: list[Job] = []
        for job, reply in zip(jobs, replies, strict=True):
            if reply.error is not None:
                job.outcome = self._before_send(job, reply.error)
            elif (existing := _first_activity(reply.result)) is not None:
                self._remember(job)
                job.outcome = self._done(job, existing)
            else:
                fresh.append(job)
        return fresh

    def _rate_limited(self, job: Job) -> bool:
        recent = self._recent(job)
        if recent is not None:
            job.outcome = self._outcome(job.request, OutcomeStatus.DONE, reason=recent)
        return recent is not None

    def _send_emails(self, ready: list[tuple[Job, int, str]]) -> None:
        senders = self._senders([job for job, _, _ in ready])
        calls: list[tuple[Job, Call]] = []
        for job, contact, email in ready:
            try:
                calls.append((job, self._email_call(job, contact, email, senders)))
            except ActionError as exc:
                job.outcome = self._before_send(job, exc)
        replies = self._ctx.client.call_many([call for _, call in calls])
        for (job, _), reply in zip(calls, replies, strict=True):
            if reply.error is not None:
                job.outcome = self._failure(job, reply.error)
            else:
                self._remember(job)
                job.outcome = self._done(job, None if reply.result is None else str(reply.result))

    # -- the rate limit ----------------------------------------------------------------------
    def _recent(self, job: Job) -> str | None:
        raw = self._ctx.store.cache_get(_RATE_PREFIX + job.request.document_id, self._now())
        if raw is None:
            return None
        last = json.loads(raw)
        return (
            f"не отправлено: контрагенту уже напоминали {last['at']}; следующее напоминание "
            f"по этому документу — не раньше {last['until']}"
        )

    def _remember(self, job: Job) -> None:
        now = self._now()
        every = job.request.params.get("every", "5 рабочих дней")
        until = self._until(every, now)
        zone = ZoneInfo(self._ctx.settings.timezone)
        value = {"at": ru.full_datetime(now, zone), "until": ru.full_datetime(until, zone)}
        self._ctx.store.cache_put(
            _RATE_PREFIX + job.request.document_id, json.dumps(value, ensure_ascii=False), until
        )

    def _until(self, every: str, now: datetime) -> datetime:
        settings = self._ctx.settings
        try:
            end = _deadline.deadline(
                every,
                now,
                zone=settings.timezone,
                end_hour=0,
                working_day=self._ctx.working_day,
            )
        except ValueError as exc:
            raise ActionError(str(exc), retryable=False, code="BAD_PARAMS") from None
        return max(end, now + timedelta(minutes=1))

    # -- the contact ---------------------------------------------------------------------
    def _contacts(self, jobs: Sequence[Job]) -> dict[int, tuple[int, str]]:
        """(contact id, e-mail) per job: the first bound contact that has an e-mail."""
        candidates = self._contact_ids(jobs)
        every = list(dict.fromkeys(c for ids in candidates.values() for c in ids))
        calls = [Call("crm.contact.get", {"id": c}, idempotent=True) for c in every]
        emails: dict[int, str | None] = {}
        for contact, reply in zip(every, self._ctx.client.call_many(calls), strict=True):
            emails[contact] = _first_email(reply.result) if reply.error is None else None
        found: dict[int, tuple[int, str]] = {}
        for job in jobs:
            for contact in candidates.get(id(job), []):
                email = emails.get(contact)
                if email is not None:
                    found[id(job)] = (contact, email)
                    break
        return found

    def _contact_ids(self, jobs: Sequence[Job]) -> dict[int, list[int]]:
        """Contact ids per job: the deal's (primary first), then the company's."""
        calls: list[tuple[Job, str, Call]] = []
        for job in jobs:
            binding = job.binding
            if binding is not None and binding.deal_id:
                params = {"id": binding.deal_id}
                calls.append((job, "deal", Call("crm.deal.contact.items.get", params, True)))
            if binding is not None and binding.company_id:
                query = {
                    "filter": {"COMPANY_ID": binding.company_id},
                    "select": ["ID"],
                    "order": {"ID": "ASC"},
                }
                calls.append((job, "company", Call("crm.contact.list", query, True)))
        replies = self._ctx.client.call_many([call for _, _, call in calls])
        ids: dict[int, list[int]] = {}
        for (job, kind, _), reply in zip(calls, replies, strict=True):
            if reply.error is not None:
                job.outcome = self._before_send(job, reply.error)
                continue
            ids.setdefault(id(job), []).extend(_contact_rows(reply.result, kind))
        return {k: list(dict.fromkeys(v)) for k, v in ids.items()}

    # -- the e-mail and the fallback task ----------------------------------------------
    def _email_call(
        self, job: Job, contact: int, email: str, senders: dict[int, str | None]
    ) -> Call:
        assert job.document is not None
        params, (kind, owner) = job.request.params, job.extra["owner"]
        responsible = self._recipient(job, "responsible")
        now = self._now()
        fields: dict[str, Any] = {
            "OWNER_TYPE_ID": _OWNER_TYPE[kind],
            "OWNER_ID": owner,
            "TYPE_ID": _EMAIL,
            "DIRECTION": _OUTGOING,
            "COMPLETED": "Y",
            "SUBJECT": params.get("subject") or f"Напоминание: {job.document.title}",
            "DESCRIPTION": params["text"],
            "DESCRIPTION_TYPE": _PLAIN_TEXT,
            "RESPONSIBLE_ID": responsible,
            "START_TIME": now.isoformat(timespec="seconds"),
            "END_TIME": (now + timedelta(hours=1)).isoformat(timespec="seconds"),
            "COMMUNICATIONS": [{"VALUE": email, "ENTITY_ID": contact, "ENTITY_TYPE_ID": _CONTACT}],
            "ORIGIN_ID": marker(job.request.idempotency_key),
            "ORIGINATOR_ID": ORIGINATOR,
        }
        sender = senders.get(responsible)
        if sender is not None:
            fields["SETTINGS"] = {"MESSAGE_FROM": sender}
        return Call("crm.activity.add", {"fields": fields})

    def _senders(self, jobs: Sequence[Job]) -> dict[int, str | None]:
        """«Имя Фамилия <e-mail>» of each responsible user (``MESSAGE_FROM``), by user id."""
        users: list[int] = []
        for job in jobs:
            try:
                users.append(self._recipient(job, "responsible"))
            except ActionError:
                continue  # the e-mail call reports it for this job
        unique = list(dict.fromkeys(users))
        calls = [Call("user.get", {"ID": u}, idempotent=True) for u in unique]
        replies = self._ctx.client.call_many(calls)
        return {
            u: _sender(r.result) if r.error is None else None
            for u, r in zip(unique, replies, strict=True)
        }

    def _no_email(self, job: Job) -> Outcome:
        assert job.document is not None
        doc = job.document
        reason = (
            f"не отправлено: ни у одного контакта {doc.counterparty.name} в сделке или компании "
            "нет e-mail; добавьте e-mail контактному лицу в Битрикс24"
        )
        if job.request.params.get("no_email", "task") == "fail":
            return self._fail(job, reason)
        task = self._fallback_task(job)
        return self._fail(job, f"{reason}; менеджеру поставлена задача {task}")

    def _fallback_task(self, job: Job) -> str:
        assert job.document is not None
        key = marker(job.request.idempotency_key + ":no-email")
        found = self._ctx.client.call(
            "tasks.task.list", {"filter": {"XML_ID": key}, "select": ["ID"]}, idempotent=True
        ).result
        tasks = found.get("tasks") if isinstance(found, dict) else None
        if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
            return str(tasks[0].get("id"))
        doc = job.document
        # the name, the title and the ИНН come from 1C: text, not markup
        name, title = neutralise(doc.counterparty.name), neutralise(doc.title)
        inn = neutralise(doc.counterparty.inn or "—")
        fields = {
            "TITLE": f"Напомнить {name} о подписании: {title}",
            "DESCRIPTION": "Письмо-напоминание не отправлено: у контактов контрагента нет "
            f"e-mail. Свяжитесь с контрагентом (ИНН {inn}) и добавьте e-mail контактному лицу.",
            "RESPONSIBLE_ID": self._recipient(job, "responsible"),
            "XML_ID": key,
        }
        if job.binding is not None and job.binding.deal_id:
            fields["UF_CRM_TASK"] = [f"D_{job.binding.deal_id}"]
        reply = self._ctx.client.call("tasks.task.add", {"fields": fields})
        task = reply.result.get("task") if isinstance(reply.result, dict) else None
        return str(task.get("id")) if isinstance(task, dict) else "?"

    def _lookup(self, job: Job) -> str | None:
        call = _find_call(job)
        return _first_activity(
            self._ctx.client.call(call.method, call.params, idempotent=True).result
        )


def _find_call(job: Job) -> Call:
    params = {
        "filter": {"ORIGIN_ID": marker(job.request.idempotency_key), "ORIGINATOR_ID": ORIGINATOR},
        "select": ["ID"],
    }
    return Call("crm.activity.list", params, idempotent=True)


def _first_activity(result: Any) -> str | None:
    rows = result if isinstance(result, list) else []
    return str(rows[0].get("ID")) if rows and isinstance(rows[0], dict) else None


def _contact_rows(result: Any, kind: str) -> list[int]:
    rows = [r for r in result if isinstance(r, dict)] if isinstance(result, list) else []
    if kind == "deal":  # crm.deal.contact.items.get: the primary contact first
        rows.sort(key=lambda r: (r.get("IS_PRIMARY") != "Y", int(r.get("SORT") or 0)))
        return [int(r["CONTACT_ID"]) for r in rows if r.get("CONTACT_ID")]
    return [int(r["ID"]) for r in rows if r.get("ID")]


def _sender(users: Any) -> str | None:
    user = users[0] if isinstance(users, list) and users else {}
    email = user.get("EMAIL") if isinstance(user, dict) else None
    if not email:
        return None
    name = " ".join(str(user.get(k) or "") for k in ("NAME", "LAST_NAME")).strip()
    return f"{name} <{email}>" if name else str(email)


def _first_email(record: Any) -> str | None:
    values = record.get("EMAIL") if isinstance(record, dict) else None
    for value in values if isinstance(values, list) else []:
        if isinstance(value, dict) and str(value.get("VALUE") or "").strip():
            return str(value["VALUE"]).strip()
    return None
