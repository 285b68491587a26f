"""CRM binding (document → company and deal) and recipients (``responsible`` …).

- Company: the counterparty's ИНН → ``crm.requisite.list`` (ENTITY_TYPE_ID 4).
- Deal, by the configured strategy: a deal field holding a 1C value (the
  contract number, the document id or its basis), the company's latest open
  deal, or none.
- ``responsible``: the bound deal's ASSIGNED_BY_ID, else the company's, else
  the 1C responsible mapped by config, else the fallback user.
- ``head_of_responsible``: the head of the user's department, or of the parent
  department when the user is the head (``user.get`` / ``department.get``).
- ``accounting``: ``bitrix24.accounting.user``, or the head of
  ``bitrix24.accounting.department``.

Every lookup is cached in the store (``cache_get``/``cache_put``) for the
configured lifetime, "not found" included; lookups of many documents go out
together in ``batch`` requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from edo_rules._messages import Text, msg
from edo_rules.actions.bitrix24.client import Bitrix24Client, Call, Reply
from edo_rules.actions.bitrix24.errors import Bitrix24Error
from edo_rules.actions.bitrix24.settings import Bitrix24Settings
from edo_rules.errors import ActionError
from edo_rules.model import Document
from edo_rules.store.base import Store

Recipient = str | int
_PREFIX = "bitrix24:v1:"


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a document belongs in the CRM, with the owners found on the way."""

    company_id: int | None = None
    deal_id: int | None = None
    company_assigned: int | None = None
    deal_assigned: int | None = None

    @property
    def assigned(self) -> int | None:
        return self.deal_assigned or self.company_assigned


class RecipientError(ActionError):
    """A recipient cannot be resolved: a permanent failure of that one action."""

    def __init__(self, recipient: Recipient, document_id: str, reason: Text) -> None:
        super().__init__(
            msg("b24_recipient", recipient=recipient, document=document_id, reason=reason),
            retryable=False,
            code="RECIPIENT_UNRESOLVED",
            hint=msg("b24_hint_recipient"),
        )


