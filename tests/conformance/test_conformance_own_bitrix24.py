"""The project's own Bitrix24 client against the same facts the independent clients check."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _bitrix24_helpers import NOW, make_doc
from conftest import FAST, TlsPortal

from edo_rules.actions.bitrix24 import (
    Bitrix24Error,
    Bitrix24Settings,
    CrmBinder,
    ErrorClass,
    RetryPolicy,
    make_client,
)
from edo_rules.actions.bitrix24.client import Bitrix24Client, Call
from edo_rules.emulators.bitrix24 import Bitrix24Emulator
from edo_rules.model import Counterparty
from edo_rules.store.sqlite import SQLiteStore

_RETRY = RetryPolicy(backoff=0.01, max_backoff=0.05)
_PLAN = {"capacity": 10_000, "rate": 10_000}


def _settings(section: dict[str, Any]) -> Bitrix24Settings:
    return Bitrix24Settings.from_mapping({**section, "plan": _PLAN}, where="edo-rules.yaml")


@pytest.fixture
def clients() -> Iterator[list[Bitrix24Client]]:
    made: list[Bitrix24Client] = []
    yield made
    for client in made:
        client.close()


def _webhook_client(url: str, made: list[Bitrix24Client], **options: Any) -> Bitrix24Client:
    client = make_client(_settings({"webhook_url": url}), retry=_RETRY, **options)
    made.append(client)
    return client


def test_paging_without_order_repeats_and_misses_rows(portal: Bitrix24Emulator) -> None:
    """Without an explicit ``order`` a legacy list has no stable order: pages can repeat
    rows (official guide to large data; fast-bitrix24 adds ``order`` for this reason). A
    client paging with ``start`` alone does not see every row once; with ``order`` it does."""
    for n in range(80):
        portal.portal.add_company(f"ООО Пакет {n}")
    hook = portal.add_webhook(1)

    def ids(params: dict[str, Any]) -> list[int]:
        seen: list[int] = []
        for start in (0, 50):
            body = httpx.post(hook + "crm.company.list", json={**params, "start": start}).json()
            seen += [int(row["ID"]) for row in body["result"]]
        return seen

    everything = sorted(int(c["ID"]) for c in portal.portal.companies())
    assert sorted(ids({"order": {"ID": "ASC"}})) == everything
    unordered = ids({})
    assert len(unordered) == len(everything)
    assert sorted(unordered) != everything  # some rows twice, some never
    assert ids({}) == unordered  # the same request gives the same (unspecified) order


@pytest.mark.parametrize("status", [403, 401])
def test_a_missing_scope_is_permanent_whatever_the_status(
    tmp_path: Path, status: int, clients: list[Bitrix24Client]
) -> None:
    """The client decides by the ``error`` code, never by the HTTP status: the system-errors
    table says 403 for ``insufficient_scope``, a later revision of it says 401. Either way
    the OAuth client neither refreshes its token nor repeats the call, and says which scope
    to add."""
    emulator = Bitrix24Emulator(seed=1, plan=FAST, scope_error_status=status).start()
    try:
        access, refresh = emulator.add_oauth_app("app.c", "secret-c", scopes={"user"})
        token_file = tmp_path / "tokens.json"
        token_file.write_text(json.dumps({"access_token": access, "refresh_token": refresh}))
        oauth = {
            "portal_url": emulator.url,
            "server_url": emulator.url,
            "client_id": "app.c",
            "client_secret": "secret-c",
            "token_file": str(token_file),
        }
        client = make_client(_settings({"oauth": oauth}), retry=_RETRY)
        clients.append(client)
        with pytest.raises(Bitrix24Error) as caught:
            client.call("crm.deal.list", {"order": {"ID": "ASC"}})
        error = caught.value
        assert error.code == "insufficient_scope" and error.error_class is ErrorClass.PERMANENT
        assert error.hint is not None and "«crm»" in error.hint  # names the missing scope
        assert emulator.stats()["requests"] == 1
        assert json.loads(token_file.read_text())["access_token"] == access
    finally:
        emulator.stop()


def test_the_client_speaks_https_to_the_portal(
    tls_portal: TlsPortal, clients: list[Bitrix24Client]
) -> None:
    """Portals answer only over HTTPS: the client works against the TLS emulator when it
    trusts the portal's certificate."""
    trust = ssl.create_default_context(cafile=str(tls_portal.ca_file))
    http = httpx.Client(verify=trust, timeout=10.0)
    try:
        client = _webhook_client(tls_portal.emulator.add_webhook(1), clients, http_client=http)
        assert client.call("user.get", {"ID": 1}).result[0]["ID"] == "1"
    finally:
        http.close()


def test_smart_items_from_a_batch_are_typed(
    portal: Bitrix24Emulator, clients: list[Bitrix24Client]
) -> None:
    """``crm.item.add`` inside ``batch`` (form-encoded) answers typed values and defaults;
    the client's batch keeps each reply with its call."""
    client = _webhook_client(portal.add_webhook(1), clients)
    calls = [
        Call("crm.item.add", {"entityTypeId": 31, "fields": {"opportunity": n + 0.5}})
        for n in range(3)
    ]
    replies = client.call_many(calls)
    items = [reply.result["item"] for reply in replies]
    assert [item["opportunity"] for item in items] == [0.5, 1.5, 2.5]
    assert all(isinstance(item["id"], int) and item["entityTypeId"] == 31 for item in items)


def test_the_binding_orders_its_deal_lookup(
    tmp_path: Path, portal: Bitrix24Emulator, clients: list[Bitrix24Client]
) -> None:
    """The binder's ``crm.deal.list`` sends its own ``order`` (newest first), so the
    unspecified order of a list without one cannot change which deal a document binds to."""
    company = portal.portal.add_company("ООО Ромашка", inn="7700000099")
    deals = [
        portal.portal.add_deal(
            f"Сделка {n}", company_id=company, fields={"DATE_CREATE": f"2026-02-{n + 1:02d}"}
        )
        for n in range(12)
    ]
    hook = portal.add_webhook(1)
    settings = _settings({"webhook_url": hook})
    client = _webhook_client(hook, clients)
    store = SQLiteStore(tmp_path / "store.db")
    try:
        doc = make_doc("d1", "7700000099", counterparty=Counterparty("ООО", inn="7700000099"))
        binder = CrmBinder(client, store, settings, now=lambda: NOW)
        found = binder.bind([doc])["d1"]
        assert found.company_id == company and found.deal_id == deals[-1]
    finally:
        store.close()
