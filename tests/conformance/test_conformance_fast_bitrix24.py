"""The Bitrix24 emulator driven by fast-bitrix24 (the most used community client).

fast-bitrix24 was written against real portals: where it and the emulator
disagree, the emulator is wrong. Each test names the fact it checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
import pytest
from fast_bitrix24 import Bitrix

from edo_rules.emulators.bitrix24 import Bitrix24Emulator, PlanLimits

FAST = PlanLimits(capacity=10_000, rate=10_000.0)


def _client(url: str, **options: Any) -> Bitrix:
    # The portal's own bucket is the emulator's; the client-side throttle only slows the test.
    return Bitrix(url, verbose=False, requests_per_second=1000.0, **options)


def test_insufficient_scope_is_403_so_an_oauth_client_does_not_refresh_forever() -> None:
    """``insufficient_scope`` comes with HTTP 403 — system-errors table of the official REST
    docs (bitrix24/b24restdocs ``_includes/system-errors.md``). fast-bitrix24 with OAuth
    treats every 401 as a rejected token and fetches a new one, forever."""
    emulator = Bitrix24Emulator(seed=1, plan=FAST).start()
    try:
        access, _ = emulator.add_oauth_app("app.conformance", "secret", scopes={"user"})
        fetched = 0

        async def token() -> str:
            nonlocal fetched
            fetched += 1
            if fetched > 3:
                raise RuntimeError("the client keeps refreshing a valid token")
            return access

        client = _client(emulator.url + "/rest/", token_func=token)
        with pytest.raises(aiohttp.ClientResponseError) as caught:
            client.call("crm.deal.list", {"select": ["ID"]}, raw=True)
        assert caught.value.status == 403
        assert fetched == 1
    finally:
        emulator.stop()


def test_smart_items_come_back_typed_from_a_form_encoded_batch(portal: Bitrix24Emulator) -> None:
    """``crm.item.add`` answers typed values and the standard fields with their defaults
    (``id``/``companyId``/``assignedById`` integers, ``opportunity`` a number,
    ``entityTypeId``, ``categoryId``, ``stageId``, ``createdTime`` with an offset) even when
    the command arrives form-encoded inside ``batch`` — the ``crm.item.add`` reference
    example and "CRM Object Fields" (bitrix24/b24restdocs, api-reference/crm/universal)."""
    client = _client(portal.add_webhook(1))
    items = client.call(
        "crm.item.add",
        [
            {"entityTypeId": 31, "fields": {"title": "Счёт 1", "opportunity": 125000.5}},
            {"entityTypeId": 31, "fields": {"companyId": 8, "assignedById": 3}},
        ],
    )
    first, second = items
    assert isinstance(first["id"], int) and first["opportunity"] == 125000.5
    assert second["companyId"] == 8 and second["assignedById"] == 3
    for item in items:
        assert item["entityTypeId"] == 31 and isinstance(item["categoryId"], int)
        assert item["stageId"] == f"DT31_{item['categoryId']}:N"
        assert isinstance(item["createdBy"], int)
        assert datetime.fromisoformat(item["createdTime"]).utcoffset() is not None
        assert item["updatedTime"] == item["createdTime"]


def test_get_all_with_its_order_reads_every_company_exactly_once(
    portal: Bitrix24Emulator,
) -> None:
    """Paged with ``order: {ID: ASC}`` (which fast-bitrix24 always adds, "otherwise the sort
    is random and entities repeat across pages") a legacy list gives every row once."""
    for n in range(130):
        portal.portal.add_company(f"ООО Пакет {n}")
    companies = _client(portal.add_webhook(1)).get_all("crm.company.list", {"select": ["ID"]})
    ids = [int(c["ID"]) for c in companies]
    assert sorted(ids) == sorted(int(c["ID"]) for c in portal.portal.companies())
    assert len(ids) == len(set(ids)) == 150


def test_deals_and_companies_can_be_added(portal: Bitrix24Emulator) -> None:
    """``crm.company.add`` and ``crm.deal.add`` answer the new id; the deal gets the first
    stage of its pipeline and a string-valued record (``crm.deal.add`` / ``crm.company.add``
    reference pages, bitrix24/b24restdocs api-reference/crm)."""
    client = _client(portal.add_webhook(1))
    company = client.call("crm.company.add", {"fields": {"TITLE": "ООО Новая"}}, raw=True)
    assert isinstance(company["result"], int)
    deal = client.call(
        "crm.deal.add",
        {"fields": {"TITLE": "Поставка", "COMPANY_ID": company["result"], "OPPORTUNITY": 900}},
        raw=True,
    )
    record = client.call("crm.deal.get", {"ID": deal["result"]}, raw=True)["result"]
    assert record["COMPANY_ID"] == str(company["result"]) and record["STAGE_ID"] == "NEW"
    assert record["CATEGORY_ID"] == "0" and record["OPPORTUNITY"] == "900.00"
    assert record["ASSIGNED_BY_ID"] == "1"


def test_a_missing_scope_inside_batch_comes_per_command_without_a_description(
    portal: Bitrix24Emulator,
) -> None:
    """Inside ``batch`` a missing scope is a per-command entry of ``result_error`` with an
    empty description while the batch itself answers 200 (a portal's answer quoted on the
    vendor's developer forum, dev.1c-bitrix.ru topic 146606; b24restdocs ``error-codes.md``:
    "subquery errors of a batch request arrive with status 200")."""
    client = _client(portal.add_webhook(1, scopes={"user"}))
    batch = {"halt": 0, "cmd": {"who": "user.get?ID=1", "deals": "crm.deal.list?select[]=ID"}}
    answer = client.call("batch", batch, raw=True)["result"]
    assert answer["result_error"] == {
        "deals": {"error": "insufficient_scope", "error_description": ""}
    }
    assert answer["result"]["who"][0]["ID"] == "1"


def test_batch_commands_refer_to_earlier_results(portal: Bitrix24Emulator) -> None:
    """``$result[key][FIELD]`` in a batch command is replaced by an earlier command's result
    (b24restdocs ``settings/how-to-call-rest-api/batch.md``); fast-bitrix24's ``call_batch``
    sends such commands as given."""
    client = _client(portal.add_webhook(1))
    deal = portal.portal.add_deal("Поставка", company_id=8)
    result = client.call_batch(
        {
            "halt": 1,
            "cmd": {
                "deal": f"crm.deal.get?ID={deal}",
                "company": "crm.company.get?ID=$result[deal][COMPANY_ID]",
            },
        }
    )
    assert result["company"]["ID"] == "8"
