"""``deal_stage`` and ``invoice``: moving deals and billing in the CRM."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

from edo_rules._messages import msg
from edo_rules._untrusted import neutralise
from edo_rules.actions.bitrix24.adapters import _schemas
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job, marker
from edo_rules.actions.bitrix24.adapters._stages import StageOrder
from edo_rules.actions.bitrix24.client import Call
from edo_rules.errors import ActionError
from edo_rules.model import Outcome, OutcomeStatus

SMART_INVOICE = 31


class DealStageAction(Bitrix24Action):
    """Moves the bound deal forward to a stage (``crm.deal.update``); idempotent.

    Before the update the deal is read (``crm.deal.get``, batched): a closed
    deal is left alone, and so is a deal already at the stage or at a later
    one in its pipeline's order (``crm.status.list``, cached) unless the
    playbook says ``allow_backward: true``. Both count as done, with the
    reason recorded. :meth:`check` reads the deal and compares its ``STAGE_ID``.
    """

    name: ClassVar[str] = "deal_stage"
    params_schema = _schemas.DEAL_STAGE
    can_check: ClassVar[bool] = True
    idempotent: ClassVar[bool] = True

    def _send(self, jobs: Sequence[Job]) -> None:
        calls = [Call("crm.deal.get", {"id": self._deal(job)}, idempotent=True) for job in jobs]
        fresh: list[Job] = []
        for job, reply in zip(jobs, self._ctx.client.call_many(calls), strict=True):
            if reply.error is not None:
                job.outcome = self._before_send(job, reply.error)
                continue
            self._guard(job, partial(self._judge, deal=reply.result))
            if job.outcome is None:
                fresh.append(job)
        super()._send(fresh)

    def _deal(self, job: Job) -> int:
        return self._deal_or_company(job, "deal")[1]

    def _judge(self, job: Job, deal: Any) -> None:
        """Leave ``job.outcome`` unset to send; else done (nothing to do) or failed."""
        record = deal if isinstance(deal, dict) else {}
        target, current = job.request.params["stage"], record.get("STAGE_ID")
        deal_id = self._deal(job)
        if record.get("CLOSED") == "Y":
            job.outcome = self._skip(job, str(msg("b24_deal_closed", deal=deal_id, stage=current)))
            return
        if current == target:
            job.outcome = self._skip(job, str(msg("b24_deal_at_stage", deal=deal_id, stage=target)))
            return
        ctx = self._ctx
        order = StageOrder(ctx.client, ctx.store, ctx.now, ctx.settings.cache_ttl)
        stages = order.stages(int(record.get("CATEGORY_ID") or 0))
        if target not in stages:
            listed = ", ".join(stages) or msg("b24_no_stages")
            raise ActionError(
                msg("b24_stage_not_in_pipeline", stage=target, deal=deal_id, stages=listed),
                retryable=False,
                code="BAD_PARAMS",
                hint=msg("b24_hint_stage"),
            )
        backward = current in stages and stages.index(target) < stages.index(str(current))
        if backward and not job.request.params.get("allow_backward", False):
            job.outcome = self._skip(
                job,
                str(msg("b24_deal_not_back", deal=deal_id, current=current, target=target)),
            )

    def _skip(self, job: Job, reason: str) -> Outcome:
        return self._outcome(
            job.request, OutcomeStatus.DONE, remote_id=str(self._deal(job)), reason=reason
        )

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
    """Creates a smart invoice (``crm.item.add``, entityTypeId 31), once per (deal, document).

    ``xmlId`` carries a key made of the deal and the 1C document; it is a plain
    stored field, so the adapter looks the key up before adding
    (``crm.item.list``) and :meth:`check` does the same after a crash: a second
    rule, step or episode asking for the same document's invoice finds it.
    """

    name: ClassVar[str] = "invoice"
    params_schema = _schemas.INVOICE
    can_check: ClassVar[bool] = True

    def _build(self, job: Job) -> Call:
        assert job.document is not None
        params, doc = job.request.params, job.document
        fields: dict[str, Any] = {
            "title": params.get("title") or f"Счёт по документу {neutralise(doc.title)}",
            "opportunity": _amount(params.get("amount", "from_document"), doc.amount, doc.id),
            "currencyId": doc.currency,
            "xmlId": _invoice_key(job),
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


def _invoice_key(job: Job) -> str:
    """``xmlId``: one invoice per (deal, document), whichever rule or step asks for it.

    Both parts come from the source systems (the Bitrix24 deal id, the 1C
    document ref), so a second runner or a rebuilt store finds the same invoice.
    """
    binding = job.binding
    owner = "-"
    if binding is not None and binding.deal_id:
        owner = f"deal:{binding.deal_id}"
    elif binding is not None and binding.company_id:
        owner = f"company:{binding.company_id}"
    return marker(f"invoice\x1f{owner}\x1f{job.request.document_id}")


def _find_call(job: Job) -> Call:
    params = {
        "entityTypeId": SMART_INVOICE,
        "filter": {"xmlId": _invoice_key(job)},
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
            msg("b24_no_amount", document=document_id),
            retryable=False,
            code="BAD_PARAMS",
            hint=msg("b24_hint_amount"),
        )
    return float(amount)
