"""``task`` and ``workflow``: work for people and business processes."""

from __future__ import annotations

from typing import Any, ClassVar

from edo_rules.actions.bitrix24.adapters import _schemas
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job, marker
from edo_rules.actions.bitrix24.binding import Binding
from edo_rules.actions.bitrix24.client import Call

_DOCUMENT_TYPES = {
    "deal": ("CCrmDocumentDeal", "DEAL"),
    "company": ("CCrmDocumentCompany", "COMPANY"),
}


class TaskAction(Bitrix24Action):
    """A task (``tasks.task.add``) bound to the deal and company, with ``XML_ID`` as our key.

    :meth:`check` finds the task by ``XML_ID`` with ``tasks.task.list``.
    """

    name: ClassVar[str] = "task"
    params_schema = _schemas.TASK
    can_check: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        params = job.request.params
        fields: dict[str, Any] = {
            "TITLE": params["title"],
            "RESPONSIBLE_ID": self._recipient(job, params["responsible"]),
            "DESCRIPTION": params.get("description", ""),
            "XML_ID": marker(job.request.idempotency_key),
        }
        if "deadline" in params:
            fields["DEADLINE"] = self._deadline(params["deadline"])
        auditors = [self._recipient(job, a) for a in params.get("auditors", [])]
        if auditors:
            fields["AUDITORS"] = auditors
        crm = _crm_links(job.binding)
        if crm:
            fields["UF_CRM_TASK"] = crm
        return Call("tasks.task.add", {"fields": fields})

    def _remote_id(self, job: Job, result: Any) -> str | None:
        task = result.get("task") if isinstance(result, dict) else None
        return str(task["id"]) if isinstance(task, dict) and "id" in task else None

    def _find_call(self, job: Job) -> Call:
        params = {"filter": {"XML_ID": marker(job.request.idempotency_key)}, "select": ["ID"]}
        return Call("tasks.task.list", params, idempotent=True)

    def _lookup(self, job: Job) -> str | None:
        call = self._find_call(job)
        return self._found(
            job, self._ctx.client.call(call.method, call.params, idempotent=True).result
        )

    def _found(self, job: Job, result: Any) -> str | None:
        tasks = result.get("tasks") if isinstance(result, dict) else None
        if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
            return str(tasks[0].get("id"))
        return None


class WorkflowAction(Bitrix24Action):
    """Starts a business process (``bizproc.workflow.start``) on the deal or company.

    A started workflow has no external key, so it cannot be checked after a
    crash: an in-flight request becomes IN_DOUBT rather than being started twice.
    """

    name: ClassVar[str] = "workflow"
    params_schema = _schemas.WORKFLOW

    def _build(self, job: Job) -> Call:
        params = job.request.params
        kind, owner = self._deal_or_company(job, params.get("on"))
        entity, prefix = _DOCUMENT_TYPES[kind]
        fields: dict[str, Any] = {
            "TEMPLATE_ID": params["template_id"],
            "DOCUMENT_ID": ["crm", entity, f"{prefix}_{owner}"],
        }
        if params.get("parameters"):
            fields["PARAMETERS"] = dict(params["parameters"])
        return Call("bizproc.workflow.start", fields)


def _crm_links(binding: Binding | None) -> list[str]:
    if binding is None:
        return []
    links = [f"D_{binding.deal_id}"] if binding.deal_id else []
    return links + ([f"CO_{binding.company_id}"] if binding.company_id else [])
