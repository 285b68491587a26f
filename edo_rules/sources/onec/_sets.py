"""Names of the 1C entity sets the source reads (never split a name on ``_``)."""

OUTGOING = "Document_ЭлектронныйДокументИсходящийЭДО"
INCOMING = "Document_ЭлектронныйДокументВходящийЭДО"
OBJECTS = "InformationRegister_ОбъектыУчетаДокументовЭДО"
JOURNAL = "InformationRegister_ЖурналДействийПоЭДО"
COUNTERPARTIES = "Catalog_Контрагенты"
CONTRACTS = "Catalog_ДоговорыКонтрагентов"
USERS = "Catalog_Пользователи"
ORGANIZATIONS = "Catalog_Организации"
SALES = "Document_РеализацияТоваровУслуг"
STATES = "InformationRegister_СостоянияДокументовЭДО"
LEGACY_STATES = "InformationRegister_СостоянияЭД"
SIGNATURES = "InformationRegister_ЭлектронныеПодписи"
EDO_KINDS = "Catalog_ВидыДокументовЭДО"

#: The fields read from both EDO document sets.
DOCUMENT_FIELDS: tuple[str, ...] = (
    "Ref_Key",
    "DataVersion",
    "Number",
    "Date",
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
    "СписокПодписантов",
)
#: The date the document left us (outgoing) or reached us (incoming), by set.
DIRECTION_DATE = {OUTGOING: "ДатаОтправки", INCOMING: "ДатаПолучения"}
