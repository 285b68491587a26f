"""A generator of a realistic BP 3.0 base: a company, its counterparties and EDO documents.

Documents are spread over the last ``days`` days before the base's clock,
during working hours; each has a plausible life (formed, signed and sent by us,
then signed, rejected, annulled by the counterparty or still waiting). The
result is reproducible from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from edo_rules.emulators.onec import _schema
from edo_rules.emulators.onec._base import OneCBase
from edo_rules.emulators.onec._documents import (
    Built,
    DocumentSpec,
    Step,
    apply_steps,
    build_document,
)
from edo_rules.emulators.onec._rows import catalog_row
from edo_rules.emulators.onec._wire import EMPTY_REF, fmt_dt

_FORMS = ("ООО", "ООО", "ООО", "АО", "ПАО", "ИП")
_WORDS = [
    "Альфа",
    "Строй",
    "Вектор",
    "Гарант",
    "Север",
    "Техно",
    "Партнер",
    "Ресурс",
    "Логистик",
    "Сервис",
    "Прогресс",
    "Маркет",
    "Энерго",
    "Инвест",
    "Профи",
    "Урал",
    "Сибирь",
    "Волга",
    "Комплект",
    "Снаб",
    "Трейд",
    "Систем",
    "Оптима",
    "Стандарт",
]
_SURNAMES = [
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Соколов",
    "Попов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Соловьёв",
    "Васильев",
    "Зайцев",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
]
_NAMES = [
    "Алексей",
    "Мария",
    "Сергей",
    "Ольга",
    "Дмитрий",
    "Анна",
    "Игорь",
    "Елена",
    "Павел",
    "Наталья",
]
_REJECTIONS = (
    "Неверная сумма в акте",
    "Не тот договор в основании",
    "Просим исправить реквизиты покупателя",
    "Количество не соответствует заказу",
    "",
)
_KINDS_OUT = (
    "act",
    "act",
    "act",
    "upd",
    "upd",
    "upd",
    "contract",
    "invoice",
    "tax_invoice",
    "other",
)
_KINDS_IN = ("upd", "upd", "contract", "tax_invoice", "other")


def populate(base: OneCBase, documents: int, *, days: int = 180) -> dict[str, list[str]]:
    """Fill ``base`` with catalogs and ``documents`` EDO documents; returns the catalog keys."""
    rng = base.rng
    refs = _catalogs(base, rng, documents)
    collected: dict[str, list[dict[str, Any]]] = {}
    start = base.now - timedelta(days=days)
    for number in range(1, documents + 1):
        at = _working_time(rng, start + timedelta(seconds=rng.uniform(0, days * 86400)))
        if at >= base.now:
            at = base.now - timedelta(hours=1)
        built = _document(base, rng, refs, number, at)
        for name, rows in built.rows.items():
            collected.setdefault(name, []).extend(rows)
    with base.lock:
        for name, rows in collected.items():
            base.sets[name].load(rows)
    return refs


def _catalogs(base: OneCBase, rng: random.Random, documents: int) -> dict[str, list[str]]:
    users = [_person(rng) for _ in range(max(3, min(30, documents // 2000 + 5)))]
    orgs = [
        ("ООО «Дигиматикс»", "7701234560", "770101001"),
        ("ООО «Дигиматикс Север»", "7802345671", "780201001"),
    ]
    refs: dict[str, list[str]] = {"users": [], "organizations": [], "counterparties": []}
    refs["users"] = [_bulk(base, _schema.USERS, name) for name in users]
    refs["organizations"] = [
        _bulk(base, _schema.ORGANIZATIONS, name, ИНН=inn, КПП=kpp, НаименованиеПолное=name)
        for name, inn, kpp in orgs[: 1 + (documents > 50)]
    ]
    for _ in range(max(5, min(3000, documents // 30))):
        name, inn, kpp = _company(rng)
        refs["counterparties"].append(
            _bulk(base, _schema.COUNTERPARTIES, name, ИНН=inn, КПП=kpp, НаименованиеПолное=name)
        )
    refs["contracts"] = [_contract(base, rng, key, refs) for key in refs["counterparties"]]
    with base.lock:
        for name in (_schema.USERS, _schema.ORGANIZATIONS, _schema.COUNTERPARTIES):
            base.sets[name].load([])
    return refs


def _bulk(base: OneCBase, name: str, description: str, **extra: Any) -> str:
    key = base.guid()
    table = base.sets[name]
    code = f"{len(table.rows) + 1:09d}"
    table.rows.append(catalog_row(key, base.next_version(), code, description, **extra))
    base.present(key, description)
    return key


def _contract(
    base: OneCBase, rng: random.Random, counterparty: str, refs: dict[str, list[str]]
) -> str:
    signed = (base.now - timedelta(days=rng.randint(200, 900))).date()
    number = f"{rng.randint(1, 999)}/{signed:%y}"
    return base.add_contract(counterparty, number, signed, rng.choice(refs["organizations"]))


def _person(rng: random.Random) -> str:
    surname = rng.choice(_SURNAMES)
    name = rng.choice(_NAMES)
    female = name in ("Мария", "Ольга", "Анна", "Елена", "Наталья")
    return f"{surname}{'а' if female else ''} {name}"


def _company(rng: random.Random) -> tuple[str, str, str]:
    form = rng.choice(_FORMS)
    if form == "ИП":
        return (
            f"ИП {rng.choice(_SURNAMES)} {rng.choice('АВДИМНПС')}.{rng.choice('АВДИМНПС')}.",
            _inn(rng, 12),
            "",
        )
    name = f"{form} «{rng.choice(_WORDS)}{rng.choice(_WORDS).lower()}»"
    inn = _inn(rng, 10)
    return name, inn, f"{inn[:4]}01001"


def _inn(rng: random.Random, length: int) -> str:
    """An INN with valid check digits (10 digits for companies, 12 for individuals)."""
    digits = [rng.randint(0, 9) for _ in range(length - (1 if length == 10 else 2))]
    weights: list[tuple[int, ...]] = [(2, 4, 10, 3, 5, 9, 4, 6, 8)]
    if length == 12:
        weights = [(7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)]
    for row in weights:
        digits.append(sum(w * d for w, d in zip(row, digits, strict=False)) % 11 % 10)
    return "".join(map(str, digits))


def _working_time(rng: random.Random, at: datetime) -> datetime:
    """Move a moment into working hours (Mon–Fri, 9:00–18:00)."""
    if at.hour < 9 or at.hour >= 18:
        at = at.replace(hour=9, minute=rng.randint(0, 59)) + timedelta(days=at.hour >= 18)
    while at.weekday() >= 5:
        at += timedelta(days=1)
    return at.replace(microsecond=0)


def _document(
    base: OneCBase, rng: random.Random, refs: dict[str, list[str]], number: int, at: datetime
) -> Built:
    outgoing = rng.random() < 0.85
    index = rng.randrange(len(refs["counterparties"]))
    responsible = rng.choice(refs["users"])
    spec = DocumentSpec(
        kind=rng.choice(_KINDS_OUT if outgoing else _KINDS_IN),
        outgoing=outgoing,
        counterparty=refs["counterparties"][index],
        contract=refs["contracts"][index],
        organization=refs["organizations"][0],
        responsible=responsible,
        amount=round(rng.uniform(1000, 900000), 2),
        at=at,
    )
    built = build_document(base, spec, number)
    steps = _outgoing_life(rng, spec) if outgoing else _incoming_life(rng, spec)
    apply_steps(base, built, [step for step in steps if step.at <= base.now] or steps[:1])
    return built


def _later(rng: random.Random, at: datetime, low: float, high: float) -> datetime:
    return _working_time(rng, at + timedelta(hours=rng.uniform(low, high)))


def _outgoing_life(rng: random.Random, spec: DocumentSpec) -> Sequence[Step]:
    user = spec.responsible
    steps = [Step(spec.at, "Формирование", "ТребуетсяПодписание", user)]
    if rng.random() < 0.05:
        return steps
    signed = _later(rng, spec.at, 0.2, 30)
    sent = signed + timedelta(minutes=1)
    signers = [{"LineNumber": "1", "Подписант_Key": user, "Сертификат_Key": EMPTY_REF}]
    steps += [
        Step(
            signed,
            "Подписание",
            "ТребуетсяОтправка",
            user,
            changes={"ДатаПодписания": fmt_dt(signed), "СписокПодписантов": signers},
        ),
        Step(
            sent, "Отправка", "ОжидаетсяПодтверждение", user, changes={"ДатаОтправки": fmt_dt(sent)}
        ),
    ]
    return steps + _answer(rng, sent)


def _answer(rng: random.Random, sent: datetime) -> list[Step]:
    roll = rng.random()
    answered = _later(rng, sent, 1, 24 * 12)
    if roll < 0.62:
        return [Step(answered, "ПолучениеПодписиКонтрагента", "ОбменЗавершен")]
    if roll < 0.65:
        return [Step(answered, "ПолучениеПодписиКонтрагента", "ОбменЗавершенСИсправлением")]
    if roll < 0.75:
        comment = rng.choice(_REJECTIONS)
        return [Step(answered, "ПолучениеОтклонения", "ТребуетсяУточнение", comment=comment)]
    if roll < 0.79:
        done = answered + timedelta(minutes=30)
        return [
            Step(answered, "Аннулирование", "ОжидаетсяПодтверждениеАннулирования"),
            Step(
                done,
                "ПолучениеАннулирования",
                "Аннулирован",
                changes={"ДатаАннулирования": fmt_dt(done)},
            ),
        ]
    return []


def _incoming_life(rng: random.Random, spec: DocumentSpec) -> Sequence[Step]:
    user = spec.responsible
    steps = [Step(spec.at, "Получение", "ТребуетсяПодписание", user)]
    roll = rng.random()
    answered = _later(rng, spec.at, 1, 24 * 5)
    if roll < 0.85:
        steps.append(
            Step(
                answered,
                "Подписание",
                "ОбменЗавершен",
                user,
                changes={"ДатаПодписания": fmt_dt(answered)},
            )
        )
    elif roll < 0.9:
        steps.append(
            Step(answered, "Отклонение", "ОжидаетсяИсправление", user, comment="Ошибка в сумме")
        )
    return steps
