"""The sync adapts to the publication it finds: each emulated publication variant over HTTP.

The emulator answers 400 code 14 for a property the set does not have, as
1C does, so every test here fails if the sync asks for one.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from _onec_helpers import LOGIN, PASSWORD, make_base, open_store, serving, settings_for, sync

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
)
from edo_rules.errors import SourceError
from edo_rules.model import Document, Kind, Side
from edo_rules.sources.onec import ODataClient, PageRequest
from edo_rules.sources.onec._links import e1cib_ref, guid_of_ref, navigation_link
from edo_rules.sources.onec._metadata import METADATA, METADATA_HASH

_TAX_BASES = ("Document_СчетФактураВыданный", "Document_СчетФактураПолученный")


def _asked(emulator: OneCEmulator) -> list[str]:
    return [unquote(path) for path in emulator.requests]


def _current_links(base: OneCBase) -> dict[str, tuple[str, str]]:
    """Document → (basis set, basis key) of the row 1C marks current (or the only one)."""
    links: dict[str, tuple[str, str]] = {}
    for row in base.sets[OBJECTS].rows:
        if row.get("Актуальный", True):
            kind = str(row["ОбъектУчета_Type"]).removeprefix("StandardODATA.")
            links[row["ЭлектронныйДокумент"]] = (kind, row["ОбъектУчета"])
    return links


def _basis(doc: Document) -> tuple[str, str]:
    assert doc.basis is not None
    name, _, rest = doc.basis.partition("(guid'")
    return name, rest.removesuffix("')")


def test_documents_without_number_sync_and_number_is_never_asked(tmp_path: Path) -> None:
    base = make_base(90, publication=Publication(numbered=False))
    store = open_store(tmp_path)
    with serving(base) as emulator:
        report = sync(emulator, store)
        asked = _asked(emulator)
    assert report.documents == 90
    assert not any("Number" in path for path in asked if "Document_ЭлектронныйДокумент" in path)
    for doc in store.iter_documents():
        assert doc.number == base.document(doc.id)["НомерДокумента"]
    # Reported once, in the summary, not per page.
    assert report.missing_fields.count(f"{OUTGOING}.Number") == 1
    assert f"{INCOMING}.Number" in report.missing_fields


def test_pages_are_ordered_by_date_and_ref_key_never_by_an_optional_field(
    tmp_path: Path,
) -> None:
    base = make_base(60)
    with serving(base) as emulator:
        sync(emulator, open_store(tmp_path))
        orders = [
            path.split("$orderby=")[1].split("&")[0]
            for path in _asked(emulator)
            if "Document_ЭлектронныйДокумент" in path and "$orderby=" in path
        ]
    assert orders and set(orders) == {"Date asc,Ref_Key asc"}


def test_the_emulator_refuses_an_unknown_property_like_1c(tmp_path: Path) -> None:
    base = make_base(5, publication=Publication(numbered=False))
    with serving(base) as emulator:
        client = ODataClient(settings_for(emulator))
        for request in (
            PageRequest(OUTGOING, ("Ref_Key", "Number")),
            PageRequest(OUTGOING, ("Ref_Key",), orderby="Date asc,Number asc"),
            PageRequest(OUTGOING, ("Ref_Key",), filter="Number eq '1'"),
        ):
            with pytest.raises(SourceError) as caught:
                client.get(request)
            assert caught.value.code == "14" and "Number" in str(caught.value)
        client.close()


def test_metadata_is_read_once_and_cached_in_the_store_with_its_hash(tmp_path: Path) -> None:
    base = make_base(40)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        first = sum(path.endswith("$metadata") for path in _asked(emulator))
        base.advance(hours=1)
        base.sign(next(iter(base.sets[OUTGOING].rows))["Ref_Key"])
        report = sync(emulator, store)
        second = sum(path.endswith("$metadata") for path in _asked(emulator))
    state = store.get_sync_state()
    assert first == 1 and second == 1  # the incremental sync used the cached copy
    assert report.mode in ("incremental", "heal")
    assert len(state[METADATA_HASH]) == 64 and OUTGOING in state[METADATA]


def test_a_changed_publication_is_read_again_after_1c_names_an_unknown_property(
    tmp_path: Path,
) -> None:
    base = make_base(40)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        # The configuration is updated: the EDO documents lose their standard number.
        for name in (OUTGOING, INCOMING):
            base.sets[name].fields = base.sets[name].fields - {"Number"}
        before = store.get_sync_state()[METADATA_HASH]
        base.advance(hours=1)
        key = next(iter(base.sets[OUTGOING].rows))["Ref_Key"]
        base.sign(key)
        sync(emulator, store)
        metadata_reads = sum(path.endswith("$metadata") for path in _asked(emulator))
    assert metadata_reads == 2
    assert store.get_sync_state()[METADATA_HASH] != before
    assert store.get_documents([key])[key].status_1c == "ОбменЗавершен"


def test_a_missing_required_set_is_one_clear_error(tmp_path: Path) -> None:
    base = make_base(10, published=set(BP30_SETS) - {STATES})
    with serving(base) as emulator, pytest.raises(SourceError) as caught:
        sync(emulator, open_store(tmp_path))
    text = str(caught.value)
    assert f"не опубликован объект Регистр сведений «СостоянияДокументовЭДО» ({STATES})" in text
    assert "Настройка стандартного интерфейса OData" in text


def test_a_legacy_preset_against_a_current_base_says_use_bp30(tmp_path: Path) -> None:
    base = make_base(10)
    with serving(base) as emulator, pytest.raises(SourceError) as caught:
        sync(emulator, open_store(tmp_path), preset="bp30-legacy")
    assert "укажите набор bp30 " in f"{caught.value} "


def test_the_current_preset_against_a_legacy_base_says_use_bp30_legacy(tmp_path: Path) -> None:
    base = make_base(10, generation="legacy")
    with serving(base) as emulator, pytest.raises(SourceError) as caught:
        sync(emulator, open_store(tmp_path))
    assert "укажите набор bp30-legacy (onec.preset в конфиге)" in str(caught.value)


def test_tax_invoices_get_their_own_kind(tmp_path: Path) -> None:
    base = make_base(150)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
    documents = list(store.iter_documents())
    taxed = [doc for doc in documents if _basis(doc)[0] in _TAX_BASES]
    assert taxed, "the generated base has счета-фактуры"
    assert all(doc.kind is Kind.TAX_INVOICE for doc in taxed)
    assert all(doc.title.startswith("Счёт-фактура № ") for doc in taxed)
    assert not any(doc.kind is Kind.TAX_INVOICE for doc in documents if doc not in taxed)


def test_the_current_accounting_object_wins_over_an_outdated_one(tmp_path: Path) -> None:
    base = make_base(160, publication=Publication(current_flag=True))
    outdated = [row for row in base.sets[OBJECTS].rows if row.get("Актуальный") is False]
    assert outdated, "the variant keeps outdated links"
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
    links = _current_links(base)
    for doc in store.iter_documents():
        assert _basis(doc) == links[doc.id]
    contracts = [doc for doc in store.iter_documents() if doc.kind is Kind.CONTRACT]
    assert any(row["ЭлектронныйДокумент"] in {d.id for d in contracts} for row in outdated)


def test_the_current_flag_holds_in_an_incremental_sync(tmp_path: Path) -> None:
    base = make_base(60, publication=Publication(current_flag=True))
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        base.advance(hours=1)
        user = base.sets["Catalog_Пользователи"].rows[0]["Ref_Key"]
        counterparty = base.sets["Catalog_Контрагенты"].rows[0]["Ref_Key"]
        organization = base.sets["Catalog_Организации"].rows[0]["Ref_Key"]
        contract = base.sets["Catalog_ДоговорыКонтрагентов"].rows[0]["Ref_Key"]
        keys = [
            base.create_document(
                counterparty=counterparty,
                responsible=user,
                organization=organization,
                kind="contract",
                contract=contract,
            )
            for _ in range(8)
        ]
        sync(emulator, store)
    assert any(len(base.sets[OBJECTS].find("ЭлектронныйДокумент", key)) == 2 for key in keys)
    for key, doc in store.get_documents(keys).items():
        assert doc.kind is Kind.CONTRACT and _basis(doc) == (
            "Catalog_ДоговорыКонтрагентов",
            contract,
        ), key


def test_signer_names_come_from_a_published_signatures_register(tmp_path: Path) -> None:
    base = make_base(80, published=(*BP30_SETS, SIGNATURES))
    store = open_store(tmp_path)
    with serving(base) as emulator:
        report = sync(emulator, store)
        asked = [path for path in _asked(emulator) if SIGNATURES in path]
    assert SIGNATURES not in report.unpublished
    assert asked and not any("Base64Data" in path or "Подпись_Type" in path for path in asked)
    theirs = {
        row["ПодписанныйОбъект"]: row["КомуВыданСертификат"]
        for row in base.sets[SIGNATURES].rows
        if row["УстановившийПодпись_Key"] == "00000000-0000-0000-0000-000000000000"
    }
    signed = [doc for doc in store.iter_documents() if doc.id in theirs]
    assert signed
    for doc in signed:
        names = [s for s in doc.signers if s.side is Side.COUNTERPARTY]
        assert [s.name for s in names] == [theirs[doc.id]]
        assert not names[0].organization and names[0].name != doc.counterparty.name


def test_signer_names_arrive_with_an_incremental_sync(tmp_path: Path) -> None:
    base = make_base(40, published=(*BP30_SETS, SIGNATURES))
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        base.advance(hours=2)
        waiting = next(
            row["ЭлектронныйДокумент"]
            for row in base.sets[STATES].rows
            if row["Состояние"] == "ОжидаетсяПодтверждение"
        )
        base.sign(waiting)
        sync(emulator, store)
    holder = next(
        row["КомуВыданСертификат"]
        for row in base.sets[SIGNATURES].find("ПодписанныйОбъект", waiting)
        if row["ПорядковыйНомер"] == "2"
    )
    doc = store.get_documents([waiting])[waiting]
    assert [s.name for s in doc.signers if s.side is Side.COUNTERPARTY] == [holder]


def test_every_document_gets_a_web_client_link_that_opens_it(tmp_path: Path) -> None:
    base = make_base(20)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store, web_url="https://1c.example.local/buh/ru_RU/")
    for doc in store.iter_documents():
        assert doc.onec_url is not None
        prefix, _, link = doc.onec_url.partition("#")
        assert prefix == "https://1c.example.local/buh/ru_RU/"
        name = "Исходящий" if doc.direction.value == "outgoing" else "Входящий"
        target, _, ref = unquote(link).partition("?ref=")
        assert target == f"e1cib/data/Документ.ЭлектронныйДокумент{name}ЭДО"
        assert guid_of_ref(ref) == doc.id


def test_without_a_web_url_the_link_points_at_the_publication(tmp_path: Path) -> None:
    base = make_base(5)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        root = f"{emulator.url}/{emulator.publication}/#"
    assert all((doc.onec_url or "").startswith(root) for doc in store.iter_documents())


def test_the_pdf_url_template_is_filled_from_the_document(tmp_path: Path) -> None:
    base = make_base(10)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store, pdf_url="https://edo.example/doc?n={number}&inn={inn}&id={id}")
    for doc in store.iter_documents():
        inn = doc.counterparty.inn or ""
        assert doc.pdf_url == f"https://edo.example/doc?n={doc.number}&inn={inn}&id={doc.id}"


def test_the_navigation_ref_encoding_matches_1c() -> None:
    # A published example: e1cib/data/Документ.ЗаказПокупателя?ref=b59500055d80a2b911de397d51012ccc
    # names the document whose GUID is 51012ccc-397d-11de-b595-00055d80a2b9 (docs/1c.md).
    guid = "51012ccc-397d-11de-b595-00055d80a2b9"
    assert e1cib_ref(guid) == "b59500055d80a2b911de397d51012ccc"
    assert e1cib_ref(guid.upper()) == "b59500055d80a2b911de397d51012ccc"
    assert guid_of_ref("b59500055d80a2b911de397d51012ccc") == guid
    assert navigation_link("Document_ЗаказПокупателя", guid) == (
        "e1cib/data/Документ.ЗаказПокупателя?ref=b59500055d80a2b911de397d51012ccc"
    )
    assert navigation_link("Catalog_Контрагенты", guid).startswith("e1cib/data/Справочник.")
    for bad in ("", "51012ccc397d11deb59500055d80a2b9", "zz012ccc-397d-11de-b595-00055d80a2b9"):
        with pytest.raises(ValueError):
            e1cib_ref(bad)
    with pytest.raises(ValueError):
        guid_of_ref("b595")


def test_a_direct_http_request_to_metadata_needs_the_login() -> None:
    base = make_base(3)
    with serving(base) as emulator:
        url = f"{emulator.service_url}$metadata"
        assert httpx.get(url).status_code == 401
        answer = httpx.get(url, auth=(LOGIN.encode(), PASSWORD.encode()))
    assert answer.status_code == 200 and b"DataServiceVersion" in answer.content


def test_errors_show_the_set_and_the_decoded_query_cut_to_a_readable_length() -> None:
    base = make_base(3)
    with serving(base) as emulator:
        client = ODataClient(settings_for(emulator))
        wanted = ("Ref_Key", "Нет", *(f"Поле{i}" for i in range(45)))
        with pytest.raises(SourceError) as caught:
            client.get(PageRequest(OUTGOING, wanted))
        client.close()
    text = str(caught.value)
    request = text.split("(запрос: ", 1)[1].split(")\n", 1)[0]
    assert f"на запрос к {OUTGOING}" in text and '"Нет"' in text
    assert "%D0" not in request and "$select=Ref_Key,Нет" in request
    assert len(request) <= 400 and "…" in request


def test_the_same_failure_is_counted_once_per_sync(tmp_path: Path) -> None:
    from edo_rules._messages import t
    from edo_rules.cli._sync import summary
    from edo_rules.emulators.onec import Fault

    base = make_base(30)
    with serving(base) as emulator:
        emulator.inject(Fault("status503", entity_set=OUTGOING, times=2))
        report = sync(emulator, open_store(tmp_path))
    assert report.documents == 30
    assert list(report.failures.values()) == [2]
    failure = next(iter(report.failures))
    assert t("sync_failed", count=2, failure=failure) in summary(report)
    assert sum("503" in line for line in summary(report)) == 1  # once, with its count


def test_the_emulate_command_serves_a_chosen_publication_variant() -> None:
    import subprocess
    import sys

    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from edo_rules.cli import main; sys.exit(main(sys.argv[1:]))",
            *("emulate", "1c", "--documents", "12", "--user", "u", "--password", "p"),
            *("--no-number", "--current-flag", "--signatures"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        body = httpx.get(f"{url}$metadata", auth=("u", "p")).text
    finally:
        process.terminate()
        process.wait(timeout=10)
    outgoing = body.split(f'<EntityType Name="{OUTGOING}">')[1].split("</EntityType>")[0]
    assert 'Name="Ref_Key"' in outgoing and 'Name="Number"' not in outgoing
    assert 'Name="Актуальный" Type="Edm.Boolean"' in body
    assert f'<EntitySet Name="{SIGNATURES}"' in body


def test_a_tax_invoice_is_known_by_its_edo_kind_without_the_accounting_objects(
    tmp_path: Path,
) -> None:
    base = make_base(150, published=set(BP30_SETS) - {OBJECTS})
    kinds = {
        row["Description"]: row["Ref_Key"] for row in base.sets["Catalog_ВидыДокументовЭДО"].rows
    }
    store = open_store(tmp_path)
    with serving(base) as emulator:
        report = sync(emulator, store)
    assert OBJECTS in report.unpublished
    taxed = {
        row["Ref_Key"]
        for name in (OUTGOING, INCOMING)
        for row in base.sets[name].rows
        if row["ВидДокумента_Key"] == kinds["Счет-фактура"]
    }
    assert taxed
    for doc in store.iter_documents():
        assert (doc.kind is Kind.TAX_INVOICE) == (doc.id in taxed), doc.id


@pytest.mark.parametrize("typo", ["tax-invoice", "taxinvoice", "tax_invoise"])
def test_a_playbook_learns_the_tax_invoice_kind_with_a_did_you_mean(typo: str) -> None:
    from edo_rules.errors import PlaybookError
    from edo_rules.playbook.loader import load_playbook_text

    text = (
        "version: 1\nname: t\nrules:\n  - id: r\n    match: {kind: %s}\n"
        "    when: {status_changed: {to: signed}}\n    do: [log: {message: x}]\n"
    )
    playbook = load_playbook_text(text % "tax_invoice", "pb.yaml")
    assert playbook.rules[0].match.kinds == frozenset({Kind.TAX_INVOICE})
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text % typo, "pb.yaml")
    assert f"неизвестное значение '{typo}' (возможно, 'tax_invoice'?)" in str(caught.value)


def test_a_set_published_later_is_found_when_the_metadata_is_read_again(tmp_path: Path) -> None:
    base = make_base(30, published=set(BP30_SETS) - {"InformationRegister_ЖурналДействийПоЭДО"})
    store = open_store(tmp_path)
    with serving(base) as emulator:
        first = sync(emulator, store)
        base.published.add("InformationRegister_ЖурналДействийПоЭДО")
        base.advance(hours=2)
        soon = sync(emulator, store)  # the cache is fresh: still read as unpublished
        base.advance(days=1)
        later = sync(emulator, store)  # older than heal_every: $metadata is read again
    journal = "InformationRegister_ЖурналДействийПоЭДО"
    assert journal in first.unpublished and journal in soon.unpublished
    assert journal not in later.unpublished


def test_a_required_set_published_after_the_error_is_found_at_once(tmp_path: Path) -> None:
    base = make_base(20, published=set(BP30_SETS) - {STATES})
    store = open_store(tmp_path)
    with serving(base) as emulator:
        with pytest.raises(SourceError):
            sync(emulator, store)
        assert METADATA_HASH in store.get_sync_state()  # the cache was written
        base.published.add(STATES)
        report = sync(emulator, store)
    assert report.documents == 20


def test_missing_required_properties_are_one_error_naming_each_set_and_field(
    tmp_path: Path,
) -> None:
    base = make_base(10)
    base.sets[OUTGOING].fields = base.sets[OUTGOING].fields - {"DataVersion", "Date"}
    base.sets[STATES].fields = base.sets[STATES].fields - {"Состояние"}
    store = open_store(tmp_path)
    with serving(base) as emulator, pytest.raises(SourceError) as caught:
        sync(emulator, store)
    text = str(caught.value)
    assert text.count("в публикации 1С нет того, что нужно для синхронизации") == 1
    for field in ("DataVersion", "Date"):
        assert f"у {OUTGOING} нет реквизита {field}" in text
    assert f"у {STATES} нет реквизита Состояние" in text
    assert "Настройка стандартного интерфейса OData" in text
    assert store.count_documents() == 0


def test_each_changed_document_is_read_from_its_own_set_only(tmp_path: Path) -> None:
    base = make_base(120)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        emulator.requests.clear()
        waiting = [
            row["ЭлектронныйДокумент"]
            for row in base.sets[STATES].rows
            if row["Состояние"] == "ОжидаетсяПодтверждение"
        ][:5]
        outgoing = {row["Ref_Key"] for row in base.sets[OUTGOING].rows}
        assert waiting and set(waiting) <= outgoing
        base.advance(hours=1)
        for doc in waiting:
            base.sign(doc)
        report = sync(emulator, store)
        asked = _asked(emulator)
    assert report.documents == 5
    # The register and the journal name each document's type: only its set is asked.
    register = [path for path in asked if path.split("?")[0].endswith(STATES)]
    assert register and all("ЭлектронныйДокумент_Type" in path for path in register)
    journal = [path for path in asked if "ЖурналДействийПоЭДО?" in path]
    assert journal and all("ЭлектронныйДокумент_Type" in path for path in journal)
    assert any(f"/{OUTGOING}?" in path for path in asked)
    assert not any(f"/{INCOMING}?" in path for path in asked), asked
