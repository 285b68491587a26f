"""Builders of wire-format rows (shared by the generator and the acting API)."""

from __future__ import annotations

import zlib
from datetime import date, datetime
from typing import Any

from edo_rules.emulators.onec._wire import EMPTY_DATE, EMPTY_REF, composite_type, fmt_dt

Row = dict[str, Any]

#: The old (first-generation library) names of the states, by current name.
LEGACY_NAMES = {
    "НеСформирован": "НеСформирован",
    "ТребуетсяПодписание": "НаПодписи",
    "ТребуетсяУтверждение": "НаУтверждении",
    "ТребуетсяОтправка": "ОжидаетсяОтправка",
    "ОжидаетсяПодтверждение": "ОжидаетсяПодтверждение",
    "ОжидаетсяИзвещениеОПолучении": "ОжидаетсяИзвещениеОПолучении",
    "ТребуетсяУточнение": "Отклонен",
    "ОжидаетсяИсправление": "Отклонен",
    "ЗакрытСОшибкойПередачи": "ОшибкаПередачи",
    "ОбменЗавершен": "ОбменЗавершен",
    "ОбменЗавершенСИсправлением": "ОбменЗавершенСИсправлением",
    "ОжидаетсяПодтверждениеАннулирования": "ОжидаетсяАннулирование",
    "Аннулирован": "Аннулирован",
    "ЗакрытПринудительно": "ЗакрытПринудительно",
}


def catalog_row(key: str, version: str, code: str, description: str, **extra: Any) -> Row:
    """A catalog item with the standard catalog fields."""
    return {
        "Ref_Key": key,
        "DataVersion": version,
        "DeletionMark": False,
        "Code": code,
        "Description": description,
        "Parent_Key": EMPTY_REF,
        "IsFolder": False,
        "Predefined": False,
        "PredefinedDataName": "",
        **extra,
    }


def day(value: date | None) -> str:
    """A date field (1C keeps dates as date-times at midnight)."""
    if value is None:
        return EMPTY_DATE
    return f"{value:%Y-%m-%d}T00:00:00"


def document_row(key: str, version: str, number: str, at: datetime, **extra: Any) -> Row:
    """A document with the standard document fields."""
    return {
        "Ref_Key": key,
        "DataVersion": version,
        "DeletionMark": False,
        "Number": number,
        "Date": fmt_dt(at),
        "Posted": True,
        **extra,
    }


def state_row(
    doc: str, doc_set: str, state: str, at: datetime, comment: str, *, prefixed: bool
) -> Row:
    """A row of the state register (one per EDO document)."""
    return {
        "ЭлектронныйДокумент": doc,
        "ЭлектронныйДокумент_Type": composite_type(doc_set, prefixed=prefixed),
        "Состояние": state,
        "СостояниеДополнение": "",
        "ДатаИзменения": fmt_dt(at),
        "Комментарий": comment,
    }


def legacy_state_row(
    doc: str, doc_set: str, basis: tuple[str, str], state: str, *, prefixed: bool
) -> Row:
    """A row of the first-generation register СостоянияЭД (no change date in it)."""
    return {
        "СсылкаНаОбъект": basis[1],
        "СсылкаНаОбъект_Type": composite_type(basis[0], prefixed=prefixed),
        "СостояниеВерсииЭД": LEGACY_NAMES.get(state, state),
        "ЭлектронныйДокумент": doc,
        "ЭлектронныйДокумент_Type": composite_type(doc_set, prefixed=prefixed),
    }


def journal_row(
    doc: str, doc_set: str, *, at: datetime, action: str, state: str, user: str, prefixed: bool
) -> Row:
    """A row of the action journal: who did what to the document, and when."""
    return {
        "ЭлектронныйДокумент": doc,
        "ЭлектронныйДокумент_Type": composite_type(doc_set, prefixed=prefixed),
        "ДатаИзменения": fmt_dt(at),
        "Действие": action,
        "СостояниеДокумента": state,
        "Пользователь_Key": user,
        "Ответственный_Key": user,
    }


def object_row(doc: str, doc_set: str, basis: tuple[str, str], *, prefixed: bool) -> Row:
    """A row linking the EDO document to its accounting document."""
    return {
        "ЭлектронныйДокумент": doc,
        "ЭлектронныйДокумент_Type": composite_type(doc_set, prefixed=prefixed),
        "ОбъектУчета": basis[1],
        "ОбъектУчета_Type": composite_type(basis[0], prefixed=prefixed),
    }


_SIGNER_SURNAMES = ("Орлов", "Белов", "Крылов", "Жуков", "Титов", "Фролов", "Гусев", "Киселев")
_SIGNER_NAMES = (("Андрей", "Андреевич"), ("Виктор", "Викторович"), ("Олег", "Олегович"))


def counterparty_signer(counterparty: str) -> str:
    """The certificate holder who signs for a counterparty (stable per counterparty)."""
    code = zlib.crc32(counterparty.encode())
    surname = _SIGNER_SURNAMES[code % len(_SIGNER_SURNAMES)]
    name, _ = _SIGNER_NAMES[(code >> 8) % len(_SIGNER_NAMES)]
    _, patronymic = _SIGNER_NAMES[(code >> 16) % len(_SIGNER_NAMES)]
    return f"{surname} {name} {patronymic}"


def signature_row(
    doc: str, doc_set: str, number: int, *, at: datetime, holder: str, installer: str
) -> Row:
    """A row of the signatures register; the binary resources come Base64-encoded."""
    return {
        "ПодписанныйОбъект": doc,
        "ПодписанныйОбъект_Type": composite_type(doc_set, prefixed=True),
        "ПорядковыйНомер": str(number),  # Int64 travels as a string
        "ДатаПодписи": fmt_dt(at),
        "КомуВыданСертификат": holder,
        "УстановившийПодпись_Key": installer,
        "Отпечаток": f"{zlib.crc32(f'{doc}{number}'.encode()):08X}" * 5,
        "Комментарий": "",
        "Подпись_Base64Data": "MIAGCSqGSIb3DQEHAqCAMIACAQEx",
        "Подпись_Type": "application/octet-stream",
        "Сертификат_Base64Data": "MIIJ7zCCCZygAwIBAgIRA",
        "Сертификат_Type": "application/octet-stream",
    }
