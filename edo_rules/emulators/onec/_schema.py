"""The entity sets of BP 3.0 the emulator serves, with their real names and fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edo_rules.emulators.onec._sets import EntitySet

if TYPE_CHECKING:
    from edo_rules.emulators.onec._publication import Publication

OUTGOING = "Document_ЭлектронныйДокументИсходящийЭДО"
INCOMING = "Document_ЭлектронныйДокументВходящийЭДО"
STATES = "InformationRegister_СостоянияДокументовЭДО"
OBJECTS = "InformationRegister_ОбъектыУчетаДокументовЭДО"
JOURNAL = "InformationRegister_ЖурналДействийПоЭДО"
LEGACY_STATES = "InformationRegister_СостоянияЭД"
COUNTERPARTIES = "Catalog_Контрагенты"
CONTRACTS = "Catalog_ДоговорыКонтрагентов"
USERS = "Catalog_Пользователи"
ORGANIZATIONS = "Catalog_Организации"
SALES = "Document_РеализацияТоваровУслуг"
#: Basis documents the generator refers to without serving them (an invoice).
INVOICES = "Document_СчетНаОплатуПокупателю"
#: Счета-фактуры, issued and received (basis documents the generator refers to).
TAX_INVOICES_OUT = "Document_СчетФактураВыданный"
TAX_INVOICES_IN = "Document_СчетФактураПолученный"
#: The library's catalog of EDO document kinds (the EDO documents' ВидДокумента).
EDO_KINDS = "Catalog_ВидыДокументовЭДО"
#: The signatures register (its fields depend on the publication: see _publication).
SIGNATURES = "InformationRegister_ЭлектронныеПодписи"

_CATALOG = (
    "Ref_Key",
    "DataVersion",
    "DeletionMark",
    "Code",
    "Description",
    "Parent_Key",
    "IsFolder",
    "Predefined",
    "PredefinedDataName",
)
_DOCUMENT = ("Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "Posted")
_EDO = (
    *_DOCUMENT,
    "ДатаДокумента",
    "НомерДокумента",
    "ДатаПодписания",
    "ДатаАннулирования",
    "Контрагент_Key",
    "ДоговорКонтрагента_Key",
    "Организация_Key",
    "Ответственный_Key",
    "СуммаДокумента",
    "ТипРегламента",
    "ВидДокумента_Key",
    "ТребуетсяПодтверждение",
    "Остановлен",
    "ПричинаОстановки",
    "СписокПодписантов",
)

#: The fields of every set, by set name.
FIELDS: dict[str, tuple[str, ...]] = {
    USERS: _CATALOG,
    EDO_KINDS: _CATALOG,
    ORGANIZATIONS: (*_CATALOG, "ИНН", "КПП", "НаименованиеПолное"),
    COUNTERPARTIES: (*_CATALOG, "ИНН", "КПП", "НаименованиеПолное"),
    CONTRACTS: (
        *_CATALOG,
        "Owner_Key",
        "Организация_Key",
        "Номер",
        "Дата",
        "СрокДействия",
        "ВидДоговора",
        "ДоговорПодписан",
    ),
    SALES: (
        *_DOCUMENT,
        "Организация_Key",
        "Контрагент_Key",
        "ДоговорКонтрагента_Key",
        "Ответственный_Key",
        "СуммаДокумента",
        "ЭтоУниверсальныйДокумент",
        "ВидОперации",
    ),
    OUTGOING: (*_EDO, "ДатаОтправки"),
    INCOMING: (*_EDO, "ДатаПолучения"),
    STATES: (
        "ЭлектронныйДокумент",
        "ЭлектронныйДокумент_Type",
        "Состояние",
        "СостояниеДополнение",
        "ДатаИзменения",
        "Комментарий",
    ),
    OBJECTS: (
        "ЭлектронныйДокумент",
        "ЭлектронныйДокумент_Type",
        "ОбъектУчета",
        "ОбъектУчета_Type",
    ),
    JOURNAL: (
        "ЭлектронныйДокумент",
        "ЭлектронныйДокумент_Type",
        "ДатаИзменения",
        "Действие",
        "СостояниеДокумента",
        "Пользователь_Key",
        "Ответственный_Key",
    ),
    LEGACY_STATES: (
        "СсылкаНаОбъект",
        "СсылкаНаОбъект_Type",
        "СостояниеВерсииЭД",
        "ЭлектронныйДокумент",
        "ЭлектронныйДокумент_Type",
    ),
}

#: Sets of a current (1С-ЭДО library) base, published by default.
_COMMON = (USERS, ORGANIZATIONS, COUNTERPARTIES, CONTRACTS, SALES, OUTGOING, INCOMING)
#: The signatures register exists in such a base too, but is not published by default.
BP30_SETS: tuple[str, ...] = (*_COMMON, STATES, OBJECTS, JOURNAL, EDO_KINDS)
#: Sets of an older (first-generation library) base, published by default.
LEGACY_SETS: tuple[str, ...] = (*_COMMON, LEGACY_STATES)


def make_sets(publication: Publication | None = None) -> dict[str, EntitySet]:
    """Empty entity sets of a publication variant, each with its natural order and indexes."""
    from edo_rules.emulators.onec._publication import Publication

    variant = publication or Publication()

    def entity(name: str, sort: tuple[str, ...], **extra: object) -> EntitySet:
        fields = frozenset(variant.fields(name))
        return EntitySet(name, fields, variant.sort_fields(name, sort), **extra)  # type: ignore[arg-type]

    return {
        USERS: entity(USERS, ("Code",)),
        EDO_KINDS: entity(EDO_KINDS, ("Code",)),
        ORGANIZATIONS: entity(ORGANIZATIONS, ("Code",)),
        COUNTERPARTIES: entity(COUNTERPARTIES, ("Code",)),
        CONTRACTS: entity(CONTRACTS, ("Code",), index_fields=("Owner_Key",)),
        # Documents are kept by date and key, the order the sync pages them in; ties
        # within one second go by GUID here, by presentation in 1C (either is stable).
        SALES: entity(SALES, ("Date", "Ref_Key")),
        OUTGOING: entity(OUTGOING, ("Date", "Ref_Key")),
        INCOMING: entity(INCOMING, ("Date", "Ref_Key")),
        STATES: entity(STATES, ("ДатаИзменения",), key_field="ЭлектронныйДокумент"),
        OBJECTS: entity(OBJECTS, (), key_field=None, index_fields=("ЭлектронныйДокумент",)),
        JOURNAL: entity(
            JOURNAL, ("ДатаИзменения",), key_field=None, index_fields=("ЭлектронныйДокумент",)
        ),
        LEGACY_STATES: entity(LEGACY_STATES, (), key_field="ЭлектронныйДокумент"),
        SIGNATURES: entity(
            SIGNATURES, ("ДатаПодписи",), key_field=None, index_fields=("ПодписанныйОбъект",)
        ),
    }
