"""``mirror``: keep one CRM record per document in step with its EDO state.

The record lives in a universal list (``lists.element.*``, keyed by
ELEMENT_CODE) or a smart process (``crm.item.*``, keyed by ``xmlId``), both
derived from the document id, so an upsert is safe to repeat and :meth:`check`
answers "send it". ``lists.element.update`` REPLACES the whole element, so
every mapped field is always sent, empty ones included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from edo_rules import ru
from edo_rules._messages import msg
from edo_rules.actions.bitrix24 import _register
from edo_rules.actions.bitrix24.adapters import _schemas
from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Job
from edo_rules.actions.bitrix24.client import Call, Reply
from edo_rules.actions.bitrix24.settings import MirrorSettings
from edo_rules.errors import ActionError
from edo_rules.model import Document, Outcome, Side

_EXISTS = "ERROR_ELEMENT_ALREADY_EXISTS"


def element_code(document_id: str) -> str:
    """The list ELEMENT_CODE / smart-process xmlId of a document's mirror record."""
    return f"edo-{document_id}"


class MirrorAction(Bitrix24Action):
    """Upserts the document into the configured list or smart process (see the module docstring)."""

    name: ClassVar[str] = "mirror"
    params_schema = _schemas.MIRROR
    can_check: ClassVar[bool] = True
    idempotent: ClassVar[bool] = True

    def _target(self) -> MirrorSettings:
        mirror = self._ctx.settings.mirror
        if mirror is None:
            raise ActionError(
                msg("b24_mirror_not_configured"),
                retryable=False,
                code="NOT_CONFIGURED",
                hint=msg("b24_hint_mirror"),
            )
        return mirror

    def _build(self, job: Job) -> Call:
        target = self._target()
        wanted = job.request.params.get("target")
        if wanted is not None and wanted != target.target:
            raise ActionError(
                msg("b24_mirror_target", wanted=wanted, configured=target.target),
                retryable=False,
                code="BAD_PARAMS",
                hint=msg("b24_hint_mirror_target"),
            )
        values = _values(job, target, overdue=bool(job.request.params.get("overdue", False)))
        if target.target == "list":
            return Call("lists.element.add", _list_params(target, job, values), idempotent=True)
        return Call("crm.item.list", _find_params(target, job), idempotent=True)

    def _send(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        # Several requests for one document in a batch: only the latest is written.
        latest = {job.request.document_id: job for job in jobs}
        unique = list(latest.values())
        if self._target().target == "list":
            self._upsert_list(unique)
        else:
            self._upsert_item(unique)
        for job in jobs:
            if job.outcome is None:
                job.outcome = self._relabel(job, latest[job.request.document_id])

    def _relabel(self, job: Job, written: Job) -> Outcome:
        source = written.outcome
        assert source is not None
        return self._outcome(
            job.request,
            source.status,
            remote_id=source.remote_id,
            reason=source.reason,
            retry_after=source.retry_after,
        )

    def _upsert_list(self, jobs: Sequence[Job]) -> None:
        replies = self._ctx.client.call_many([job.call for job in jobs if job.call is not None])
        again: list[Job] = []
        for job, reply in zip(jobs, replies, strict=True):
            if reply.error is not None and (reply.error.code or "").upper() == _EXISTS:
                assert job.call is not None
                job.call = Call("lists.element.update", job.call.params, idempotent=True)
                again.append(job)
            else:
                self._finish(job, reply)
        super()._send(again)

    def _upsert_item(self, jobs: Sequence[Job]) -> None:
        target = self._target()
        found = self._ctx.client.call_many([job.call for job in jobs if job.call is not None])
        writes: list[Job] = []
        for job, reply in zip(jobs, found, strict=True):
            if reply.error is not None:
                job.outcome = self._failure(job, reply.error)
                continue
            job.call = _item_write(target, job, _first_id(reply))
            writes.append(job)
        super()._send(writes)

    def _remote_id(self, job: Job, result: Any) -> str | None:
        if isinstance(result, dict) and isinstance(result.get("item"), dict):
            return str(result["item"].get("id"))
        return element_code(job.request.document_id)

    def _lookup(self, job: Job) -> str | None:
        return None  # an upsert writes the whole record: re-sending is always safe


def _list_params(target: MirrorSettings, job: Job, values: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "IBLOCK_TYPE_ID": target.iblock_type,
        "ELEMENT_CODE": element_code(job.request.document_id),
        "FIELDS": dict(values),
    }
    if target.iblock_id is not None:
        params["IBLOCK_ID"] = target.iblock_id
    else:
        params["IBLOCK_CODE"] = target.iblock_code
    return params


def _find_params(target: MirrorSettings, job: Job) -> dict[str, Any]:
    return {
        "entityTypeId": target.entity_type_id,
        "select": ["id"],
        "filter": {"xmlId": element_code(job.request.document_id)},
    }


def _original_names(target: MirrorSettings) -> dict[str, str]:
    """``UF_CRM_7_…`` names (as ``bitrix24 setup`` makes them) need ``useOriginalUfNames``."""
    uses = any(code.upper().startswith("UF_") for code in target.fields.values())
    return {"useOriginalUfNames": "Y"} if uses else {}


def _item_write(target: MirrorSettings, job: Job, existing: int | None) -> Call:
    values = _values(job, target, overdue=bool(job.request.params.get("overdue", False)))
    fields = {**values, "xmlId": element_code(job.request.document_id)}
    if target.entity_type_id is not None and target.category_id is not None:
        assert job.document is not None
        status = job.document.status
        fields["stageId"] = _register.stage_id(target.entity_type_id, target.category_id, status)
        fields["categoryId"] = target.category_id
    names = _original_names(target)
    if existing is None:
        params = {"entityTypeId": target.entity_type_id, "fields": fields, **names}
        return Call("crm.item.add", params)
    return Call(
        "crm.item.update",
        {"entityTypeId": target.entity_type_id, "id": existing, "fields": fields, **names},
        idempotent=True,
    )


def _first_id(reply: Reply) -> int | None:
    items = reply.result.get("items") if isinstance(reply.result, dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return int(items[0]["id"])
    return None


def _values(job: Job, target: MirrorSettings, *, overdue: bool) -> dict[str, Any]:
    assert job.document is not None
    as_list = target.target == "list"
    facts = _facts(job, job.document, overdue=overdue, as_list=as_list)
    return {code: facts.get(fact, "") for fact, code in target.fields.items()}


def _facts(job: Job, doc: Document, *, overdue: bool, as_list: bool) -> dict[str, Any]:
    binding = job.binding
    company = binding.company_id if binding else None
    deal = binding.deal_id if binding else None
    return {
        "title": doc.title,
        "kind": ru.label(doc.kind),
        "kind_code": doc.kind.value,
        "number": doc.number,
        "date": _when(doc.date, as_list),
        "counterparty": doc.counterparty.name,
        "inn": doc.counterparty.inn or "",
        "amount": "" if doc.amount is None else str(doc.amount),
        "status": ru.label(doc.status),
        "status_code": doc.status.value,
        "status_1c": doc.status_1c,
        "signers": "; ".join(_signer(s.side, s.name, s.signed_at) for s in doc.signers),
        "sent_at": _when(doc.sent_at, as_list),
        "our_signed_at": _when(doc.our_signed_at, as_list),
        "counterparty_signed_at": _when(doc.counterparty_signed_at, as_list),
        "rejected_at": _when(doc.rejected_at, as_list),
        "pdf_url": doc.pdf_url or "",
        "overdue": ("Y" if overdue else "N") if as_list else overdue,
        "company": (f"CO_{company}" if as_list else company) if company else "",
        "deal": (f"D_{deal}" if as_list else deal) if deal else "",
        # the card owner, so the portal's own reports can group documents by manager
        "responsible": (binding.assigned if binding else None) or "",
    }


def _signer(side: Side, name: str, at: datetime | None) -> str:
    who = "наша сторона" if side is Side.OURS else "контрагент"
    return f"{name} ({who}){' ' + at.strftime('%d.%m.%Y %H:%M') if at else ''}"


def _when(value: date | datetime | None, as_list: bool) -> str:
    """Lists take the portal's display format; smart processes take ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.strftime("%d.%m.%Y %H:%M:%S") if as_list else value.isoformat(timespec="seconds")
        )
    return value.strftime("%d.%m.%Y") if as_list else value.isoformat()
