"""Publication variants: what a particular BP 3.0 base exposes over OData.

Real publications differ (docs/1c.md, «Варианты публикации»): an EDO document
whose numbering is off has no ``Number`` at all; newer library versions keep
several rows per EDO document in ОбъектыУчетаДокументовЭДО and flag the
current one; the signatures register may or may not be published. A
:class:`Publication` names one such variant; the entity sets, the generated
rows and ``$metadata`` all follow it, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from edo_rules.emulators.onec import _schema

#: The flag of the current row of ОбъектыУчетаДокументовЭДО (newer library versions).
CURRENT_FLAG = "Актуальный"

#: The signatures register (БСП «Электронная подпись»): what is read, and the binary
#: ValueStorage resources, each published as ``X_Base64Data`` + ``X_Type`` (1C KB 17.4.3).
SIGNATURE_FIELDS: tuple[str, ...] = (
    "ПодписанныйОбъект",
    "ПодписанныйОбъект_Type",
    "ПорядковыйНомер",
    "ДатаПодписи",
    "КомуВыданСертификат",
    "УстановившийПодпись_Key",
    "Отпечаток",
    "Комментарий",
    "Подпись_Base64Data",
    "Подпись_Type",
    "Сертификат_Base64Data",
    "Сертификат_Type",
)


@dataclass(frozen=True, slots=True)
class Publication:
    """One publication variant of the emulated base.

    ``numbered``: the EDO document sets have the standard ``Number`` (an EDO
    document with numbering off has none; its number is ``НомерДокумента``).
    ``current_flag``: ОбъектыУчетаДокументовЭДО holds several rows per
    document, the current one flagged ``Актуальный``; without it, one row.
    ``signatures``: the base has the signatures register (publish it or not
    with ``OneCBase(published=…)``).
    """

    numbered: bool = True
    current_flag: bool = False
    signatures: bool = True

    def fields(self, name: str) -> tuple[str, ...]:
        """The fields of set ``name`` in this variant."""
        if name == _schema.SIGNATURES:
            return SIGNATURE_FIELDS
        fields = _schema.FIELDS[name]
        if name in (_schema.OUTGOING, _schema.INCOMING) and not self.numbered:
            fields = tuple(f for f in fields if f != "Number")
        if name == _schema.OBJECTS and self.current_flag:
            fields = (*fields, CURRENT_FLAG)
        return fields

    def sort_fields(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """The natural order of a set, without a field this variant lacks."""
        return tuple(f for f in default if f in self.fields(name))
