"""The 1C emulator's ``$metadata`` read by pyodata's EDMX parser (a parser others wrote).

Each test names the fact it checks; the facts and their sources are listed in
docs/1c.md («$metadata»): 1C KB 17.4.3 «Data presentation» for the types, the
reference file for keys, enums and tabular parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import pytest

from edo_rules.emulators.onec import (
    BP30_SETS,
    INCOMING,
    OBJECTS,
    OUTGOING,
    SIGNATURES,
    STATES,
    OneCBase,
    OneCEmulator,
    Publication,
    populate,
)

model = pytest.importorskip("pyodata.v2.model", reason="pyodata is in the dev extra")

LOGIN, PASSWORD = "Администратор", "пароль"


@contextmanager
def _schema(**options: object) -> Iterator[object]:
    base = OneCBase(seed=3, now=datetime(2026, 11, 27, 12, 0), **options)  # type: ignore[arg-type]
    base.add_login(LOGIN, PASSWORD)
    populate(base, 20)
    with OneCEmulator(base) as emulator:
        answer = httpx.get(
            f"{emulator.service_url}$metadata", auth=(LOGIN.encode(), PASSWORD.encode())
        )
    assert answer.status_code == 200
    yield model.MetadataBuilder(answer.content).build()


def _names(items: object) -> list[str]:
    return [item.name for item in items]  # type: ignore[attr-defined]


def test_fact_every_object_is_keyed_by_ref_key_of_type_edm_guid() -> None:
    with _schema() as schema:
        for name in (OUTGOING, INCOMING, "Catalog_Контрагенты", "Document_РеализацияТоваровУслуг"):
            entity = schema.entity_type(name)  # type: ignore[attr-defined]
            assert _names(entity.key_proprties) == ["Ref_Key"]
            assert entity.proprty("Ref_Key").typ.name == "Edm.Guid"


def test_fact_register_records_are_keyed_by_their_dimensions() -> None:
    with _schema() as schema:
        entity = schema.entity_type(STATES)  # type: ignore[attr-defined]
        assert _names(entity.key_proprties) == ["ЭлектронныйДокумент", "ЭлектронныйДокумент_Type"]


def test_fact_edm_types_follow_the_1c_types() -> None:
    """Date → Edm.DateTime, Boolean → Edm.Boolean, fraction → Edm.Double, a ref → Edm.Guid,
    an enum value → Edm.String, a composite value and its type → two Edm.String (KB 17.4.3)."""
    with _schema() as schema:
        doc = schema.entity_type(OUTGOING)  # type: ignore[attr-defined]
        expected = {
            "Date": "Edm.DateTime",
            "ДатаОтправки": "Edm.DateTime",
            "DeletionMark": "Edm.Boolean",
            "Posted": "Edm.Boolean",
            "СуммаДокумента": "Edm.Double",
            "Контрагент_Key": "Edm.Guid",
            "ТипРегламента": "Edm.String",
            "DataVersion": "Edm.String",
        }
        assert {name: doc.proprty(name).typ.name for name in expected} == expected
        states = schema.entity_type(STATES)  # type: ignore[attr-defined]
        assert states.proprty("ЭлектронныйДокумент").typ.name == "Edm.String"
        assert states.proprty("ЭлектронныйДокумент_Type").typ.name == "Edm.String"


def test_fact_a_tabular_part_is_a_collection_of_a_row_type_with_int64_line_numbers() -> None:
    with _schema() as schema:
        part = schema.entity_type(OUTGOING).proprty("СписокПодписантов")  # type: ignore[attr-defined]
        assert part.typ.is_collection
        assert part.typ.name.endswith("_СписокПодписантов_RowType")
        row = schema.complex_type(part.typ.name)  # type: ignore[attr-defined]
        assert row.proprty("LineNumber").typ.name == "Edm.Int64"
        assert row.proprty("Подписант_Key").typ.name == "Edm.Guid"


def test_fact_enumerations_are_types_not_sets() -> None:
    with _schema() as schema:
        enum = schema.enum_type("Enum_СостоянияДокументовЭДО")  # type: ignore[attr-defined]
        assert "ОбменЗавершен" in _names(enum._member)
        sets = _names(schema.entity_sets)  # type: ignore[attr-defined]
        assert not any(name.startswith("Enum_") for name in sets)


def test_fact_a_reference_has_a_navigation_property_to_its_set() -> None:
    with _schema() as schema:
        doc = schema.entity_type(OUTGOING)  # type: ignore[attr-defined]
        navs = {nav.name: nav.to_role.entity_type_name for nav in doc.nav_proprties}
        assert navs["Контрагент"] == "Catalog_Контрагенты"
        assert navs["Ответственный"] == "Catalog_Пользователи"


def test_fact_the_metadata_declares_data_service_version_3() -> None:
    base = OneCBase(seed=1)
    base.add_login(LOGIN, PASSWORD)
    with OneCEmulator(base) as emulator:
        body = httpx.get(
            f"{emulator.service_url}$metadata", auth=(LOGIN.encode(), PASSWORD.encode())
        ).text
    assert 'm:DataServiceVersion="3.0"' in body


def test_fact_each_publication_variant_changes_the_metadata_consistently() -> None:
    with _schema(publication=Publication(numbered=False, current_flag=True)) as schema:
        doc = schema.entity_type(OUTGOING)  # type: ignore[attr-defined]
        assert "Number" not in _names(doc.proprties())
        links = schema.entity_type(OBJECTS)  # type: ignore[attr-defined]
        assert links.proprty("Актуальный").typ.name == "Edm.Boolean"
        assert SIGNATURES not in _names(schema.entity_sets)  # type: ignore[attr-defined]
    with _schema(published=(*BP30_SETS, SIGNATURES)) as schema:
        doc = schema.entity_type(OUTGOING)  # type: ignore[attr-defined]
        assert doc.proprty("Number").typ.name == "Edm.String"
        signatures = schema.entity_type(SIGNATURES)  # type: ignore[attr-defined]
        assert signatures.proprty("ДатаПодписи").typ.name == "Edm.DateTime"
        assert signatures.proprty("ПорядковыйНомер").typ.name == "Edm.Int64"
        assert signatures.proprty("Подпись_Base64Data").typ.name == "Edm.String"


def test_fact_the_projects_reader_takes_keys_and_literal_types_from_the_metadata() -> None:
    from edo_rules.sources.onec._metadata import parse_metadata

    base = OneCBase(seed=1)
    base.add_login(LOGIN, PASSWORD)
    with OneCEmulator(base) as emulator:
        body = httpx.get(
            f"{emulator.service_url}$metadata", auth=(LOGIN.encode(), PASSWORD.encode())
        ).content
    published = parse_metadata(body, (OUTGOING, STATES, SIGNATURES))
    assert published.keys[OUTGOING] == ("Ref_Key",)
    assert published.keys[STATES] == ("ЭлектронныйДокумент", "ЭлектронныйДокумент_Type")
    assert not published.published(SIGNATURES)  # not published by default
    guid = "51012ccc-397d-11de-b595-00055d80a2b9"
    assert published.literal(OUTGOING, "Ref_Key", guid) == f"guid'{guid}'"
    assert published.literal(STATES, "ЭлектронныйДокумент", guid) == f"guid'{guid}'"
    moment = "2026-11-27T12:00:00"
    assert published.literal(STATES, "ДатаИзменения", moment) == f"datetime'{moment}'"
    assert published.literal(OUTGOING, "НомерДокумента", "O'1") == "'O''1'"
