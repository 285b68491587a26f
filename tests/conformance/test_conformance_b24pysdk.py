"""The Bitrix24 emulator driven by b24pysdk, the official Python SDK (HTTPS only).

The emulator serves TLS with a certificate from a CA made for the test
(trustme); the SDK trusts it through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIInsufficientScope
from conftest import TlsPortal


def _sdk(webhook_url: str) -> Client:
    """A client for ``https://host:port/rest/<user>/<secret>/`` as the SDK takes it."""
    origin, _, token = webhook_url.partition("/rest/")
    return Client(BitrixWebhook(domain=origin.removeprefix("https://"), webhook_token=token))


def test_the_sdk_reaches_the_emulator_over_https(tls_portal: TlsPortal) -> None:
    """Portals answer only over HTTPS; the official SDK builds ``https://{domain}/rest/…``
    and refuses anything else (b24pysdk ``api/callers/call_method.py``)."""
    sdk = _sdk(tls_portal.emulator.add_webhook(1))
    users = sdk.user.get(filter={"ID": 1}).result
    assert tls_portal.emulator.url.startswith("https://")
    assert users[0]["ID"] == "1"


def test_insufficient_scope_is_a_403(tls_portal: TlsPortal) -> None:
    """``insufficient_scope`` comes with HTTP 403 and the webhook wording — system-errors
    table of the official REST docs; the SDK files the code under 403."""
    sdk = _sdk(tls_portal.emulator.add_webhook(1, scopes={"user"}))
    with pytest.raises(BitrixAPIInsufficientScope) as caught:
        sdk.crm.deal.list(select=["ID"]).result  # noqa: B018 - the property sends the request
    assert caught.value.status_code == 403
    assert "webhook token" in str(caught.value)


def test_smart_items_are_typed_in_json_and_in_a_batch(tls_portal: TlsPortal) -> None:
    """``crm.item.add`` answers typed values with the standard defaults, whether the SDK
    posts JSON or encodes the command inside ``batch`` (``crm.item.add`` reference example,
    "CRM Object Fields")."""
    sdk = _sdk(tls_portal.emulator.add_webhook(1))
    direct = sdk.crm.item.add(entity_type_id=31, fields={"opportunity": 500, "companyId": 8})
    batch = sdk.call_batch(
        {
            "invoice": sdk.crm.item.add(
                entity_type_id=31, fields={"opportunity": "7.25", "companyId": "8"}
            )
        }
    )
    for item in (direct.result["item"], batch.result.result["invoice"]["item"]):
        assert item["companyId"] == 8 and isinstance(item["id"], int)
        assert isinstance(item["opportunity"], float)
        assert item["entityTypeId"] == 31 and item["stageId"].startswith("DT31_")
        assert item["assignedById"] == 1 and item["createdBy"] == 1
        assert datetime.fromisoformat(item["updatedTime"]).utcoffset() is not None


def test_fast_list_reads_every_company_once(tls_portal: TlsPortal) -> None:
    """The official guide to large data: sort by ID ascending, filter ``>ID`` by the last id,
    ``start=-1`` (bitrix24/b24restdocs ``settings/performance/huge-data.md``); the SDK's
    ``as_list_fast`` does exactly that, and gets every row once."""
    for n in range(120):
        tls_portal.emulator.portal.add_company(f"ООО Пакет {n}")
    sdk = _sdk(tls_portal.emulator.add_webhook(1))
    rows = list(sdk.crm.company.list(select=["ID"]).as_list_fast().result)
    ids = [int(row["ID"]) for row in rows]
    assert len(ids) == len(set(ids)) == 140


def test_deal_and_company_add_answer_the_new_id(tls_portal: TlsPortal) -> None:
    """``crm.company.add`` / ``crm.deal.add`` answer the new record's id as an integer."""
    sdk = _sdk(tls_portal.emulator.add_webhook(1))
    company = sdk.crm.company.add(fields={"TITLE": "ООО Новая"}).result
    deal = sdk.crm.deal.add(fields={"TITLE": "Поставка", "COMPANY_ID": company}).result
    assert isinstance(company, int) and isinstance(deal, int)
    record = sdk.crm.deal.get(bitrix_id=deal).result
    assert record["COMPANY_ID"] == str(company) and record["STAGE_ID"] == "NEW"


def test_classic_paging_needs_an_explicit_order(tls_portal: TlsPortal) -> None:
    """The SDK's ``as_list`` pages a legacy list by ``start`` offsets and adds no ``order``;
    a legacy list without ``order`` has no stable order, so pages repeat and miss rows
    (b24restdocs ``settings/performance/huge-data.md``; fast-bitrix24 adds ``order`` for
    this reason). With ``order: {ID: ASC}`` every row comes once."""
    for n in range(90):
        tls_portal.emulator.portal.add_company(f"ООО Пакет {n}")
    sdk = _sdk(tls_portal.emulator.add_webhook(1))
    ordered = sdk.crm.company.list(select=["ID"], order={"ID": "ASC"}).as_list().result
    ids = [int(row["ID"]) for row in ordered]
    assert len(ids) == len(set(ids)) == 110
    unordered = sdk.crm.company.list(select=["ID"]).as_list().result
    assert len(unordered) == 110 and len({row["ID"] for row in unordered}) < 110
