"""``notify``, ``comment`` and ``todo``: messages to people and notes on CRM cards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from edo_rules.actions.bitrix24.adapters import _digest, _schemas
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job, marker
from edo_rules.actions.bitrix24.client import Call
from edo_rules.model import OutcomeStatus

_OWNER_TYPE = {"deal": 2, "company": 4}


class NotifyAction(Bitrix24Action):
    """A system notification (``im.notify.system.add``) to one user.

    The notification carries a TAG (the ``tag`` parameter, else a key derived
    from the request's idempotency key); a new notification with the same TAG
    replaces the earlier one, so re-sending is safe and :meth:`check` always
    answers "send it" (None). Through a webhook a TAG needs ``CLIENT_ID``.
    """

    name: ClassVar[str] = "notify"
    params_schema = _schemas.NOTIFY
    can_check: ClassVar[bool] = True
    idempotent: ClassVar[bool] = True

    def _wants_binding(self, job: Job) -> bool:
        return not isinstance(job.request.params.get("to"), int)

    def _build(self, job: Job) -> Call:
        params = job.request.params
        fields: dict[str, Any] = {
            "USER_ID": self._recipient(job, params["to"]),
            "MESSAGE": params["text"],
            "TAG": params.get("tag") or marker(job.request.idempotency_key),
        }
        if self._ctx.settings.webhook_url is not None:
            fields["CLIENT_ID"] = self._ctx.settings.client_id
        return Call("im.notify.system.add", fields, idempotent=True)

    def _lookup(self, job: Job) -> str | None:
        return None  # a re-send with the same TAG replaces the notification: always safe

    def _send(self, jobs: Sequence[Job]) -> None:
        """Now, or into the recipient's digest (asked for, or over the flood limits)."""
        routed = _digest.route(self._ctx, jobs)
        super()._send(routed.now)
        now = self._now()
        due: list[Job] = []
        for job in routed.digest:
            user = int(job.call.params["USER_ID"]) if job.call is not None else None
            at = _digest.moment(self._ctx, job.request.created_at, user)
            if at > now:
                wait = (at - now).total_seconds()
                reason = f"{_digest.HELD} {at:%d.%m.%Y %H:%M}"
                job.outcome = self._outcome(
                    job.request, OutcomeStatus.RETRY, reason=reason, retry_after=wait
                )
            else:
                due.append(job)
        messages = _digest.message_calls(self._ctx, due)
        calls = [call for call, _ in messages] + routed.warnings
        replies = self._ctx.client.call_many(calls) if calls else []
        for (_, part), reply in zip(messages, replies, strict=False):
            for job in part:
                self._finish(job, reply)


class CommentAction(Bitrix24Action):
    """A timeline comment on the bound deal (or company) via ``crm.timeline.comment.add``.

    The API has no external key for comments, so the comment ends with a short
    marker derived from the idempotency key; :meth:`check` lists the card's
    comments and looks for it.
    """

    name: ClassVar[str] = "comment"
    params_schema = _schemas.COMMENT
    can_check: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        kind, owner = self._deal_or_company(job, job.request.params.get("on"))
        text = f"{job.request.params['text']}\n[i]#{marker(job.request.idempotency_key)}[/i]"
        fields = {"ENTITY_ID": owner, "ENTITY_TYPE": kind, "COMMENT": text}
        return Call("crm.timeline.comment.add", {"fields": fields})

    def _find_call(self, job: Job) -> Call:
        kind, owner = self._deal_or_company(job, job.request.params.get("on"))
        params = {
            "filter": {"ENTITY_ID": owner, "ENTITY_TYPE": kind},
            "select": ["ID", "COMMENT"],
            "order": {"ID": "DESC"},
        }
        return Call("crm.timeline.comment.list", params, idempotent=True)

    def _lookup(self, job: Job) -> str | None:
        call = self._find_call(job)
        return self._found(
            job, self._ctx.client.call(call.method, call.params, idempotent=True).result
        )

    def _found(self, job: Job, result: Any) -> str | None:
        key = marker(job.request.idempotency_key)
        for item in result if isinstance(result, list) else []:
            if isinstance(item, dict) and key in str(item.get("COMMENT", "")):
                return str(item.get("ID"))
        return None


class TodoAction(Bitrix24Action):
    """A to-do on the deal (or company) card via ``crm.activity.todo.add``.

    The to-do's description ends with a short marker derived from the
    idempotency key; :meth:`check` (and the look-up before creating what a
    store has no memory of) finds it with ``crm.activity.list`` filtered by the
    owner, ``PROVIDER_ID = CRM_TODO`` and ``%DESCRIPTION`` (a substring match)
    — so an in-doubt to-do heals itself like a task instead of waiting for the
    admin.
    """

    name: ClassVar[str] = "todo"
    params_schema = _schemas.TODO
    can_check: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        params = job.request.params
        kind, owner = self._deal_or_company(job, params.get("on"))
        fields: dict[str, Any] = {
            "ownerTypeId": _OWNER_TYPE[kind],
            "ownerId": owner,
            "deadline": self._deadline(params["deadline"]),
            "title": params["title"],
            "description": _with_marker(params.get("description", ""), job),
        }
        if "responsible" in params:
            fields["responsibleId"] = self._recipient(job, params["responsible"])
        return Call("crm.activity.todo.add", fields)

    def _remote_id(self, job: Job, result: Any) -> str | None:
        return str(result["id"]) if isinstance(result, dict) and "id" in result else None

    def _find_call(self, job: Job) -> Call:
        kind, owner = self._deal_or_company(job, job.request.params.get("on"))
        flt = {
            "OWNER_TYPE_ID": _OWNER_TYPE[kind],
            "OWNER_ID": owner,
            "PROVIDER_ID": "CRM_TODO",
            "%DESCRIPTION": marker(job.request.idempotency_key),
        }
        return Call("crm.activity.list", {"filter": flt, "select": ["ID"]}, idempotent=True)

    def _lookup(self, job: Job) -> str | None:
        call = self._find_call(job)
        return self._found(
            job, self._ctx.client.call(call.method, call.params, idempotent=True).result
        )

    def _found(self, job: Job, result: Any) -> str | None:
        rows = result if isinstance(result, list) else []
        return str(rows[0].get("ID")) if rows and isinstance(rows[0], dict) else None


def _with_marker(description: str, job: Job) -> str:
    """The description, ending with the request's marker (what a look-up searches for)."""
    mark = f"#{marker(job.request.idempotency_key)}"
    return f"{description}\n{mark}" if description else mark
