"""The project's own 1C client against the same facts, on both sides of each unverified one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from _onec_helpers import clock_of, make_base, open_store, settings_for, snapshot

from edo_rules.emulators.onec import Conduct, OneCEmulator
from edo_rules.sources.onec import run_sync


@pytest.mark.parametrize(
    "conduct",
    [
        Conduct(),
        Conduct(accept_json=True),
        Conduct(key_range="compare"),
        Conduct(accept_json=True, key_range="compare"),
    ],
    ids=["strict", "accept-json", "key-range", "both"],
)
def test_the_sync_reads_the_same_whatever_the_unverified_behaviour(
    tmp_path: Path, conduct: Conduct
) -> None:
    """The client always sends ``$format=json`` (and ``Accept: application/json``) and never
    pages by ``Ref_Key`` ranges, so neither open question changes what it reads."""
    reference = _synced(tmp_path / "reference", Conduct())
    assert _synced(tmp_path / "variant", conduct) == reference


def _synced(folder: Path, conduct: Conduct) -> Any:
    folder.mkdir()
    base = make_base(60, seed=3)
    store = open_store(folder)
    try:
        with OneCEmulator(base, conduct=conduct) as emulator:
            # A fixed web-client address: the document links must not depend on the port.
            settings = settings_for(emulator, web_url="https://1c.example.local/buh/")
            report = run_sync(settings, store, clock=clock_of(base))
            assert report.documents == 60
        return snapshot(store)
    finally:
        store.close()


@pytest.mark.skipif(sys.version_info < (3, 12), reason="odata1c-client 0.1.5 needs Python >= 3.12")
def test_odata1c_client_reads_an_expanded_counterparty() -> None:
    """odata1c-client builds ``$select`` from its model (``Контрагент/Description`` for a
    nested model) with ``$expand``, and asks for JSON with ``Accept`` alone."""
    from OData1C import Connection, EntityManager  # type: ignore[import-not-found]
    from OData1C.models import ODataModel  # type: ignore[import-not-found]
    from pydantic import Field  # type: ignore[import-not-found]
    from requests.auth import HTTPBasicAuth

    class Counterparty(ODataModel):  # type: ignore[misc]
        description: str = Field(alias="Description")

    class EdoDocument(ODataModel):  # type: ignore[misc]
        ref: str = Field(alias="Ref_Key")
        counterparty: Counterparty = Field(alias="Контрагент")
        nested_models = {"counterparty": Counterparty}  # noqa: RUF012 - the library's API

    base = make_base(10)
    base.add_login("odata", "odata")
    with OneCEmulator(base, conduct=Conduct(accept_json=True)) as emulator:
        host = emulator.url.removeprefix("http://")
        with Connection(host, "http", HTTPBasicAuth("odata", "odata")) as connection:
            manager = EntityManager(
                connection,
                emulator.publication,
                "Document_ЭлектронныйДокументИсходящийЭДО",
                EdoDocument,
            )
            documents = manager.expand("counterparty").top(3).all()
    assert len(documents) == 3
    assert all(doc.counterparty.description for doc in documents)
