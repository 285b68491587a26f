"""Legacy CRM methods: the unspecified list order, ``crm.deal.add``, ``crm.company.add``.

A legacy ``*.list`` called without ``order`` has no defined order: the
official guide to large data prescribes sorting by ID, and the most used
community client always adds ``order: {ID: ASC}`` "or the sort is random and
entities repeat across pages". The emulator makes that visible: without an
explicit order every page is cut from its own deterministic shuffle, so a
client that pages without ``order`` sees rows twice and misses others.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from edo_rules.emulators.bitrix24._common import (
    CallContext,
    legacy,
    mapping,
    ordered,
    param,
    strings,
    to_int,
)
from edo_rules.emulators.bitrix24._portal import Portal


def list_order(
    records: list[dict[str, Any]], params: Mapping[str, Any], table: str
) -> list[dict[str, Any]]:
    """Records in the requested order; without ``order`` in a per-page shuffle."""
    order = mapping(params, "order")
    if order:
        return ordered(records, order)
    shuffled = ordered(records, {"ID": "ASC"})
    start = to_int(param(params, "start", 0)) or 0
    random.Random(f"{table}:{start}").shuffle(shuffled)
    return shuffled


def _fields(params: Mapping[str, Any]) -> dict[str, Any]:
    fields = param(params, "fields")
    if not isinstance(fields, Mapping):
        raise legacy("Parameter 'fields' must be array.")
    options = param(params, "params")
    if options is not None and not isinstance(options, Mapping | list):
        raise legacy("Parameter 'params' must be array.")
    return {str(k).upper(): v for k, v in fields.items()}


def _money(value: Any) -> str:
    """Legacy CRM keeps an amount as a string with two decimals (``"0.00"``)."""
    try:
        return f"{float(value or 0):.2f}"
    except (TypeError, ValueError):
        raise legacy(f'Invalid value for the "Amount" field: {value!r}') from None


def deal_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
    """``crm.deal.add``: the new deal's id; defaults as the method's reference lists them."""
    fields = _fields(params)
    category = to_int(fields.pop("CATEGORY_ID", 0)) or 0
    stages = portal.t.pipelines.get(category)
    if stages is None:
        raise legacy(f"Category with ID '{category}' is not found.")
    stage = str(fields.pop("STAGE_ID", "") or stages[0])
    if stage not in stages:
        raise legacy(f"Stage '{stage}' is not found in the deal's pipeline.")
    company = to_int(fields.pop("COMPANY_ID", 0)) or None
    assigned = to_int(fields.pop("ASSIGNED_BY_ID", 0)) or ctx.user_id
    title = str(fields.pop("TITLE", "") or "")
    opportunity = _money(fields.pop("OPPORTUNITY", 0))
    deal_id = portal.add_deal(
        title,
        company_id=company,
        assigned_by=assigned,
        category_id=category,
        stage=stage,
        closed=stage.rsplit(":", maxsplit=1)[-1] in ("WON", "LOSE"),
    )
    record = portal.t.deals[deal_id]
    record.update(strings({"CURRENCY_ID": "RUB", **fields, "OPPORTUNITY": opportunity}))
    record["TITLE"] = title or f"Сделка #{deal_id}"
    record["CREATED_BY_ID"] = str(ctx.user_id)
    return deal_id


def company_add(portal: Portal, params: Mapping[str, Any], ctx: CallContext) -> int:
    """``crm.company.add``: the new company's id (values kept as strings, as ``get`` answers)."""
    fields = _fields(params)
    assigned = to_int(fields.pop("ASSIGNED_BY_ID", 0)) or ctx.user_id
    title = str(fields.pop("TITLE", "") or "")
    company_id = portal.add_company(title, assigned_by=assigned)
    record = portal.t.companies[company_id]
    record.update(strings(fields))
    record["TITLE"] = title or f"Компания #{company_id}"
    record["CREATED_BY_ID"] = str(ctx.user_id)
    return company_id
