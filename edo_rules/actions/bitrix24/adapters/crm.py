"""``deal_stage`` and ``invoice``: moving deals and billing in the CRM."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from edo_rules.actions.bitrix24.adapters import _schemas
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job, marker
from edo_rules.actions.bitrix24.client import Call
from edo_rules.errors import ActionError

SMART_INVOICE = 31


class DealStageAction(Bitrix24Action):
    """Moves the bound deal to a stage (``crm.deal.update``); writing a fixed value is idempotent.

    :meth:`check` reads the deal and compares its ``STAGE_ID``.
    """

    name: ClassVar[str] = "deal_stage"
    params_schema = _schemas.DEAL_STAGE
    can_check: ClassVar[bool] = True
    idempotent: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        _, deal = self._deal_or_company(job, "deal")
        params = {
            "id": deal,
            "fields": {"STAGE_ID": job.request.params["stage"]},
            "params": {"REGISTER_SONET_EVENT": "Y"},
        }
        return Call("crm.deal.update", params, idempotent=True)

    def _remote_id(self, job: Job, result: Any) -> str | None:
        return str(job.binding.deal_id) if job.binding else None

    def _lookup(self, job: Job) -> str | None:
        _, deal = self._deal_or_company(job, "deal")
        record = self._ctx.client.call("crm.deal.get", {"id": deal}, idempotent=True).result
        stage = record.get("STAGE_ID") if isinstance(record, dict) else None
        return str(deal) if stage == job.request.params["stage"] else None


class InvoiceAction(Bitrix24Action):
    """Creates a smart invoice (``crm.item.add``, entityTypeId 31) with ``xmlId`` as our key.

    ``xmlId`` is a plain stored field, so the adapter looks the key up before
    adding (``crm.item.list``) and :meth:`check` does the same after a crash.
    """

    name: ClassVar[str] = "invoice"
    params_schema = _schemas.INVOICE
    can_check: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        assert job.document is not None
        params, doc = job.request.params, job.document
        fields: dict[str, Any] = {
            "title": params.get("title") or f"Счёт по документу {doc.title}",
            "opportunity": _amount(params.get("amount", "from_document"), doc.amount, doc.id),
            "currencyId": doc.currency,
            "xmlId": marker(job.request.idempotency_key),
        }
        binding = job.binding
        if binding is not None and binding.company_id:
            fields["companyId"] = binding.company_id
        if binding is not None and binding.deal_id:
            fields["parentId2"] = binding.deal_id
        if params.get("stage"):
            fields["stageId"] = params["stage"]
        return Call("crm.item.add", {"entityTypeId": SMART_INVOICE, "fields": fields})

    def _send(self, jobs: Sequence[Job]) -> None:
        found = self._ctx.client.call_many([_find_call(job) for job in jobs])
        fresh: list[Job] = []
        for job, reply in zip(jobs, found, strict=True):
            existing = _first_id(reply.result) if reply.ok else None
            if reply.error is not None:
                job.outcome = self._before_send(job, reply.error)
            elif existing is not None:
                job.outcome = self._done(job, existing)
            else:
                fresh.append(job)
        super()._send(fresh)

    def _remote_id(self, job: Job, result: Any) -> str | None:
        item = result.get("item") if isinstance(result, dict) else None
        return str(item["id"]) if isinstance(item, dict) and "id" in item else None

    def _lookup(self, job: Job) -> str | None:
        reply = self._ctx.client.call(
            _find_call(job).method, _find_call(job).params, idempotent=True
        )
        return _first_id(reply.result)


def _find_call(job: Job) -> Call:
    params = {
        "entityTypeId": SMART_INVOICE,
        "filter": {"xmlId": marker(job.request.idempotency_key)},
        "select": ["id"],
    }
    return Call("crm.item.list", params, idempotent=True)


def _first_id(result: Any) -> str | None:
    items = result.get("items") if isinstance(result, dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return str(items[0].get("id"))
    return None


def _amount(spec: Any, amount: Decimal | None, document_id: str) -> float:
    if spec != "from_document":
        return float(spec)
    if amount is None:
        raise ActionError(
            f"document {document_id} has no amount for the invoice",
            retryable=False,
            code="BAD_PARAMS",
            hint="give the invoice an explicit amount in the playbook",
        )
    return float(amount)
