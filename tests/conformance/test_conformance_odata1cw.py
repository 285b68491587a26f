"""The 1C emulator driven by odata1cw 0.0.4, a client written against real 1C bases.

odata1cw adds ``$format=json`` and ``Accept: application/json`` to every request
and passes ``$select`` / ``$expand`` through as given. It encodes Basic
credentials as Latin-1 (``requests``), so its login here is ASCII.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _onec_helpers import make_base
from odata1cw.catalog import Catalog
from odata1cw.core import Infobase
from odata1cw.document import Document

from edo_rules.emulators.onec import COUNTERPARTIES, OUTGOING, OneCBase, OneCEmulator

CONTRACTS = "Catalog_ДоговорыКонтрагентов"


@pytest.fixture(scope="module")
def base() -> OneCBase:
    base = make_base(30)
    base.add_login("odata", "odata")
    return base


@pytest.fixture(scope="module")
def infobase(base: OneCBase) -> Iterator[Infobase]:
    with OneCEmulator(base) as emulator:
        yield Infobase(emulator.url + "/", emulator.publication, "odata", "odata")


def _name(base: OneCBase, key: str) -> str:
    row = base.sets[COUNTERPARTIES].get(key)
    assert row is not None
    return str(row["Description"])


def test_expand_with_the_navigation_fields_in_select(base: OneCBase, infobase: Infobase) -> None:
    """``$expand=Контрагент`` with ``Контрагент/Description`` in ``$select`` nests the
    counterparty's selected fields in each row (1C's standard OData interface supports it;
    the navigation field must be in ``$select`` — project reference, «1С OData»)."""
    documents = Document(infobase, "ЭлектронныйДокументИсходящийЭДО")
    rows = documents.query(top=5, select="Ref_Key,Контрагент/Description", expand="Контрагент")
    assert len(rows) == 5
    for row in rows:
        source = base.sets[OUTGOING].get(row["Ref_Key"])
        assert source is not None
        assert row["Контрагент"] == {"Description": _name(base, source["Контрагент_Key"])}
        assert set(row) == {"Ref_Key", "Контрагент"}


def test_expand_is_silently_skipped_when_the_navigation_is_not_selected(
    infobase: Infobase,
) -> None:
    """ "``$expand`` works only if the navigation field is also in ``$select``; otherwise it
    is silently not expanded" (project reference, «1С OData», from live integrations)."""
    documents = Document(infobase, "ЭлектронныйДокументИсходящийЭДО")
    rows = documents.query(top=3, select="Ref_Key,НомерДокумента", expand="Контрагент")
    assert rows and all(set(row) == {"Ref_Key", "НомерДокумента"} for row in rows)


def test_a_whole_row_carries_navigation_links(base: OneCBase, infobase: Infobase) -> None:
    """Rows carry ``Поле@navigationLinkUrl`` for each reference — also an entity read by
    key (project reference; odata1c-gate strips them from every answer it gets)."""
    key = base.sets[OUTGOING].rows[0]["Ref_Key"]
    row = Document(infobase, "ЭлектронныйДокументИсходящийЭДО").get(key)
    assert row["Контрагент@navigationLinkUrl"] == f"{OUTGOING}(guid'{key}')/Контрагент"
    contract = base.sets[CONTRACTS].rows[0]
    owned = Catalog(infobase, "ДоговорыКонтрагентов").get(contract["Ref_Key"])
    assert owned["Owner@navigationLinkUrl"].endswith(f"(guid'{contract['Ref_Key']}')/Owner")


def test_an_expanded_catalog_row_is_the_whole_object(base: OneCBase, infobase: Infobase) -> None:
    """``$expand=Owner`` with no ``$select`` nests the whole referenced object."""
    rows = Catalog(infobase, "ДоговорыКонтрагентов").query(top=2, expand="Owner")
    for row in rows:
        assert row["Owner"]["Ref_Key"] == row["Owner_Key"]
        assert row["Owner"]["Description"] == _name(base, row["Owner_Key"])
