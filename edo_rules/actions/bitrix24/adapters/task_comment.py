"""``task_comment``: a repeat's ping — a comment on the task its step created.

The task is found by the ``XML_ID`` the ``task`` action gave it (derived from
that request's idempotency key, passed by the engine as ``of_key``), and the
comment added with ``task.commentitem.add``. A task the responsible already
closed gets no comment (done, with the reason recorded). The comment ends
with a marker of this request's key, so :meth:`check` finds it in
``task.commentitem.getlist`` after a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Final

from edo_rules._messages import msg
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job, marker
from edo_rules.actions.bitrix24.client import Call
from edo_rules.model import OutcomeStatus

TASK_COMMENT: Final = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "of_key": {"type": "string", "description": "set by the engine: the task request's key"},
    },
    "required": ["text"],
    "additionalProperties": False,
}
#: Task statuses after which a task is no longer open (4 waits for control, 5 completed).
_CLOSED: Final = frozenset({"4", "5"})


class TaskCommentAction(Bitrix24Action):
    """A comment on the episode's open task (``task.commentitem.add``)."""

    name: ClassVar[str] = "task_comment"
    params_schema = TASK_COMMENT
    can_check: ClassVar[bool] = True
    needs_binding: ClassVar[bool] = False

    def _prepare(self, job: Job) -> None:
        job.call = _find_task(job)  # replaced by the comment once the task is known

    def _send(self, jobs: Sequence[Job]) -> None:
        replies = self._ctx.client.call_many([_find_task(job) for job in jobs])
        ready: list[Job] = []
        for job, reply in zip(jobs, replies, strict=True):
            if reply.error is not None:
                job.outcome = self._before_send(job, reply.error)
                continue
            task = _first_task(reply.result)
            if task is None:
                job.outcome = self._outcome(job.request, OutcomeStatus.RETRY, reason=_missing(job))
            elif str(task.get("status")) in _CLOSED:
                reason = f"task {task.get('id')} is closed: no reminder on it"
                job.outcome = self._outcome(job.request, OutcomeStatus.DONE, reason=reason)
            else:
                job.call = self._comment(job, str(task.get("id")))
                ready.append(job)
        super()._send(ready)

    def _comment(self, job: Job, task_id: str) -> Call:
        text = f"{job.request.params['text']}\n#{marker(job.request.idempotency_key)}"
        return Call("task.commentitem.add", {"TASKID": task_id, "FIELDS": {"POST_MESSAGE": text}})

    def _lookup(self, job: Job) -> str | None:
        find = _find_task(job)
        task = _first_task(self._ctx.client.call(find.method, find.params, idempotent=True).result)
        if task is None:
            return None
        params = {"TASKID": str(task.get("id"))}
        found = self._ctx.client.call("task.commentitem.getlist", params, idempotent=True).result
        key = marker(job.request.idempotency_key)
        for item in found if isinstance(found, list) else []:
            if isinstance(item, dict) and key in str(item.get("POST_MESSAGE", "")):
                return str(item.get("ID"))
        return None


def _find_task(job: Job) -> Call:
    of_key = str(job.request.params.get("of_key", ""))
    params = {"filter": {"XML_ID": marker(of_key)}, "select": ["ID", "STATUS"]}
    return Call("tasks.task.list", params, idempotent=True)


def _first_task(result: Any) -> dict[str, Any] | None:
    tasks = result.get("tasks") if isinstance(result, dict) else None
    if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
        return tasks[0]
    return None


def _missing(job: Job) -> str:
    if not job.request.params.get("of_key"):
        return str(msg("b24_task_comment_no_key"))
    return str(msg("b24_task_not_yet"))