class CrmBinder:
    """Resolves bindings and recipients through the client, cached in the store."""

    def __init__(
        self,
        client: Bitrix24Client,
        store: Store,
        settings: Bitrix24Settings,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._cache = _Cache(store, now, timedelta(seconds=settings.cache_ttl))
        self._settings = settings

    # -- binding ------------------------------------------------------------------
    def bind(self, documents: Sequence[Document]) -> dict[str, Binding | Bitrix24Error]:
        """The binding of each document (by id), or the error that prevented it."""
        companies = self._companies(documents)
        deals = self._deals(documents, companies)
        result: dict[str, Binding | Bitrix24Error] = {}
        for doc in documents:
            company, deal = companies.get(doc.id), deals.get(doc.id)
            error = next((x for x in (company, deal) if isinstance(x, Bitrix24Error)), None)
            if error is not None:
                result[doc.id] = error
                continue
            c = company if isinstance(company, dict) else {}
            d = deal if isinstance(deal, dict) else {}
            result[doc.id] = Binding(c.get("id"), d.get("id"), c.get("assigned"), d.get("assigned"))
        return result

    def _companies(self, documents: Sequence[Document]) -> dict[str, Any]:
        wanted: dict[str, Call] = {}
        keys: dict[str, str] = {}
        for doc in documents:
            if doc.crm.company_id is not None:
                key = f"company:id:{doc.crm.company_id}"
                wanted[key] = Call("crm.company.get", {"id": doc.crm.company_id}, idempotent=True)
            elif doc.counterparty.inn:
                key = f"company:inn:{doc.counterparty.inn}"
                wanted[key] = _requisite_call(doc.counterparty.inn)
            else:
                continue
            keys[doc.id] = key
        found = self._lookup(wanted, _parse_company)
        self._fill_company_owners(found)
        return {doc_id: found[key] for doc_id, key in keys.items()}

    def _fill_company_owners(self, found: dict[str, Any]) -> None:
        """Requisites give the company id only: fetch the owner of each new company."""
        missing = {k: v for k, v in found.items() if isinstance(v, dict) and "assigned" not in v}
        calls = {
            f"company:id:{v['id']}": Call("crm.company.get", {"id": v["id"]}, idempotent=True)
            for v in missing.values()
        }
        owners = self._lookup(calls, _parse_company)
        for key, value in missing.items():
            owner = owners.get(f"company:id:{value['id']}")
            merged = owner if isinstance(owner, dict) else {"id": value["id"], "assigned": None}
            found[key] = merged
            self._cache.put(key, merged)

    def _deals(self, documents: Sequence[Document], companies: Mapping[str, Any]) -> dict[str, Any]:
        wanted: dict[str, Call] = {}
        keys: dict[str, str] = {}
        for doc in documents:
            item = self._deal_call(doc, companies.get(doc.id))
            if item is not None:
                keys[doc.id], wanted[item[0]] = item
        found = self._lookup(wanted, _parse_deal)
        return {doc_id: found[key] for doc_id, key in keys.items()}

    def _deal_call(self, doc: Document, company: Any) -> tuple[str, Call] | None:
        rule = self._settings.deal
        select = ["ID", "ASSIGNED_BY_ID"]
        if doc.crm.deal_id is not None:
            return f"deal:id:{doc.crm.deal_id}", Call(
                "crm.deal.get", {"id": doc.crm.deal_id}, idempotent=True
            )
        if rule.strategy == "field" and rule.field:
            value = _deal_value(doc, rule.value)
            if value is None:
                return None
            flt = {rule.field: value}
            return f"deal:{rule.field}:{value}", _list_call("crm.deal.list", flt, select, "DESC")
        if rule.strategy == "latest_open" and isinstance(company, dict) and company.get("id"):
            flt = {"COMPANY_ID": company["id"], "CLOSED": "N"}
            call = Call(
                "crm.deal.list",
                {"filter": flt, "select": select, "order": {"DATE_CREATE": "DESC", "ID": "DESC"}},
                idempotent=True,
            )
            return f"deal:open:{company['id']}", call
        return None

    # -- recipients ---------------------------------------------------------------------
    def recipient(self, spec: Recipient, document: Document, binding: Binding | None) -> int:
        """The user id for ``spec``; raises :class:`RecipientError` or :class:`Bitrix24Error`."""
        if isinstance(spec, int):
            return spec
        if spec == "accounting":
            return self.accounting(document.id)
        user = self.responsible(document, binding)
        if user is None:
            raise RecipientError(spec, document.id, msg("b24_recipient_nobody"))
        if spec == "responsible":
            return user
        if spec == "head_of_responsible":
            head = self.head_of(user)
            if head is None:
                raise RecipientError(spec, document.id, msg("b24_recipient_no_head", user=user))
            return head
        raise RecipientError(spec, document.id, msg("b24_recipient_unknown_kind"))

    def accounting(self, document_id: str) -> int:
        """The configured accounting user, or the head of the configured department."""
        setting = self._settings.accounting
        if setting is None:
            raise RecipientError("accounting", document_id, msg("b24_accounting_not_configured"))
        if setting.user is not None:
            return setting.user
        assert setting.department is not None
        head = _to_int(self._department(setting.department).get("UF_HEAD"))
        if head is None:
            raise RecipientError(
                "accounting",
                document_id,
                msg("b24_department_no_head", department=setting.department),
            )
        return head

    def responsible(self, document: Document, binding: Binding | None) -> int | None:
        if binding is not None and binding.assigned:
            return binding.assigned
        if document.responsible and document.responsible in self._settings.users:
            return self._settings.users[document.responsible]
        return self._settings.fallback_user

    def head_of(self, user_id: int) -> int | None:
        """The head of the user's department; the parent's head when the user is the head."""
        key = f"head:{user_id}"
        hit, value = self._cache.get(key)
        if hit:
            return value if isinstance(value, int) else None
        head = self._find_head(user_id)
        self._cache.put(key, head)
        return head

    def _find_head(self, user_id: int) -> int | None:
        users = self._client.call("user.get", {"ID": user_id}, idempotent=True).result
        departments = users[0].get("UF_DEPARTMENT") if isinstance(users, list) and users else None
        department = _first_int(departments)
        for _ in range(20):  # a bound on the walk up the tree guards against a cycle
            if department is None:
                return None
            record = self._department(department)
            head = _to_int(record.get("UF_HEAD"))
            if head is not None and head != user_id:
                return head
            department = _to_int(record.get("PARENT"))
        return None

    def _department(self, department_id: int) -> Mapping[str, Any]:
        result = self._client.call("department.get", {"ID": department_id}, idempotent=True).result
        return (
            result[0]
            if isinstance(result, list) and result and isinstance(result[0], Mapping)
            else {}
        )

    # -- cached batched lookups ------------------------------------------------------------
    def _lookup(self, wanted: Mapping[str, Call], parse: Callable[[Any], Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        todo: list[str] = []
        for key in wanted:
            hit, value = self._cache.get(key)
            if hit:
                found[key] = value
            else:
                todo.append(key)
        replies = self._client.call_many([wanted[k] for k in todo])
        for key, reply in zip(todo, replies, strict=True):
            found[key] = self._store_reply(key, reply, parse)
        return found

    def _store_reply(self, key: str, reply: Reply, parse: Callable[[Any], Any]) -> Any:
        if reply.error is not None:
            if reply.error.legacy:  # legacy CRM "not found": cache the absence
                self._cache.put(key, None)
                return None
            return reply.error
        value = parse(reply.result)
        self._cache.put(key, value)
        return value


class _Cache:
    """JSON values in the store's cache, under one prefix, for a fixed lifetime."""

    def __init__(self, store: Store, now: Callable[[], datetime], ttl: timedelta) -> None:
        self._store, self._now, self._ttl = store, now, ttl

    def get(self, key: str) -> tuple[bool, Any]:
        raw = self._store.cache_get(_PREFIX + key, self._now())
        return (False, None) if raw is None else (True, json.loads(raw))

    def put(self, key: str, value: Any) -> None:
        self._store.cache_put(_PREFIX + key, json.dumps(value), self._now() + self._ttl)


def _requisite_call(inn: str) -> Call:
    flt = {"RQ_INN": inn, "ENTITY_TYPE_ID": 4}
    return _list_call("crm.requisite.list", flt, ["ID", "ENTITY_ID"], "ASC")


def _list_call(method: str, flt: Mapping[str, Any], select: list[str], order: str) -> Call:
    return Call(
        method, {"filter": dict(flt), "select": select, "order": {"ID": order}}, idempotent=True
    )


def _deal_value(doc: Document, source: str) -> str | None:
    if source == "contract_number":
        return doc.contract.number if doc.contract else None
    if source == "basis":
        return doc.basis
    return doc.id


def _parse_company(result: Any) -> dict[str, Any] | None:
    if isinstance(result, list):  # crm.requisite.list
        first = result[0] if result else None
        company = _to_int(first.get("ENTITY_ID")) if isinstance(first, Mapping) else None
        return None if company is None else {"id": company}
    if isinstance(result, Mapping):  # crm.company.get
        return {"id": _to_int(result.get("ID")), "assigned": _to_int(result.get("ASSIGNED_BY_ID"))}
    return None


def _parse_deal(result: Any) -> dict[str, Any] | None:
    record = result[0] if isinstance(result, list) and result else result
    if not isinstance(record, Mapping):
        return None
    return {"id": _to_int(record.get("ID")), "assigned": _to_int(record.get("ASSIGNED_BY_ID"))}


def _first_int(value: Any) -> int | None:
    if isinstance(value, list) and value:
        return _to_int(value[0])
    return _to_int(value)


def _to_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
