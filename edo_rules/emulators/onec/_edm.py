"""``$metadata``: the EDMX document, generated from the entity sets that serve the rows.

What 1C publishes (docs/1c.md, «$metadata», with sources):

* EDMX 1.0 with ``m:DataServiceVersion="3.0"``, one schema ``StandardODATA``
  in the CSDL v3 namespace; an entity type and an entity set per object,
  named alike (``Catalog_Контрагенты``) [1C KB 17.4.2].
* Types by the 1C type [1C KB 17.4.3]: String → ``Edm.String``, Date →
  ``Edm.DateTime``, integer → ``Edm.Int64``, fraction → ``Edm.Double``,
  Boolean → ``Edm.Boolean``, a reference → ``X_Key`` ``Edm.Guid`` plus a
  navigation property ``X``, an enum value → ``Edm.String`` (the value's
  name), a composite type → two ``Edm.String`` properties (``X``, ``X_Type``),
  ValueStorage → ``X_Base64Data`` + ``X_Type``.
* Objects are keyed by ``Ref_Key``, register records by their dimensions.
* Enumerations are types, not sets (``Enum_…``); a tabular part is a
  collection of a ``…_RowType`` complex type.

Because the document is built from the sets' own fields, every publication
variant (:mod:`._publication`) changes it consistently with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from xml.sax.saxutils import quoteattr

from edo_rules.emulators.onec import _schema
from edo_rules.emulators.onec._sets import EntitySet

NAMESPACE = "StandardODATA"

#: Enumerations the served fields hold values of (names as in BP 3.0.151).
ENUMS: dict[str, tuple[str, ...]] = {
    "Enum_СостоянияДокументовЭДО": (
        "Аннулирован",
        "ЗакрытПринудительно",
        "ЗакрытСОтклонением",
        "ЗакрытСОшибкойПередачи",
        "НеСформирован",
        "ОбменЗавершен",
        "ОбменЗавершенСИсправлением",
        "ОжидаетсяИзвещениеОПолучении",
        "ОжидаетсяИсправление",
        "ОжидаетсяОтветНаПриглашение",
        "ОжидаетсяПередачаОператору",
        "ОжидаетсяПодтверждение",
        "ОжидаетсяПодтверждениеАннулирования",
        "ТребуетсяОтправка",
        "ТребуетсяПодписание",
        "ТребуетсяУтверждение",
        "ТребуетсяУточнение",
    ),
    "Enum_ТипыРегламентовЭДО": ("УПД", "Формализованный", "Неформализованный", "УКД"),
    "Enum_ВидыОперацийРеализацияТоваров": ("Товары", "Услуги", "ТоварыУслуги"),
    "Enum_ВидыДоговоровКонтрагентов": ("СПоставщиком", "СПокупателем", "Прочее"),
    "Enum_СостоянияВерсийЭД": (
        "НаПодписи",
        "НаУтверждении",
        "ОжидаетсяОтправка",
        "ОжидаетсяПодтверждение",
        "Отклонен",
        "ОшибкаПередачи",
        "ОбменЗавершен",
        "ОбменЗавершенСИсправлением",
        "Аннулирован",
        "ЗакрытПринудительно",
    ),
}
#: Field → the enumeration its values come from (the property itself is Edm.String).
ENUM_FIELDS = {
    "Состояние": "Enum_СостоянияДокументовЭДО",
    "СостояниеДокумента": "Enum_СостоянияДокументовЭДО",
    "ТипРегламента": "Enum_ТипыРегламентовЭДО",
    "ВидОперации": "Enum_ВидыОперацийРеализацияТоваров",
    "ВидДоговора": "Enum_ВидыДоговоровКонтрагентов",
    "СостояниеВерсииЭД": "Enum_СостоянияВерсийЭД",
}
_BOOLEAN = frozenset(
    {
        "DeletionMark",
        "Posted",
        "IsFolder",
        "Predefined",
        "ТребуетсяПодтверждение",
        "Остановлен",
        "ДоговорПодписан",
        "ЭтоУниверсальныйДокумент",
        "Актуальный",
    }
)
_DOUBLE = frozenset({"СуммаДокумента"})
_INT64 = frozenset({"LineNumber", "ПорядковыйНомер"})
_DATETIME = frozenset({"Date", "Period", "СрокДействия"})
#: Tabular parts and the fields of their rows.
TABULAR: dict[str, tuple[str, ...]] = {
    "СписокПодписантов": ("Ref_Key", "LineNumber", "Подписант_Key", "Сертификат_Key"),
}
#: A reference field's navigation property → the set it points to.
_TARGETS = {
    "Контрагент": _schema.COUNTERPARTIES,
    "ДоговорКонтрагента": _schema.CONTRACTS,
    "Организация": _schema.ORGANIZATIONS,
    "Ответственный": _schema.USERS,
    "Пользователь": _schema.USERS,
    "УстановившийПодпись": _schema.USERS,
    "Owner": _schema.COUNTERPARTIES,
    "ВидДокумента": _schema.EDO_KINDS,
}
#: Register records are keyed by their dimensions (a composite one with its type).
REGISTER_KEYS: dict[str, tuple[str, ...]] = {
    _schema.STATES: ("ЭлектронныйДокумент", "ЭлектронныйДокумент_Type"),
    _schema.OBJECTS: (
        "ЭлектронныйДокумент",
        "ЭлектронныйДокумент_Type",
        "ОбъектУчета",
        "ОбъектУчета_Type",
    ),
    _schema.JOURNAL: ("ЭлектронныйДокумент", "ЭлектронныйДокумент_Type", "ДатаИзменения"),
    _schema.LEGACY_STATES: ("СсылкаНаОбъект", "СсылкаНаОбъект_Type"),
    _schema.SIGNATURES: ("ПодписанныйОбъект", "ПодписанныйОбъект_Type", "ПорядковыйНомер"),
}


def edm_type(set_name: str, name: str, fields: Iterable[str]) -> str:
    """The EDM type of field ``name`` of a set with ``fields`` (1C KB 17.4.3)."""
    known = set(fields)
    if name in TABULAR:
        return f"Collection({NAMESPACE}.{row_type(set_name, name)})"
    if name.endswith(("_Type", "_Base64Data")) or f"{name}_Type" in known:
        return "Edm.String"  # a composite value or type, or a ValueStorage part
    if name == "Ref_Key" or name.endswith("_Key"):
        return "Edm.Guid"
    for names, edm in ((_BOOLEAN, "Edm.Boolean"), (_DOUBLE, "Edm.Double"), (_INT64, "Edm.Int64")):
        if name in names:
            return edm
    if name in _DATETIME or name.startswith("Дата"):
        return "Edm.DateTime"
    return "Edm.String"


def row_type(set_name: str, part: str) -> str:
    return f"{set_name}_{part}_RowType"


def keys(entity: EntitySet) -> tuple[str, ...]:
    if "Ref_Key" in entity.fields:
        return ("Ref_Key",)
    return tuple(k for k in REGISTER_KEYS.get(entity.name, ()) if k in entity.fields)


def navigation(entity: EntitySet, published: Iterable[str]) -> list[tuple[str, str]]:
    """(navigation property, target set) of each reference field whose target is published."""
    present = set(published)
    found = []
    for field in sorted(entity.fields):
        if not field.endswith("_Key") or field == "Ref_Key":
            continue
        base = field[: -len("_Key")]
        target = entity.name if base == "Parent" else _TARGETS.get(base)
        if target is not None and target in present:
            found.append((base, target))
    return found


def metadata(sets: Mapping[str, EntitySet]) -> bytes:
    """The EDMX document of the published ``sets`` (name → set)."""
    parts = [_enum(name, members) for name, members in ENUMS.items()]
    associations: list[str] = []
    container: list[str] = []
    for name, entity in sets.items():
        links = navigation(entity, sets)
        parts.extend(_row_types(entity))
        parts.append(_entity_type(entity, links))
        container.append(f"<EntitySet Name={_q(name)} EntityType={_q(f'{NAMESPACE}.{name}')}/>")
        for nav, target in links:
            association = f"{name}_{nav}"
            associations.append(_association(association, name, target))
            container.append(_association_set(association, name, target))
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">'
        '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/'
        'metadata" m:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">'
        f'<Schema Namespace="{NAMESPACE}" xmlns="http://schemas.microsoft.com/ado/2009/11/edm">'
        + "".join(parts)
        + "".join(associations)
        + f'<EntityContainer Name="{NAMESPACE}" m:IsDefaultEntityContainer="true">'
        + "".join(container)
        + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )
    return text.encode("utf-8")


def _q(value: str) -> str:
    return quoteattr(value)


def _enum(name: str, members: Iterable[str]) -> str:
    body = "".join(
        f"<Member Name={_q(member)} Value={_q(str(i))}/>" for i, member in enumerate(members)
    )
    return f'<EnumType Name={_q(name)} UnderlyingType="Edm.Int32">{body}</EnumType>'


def _property(set_name: str, name: str, fields: Iterable[str], key: bool) -> str:
    nullable = ' Nullable="false"' if key or name in TABULAR else ""
    return f"<Property Name={_q(name)} Type={_q(edm_type(set_name, name, fields))}{nullable}/>"


def _entity_type(entity: EntitySet, links: list[tuple[str, str]]) -> str:
    fields = sorted(entity.fields, key=_field_order)
    key = keys(entity)
    key_xml = "".join(f"<PropertyRef Name={_q(k)}/>" for k in key)
    props = "".join(_property(entity.name, f, fields, f in key) for f in fields)
    navs = "".join(
        f"<NavigationProperty Name={_q(nav)} "
        f'Relationship={_q(f"{NAMESPACE}.{entity.name}_{nav}")} FromRole="Begin" ToRole="End"/>'
        for nav, _ in links
    )
    return f"<EntityType Name={_q(entity.name)}><Key>{key_xml}</Key>{props}{navs}</EntityType>"


def _row_types(entity: EntitySet) -> list[str]:
    result = []
    for part in sorted(p for p in TABULAR if p in entity.fields):
        name = row_type(entity.name, part)
        props = "".join(
            _property(name, f, TABULAR[part], f in ("Ref_Key", "LineNumber")) for f in TABULAR[part]
        )
        result.append(f"<ComplexType Name={_q(name)}>{props}</ComplexType>")
    return result


def _association(name: str, source: str, target: str) -> str:
    return (
        f"<Association Name={_q(name)}>"
        f'<End Role="Begin" Type={_q(f"{NAMESPACE}.{source}")} Multiplicity="*"/>'
        f'<End Role="End" Type={_q(f"{NAMESPACE}.{target}")} Multiplicity="0..1"/>'
        "</Association>"
    )


def _association_set(name: str, source: str, target: str) -> str:
    return (
        f"<AssociationSet Name={_q(name)} Association={_q(f'{NAMESPACE}.{name}')}>"
        f'<End Role="Begin" EntitySet={_q(source)}/><End Role="End" EntitySet={_q(target)}/>'
        "</AssociationSet>"
    )


_FIRST = ("Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "Posted")


def _field_order(name: str) -> tuple[int, str]:
    """Standard fields first, in 1C's order; then the configuration's own, by name."""
    return (_FIRST.index(name), "") if name in _FIRST else (len(_FIRST), name)
