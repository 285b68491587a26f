"""The Russian vocabulary: what a manager reads for each status, kind and direction code.

One module so that every place a person looks (the card field, the timeline,
the document register, notifications, templates via the ``ru`` filter, the
dashboard) says the same words. The codes stay what playbooks match on;
these are only labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from typing import Final

from edo_rules.model import Direction, Document, Kind, Status

#: A status as a manager reads it in a list or a card.
STATUS_LABELS: Final[dict[Status, str]] = {
    Status.DRAFT: "черновик",
    Status.AWAITING_OUR_SIGNATURE: "ждёт нашей подписи",
    Status.SENT: "ждёт подписи контрагента",
    Status.SIGNED: "подписан",
    Status.SIGNED_WITH_CORRECTIONS: "подписан с разногласиями",
    Status.REJECTED: "отклонён",
    Status.REVOKED: "аннулирован",
    Status.CLOSED: "закрыт",
    Status.ERROR: "ошибка ЭДО",
    Status.UNKNOWN: "статус не распознан",
}

#: A document kind, capitalised as the first word of a title.
KIND_LABELS: Final[dict[Kind, str]] = {
    Kind.CONTRACT: "Договор",
    Kind.ACT: "Акт",
    Kind.UPD: "УПД",
    Kind.INVOICE: "Счёт",
    Kind.TAX_INVOICE: "Счёт-фактура",
    Kind.OTHER: "Документ",
}

DIRECTION_LABELS: Final[dict[Direction, str]] = {
    Direction.OUTGOING: "исходящий",
    Direction.INCOMING: "входящий",
}

#: Column titles of the document register (smart-process fields, list properties), by fact.
FIELD_LABELS: Final[dict[str, str]] = {
    "title": "Документ",
    "kind": "Вид документа",
    "number": "Номер",
    "date": "Дата документа",
    "counterparty": "Контрагент",
    "inn": "ИНН контрагента",
    "amount": "Сумма",
    "status": "Статус ЭДО",
    "status_1c": "Статус в 1С",
    "signers": "Подписанты",
    "sent_at": "Отправлен",
    "our_signed_at": "Подписан нами",
    "counterparty_signed_at": "Подписан контрагентом",
    "rejected_at": "Отклонён",
    "pdf_url": "PDF документа",
    "overdue": "Просрочен",
    "status_code": "Код статуса",
    "kind_code": "Код вида документа",
    "company": "Компания",
    "deal": "Сделка",
    "responsible": "Ответственный",
}

#: Extra labels the register and the card use for states that are not statuses.
OVERDUE_LABEL: Final = "просрочен"
OVERDUE_MARK: Final = "⚠"

_ALL: Final[dict[str, str]] = {
    **{k.value: v for k, v in STATUS_LABELS.items()},
    **{k.value: v for k, v in KIND_LABELS.items()},
    **{k.value: v for k, v in DIRECTION_LABELS.items()},
}


def label(code: object) -> str:
    """The Russian label of a status, kind or direction code; unknown codes pass through.

    Used as the ``ru`` template filter: ``{{ doc.status | ru }}`` → «подписан».
    """
    text = str(code.value if isinstance(code, Status | Kind | Direction) else code)
    return _ALL.get(text, text)


def short_date(value: date | datetime | None, zone: tzinfo | None = None) -> str:
    """«03.12» — the card is read in the current year; the full date is in the register."""
    if value is None:
        return ""
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(zone)
    return f"{value:%d.%m}"


def full_date(value: date | datetime | None, zone: tzinfo | None = None) -> str:
    """«03.12.2026»."""
    if value is None:
        return ""
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(zone)
    return f"{value:%d.%m.%Y}"


def full_datetime(value: datetime | None, zone: tzinfo | None = None) -> str:
    """«03.12.2026 14:30» in ``zone``."""
    if value is None:
        return ""
    local = value.astimezone(zone) if zone is not None else value
    return f"{local:%d.%m.%Y %H:%M}"


def short_title(doc: Document) -> str:
    """«Договор № 12 от 01.12» (the card's short form of :attr:`Document.title`)."""
    text = f"{KIND_LABELS[doc.kind]} № {doc.number}"
    return f"{text} от {short_date(doc.date)}" if doc.date is not None else text


#: Counts working days strictly after the first date up to and including the second.
WorkingDaysBetween = Callable[[date, date], int]


def card_line(
    doc: Document,
    *,
    today: date,
    working_days: WorkingDaysBetween,
    overdue_after: int,
    zone: tzinfo | None = None,
) -> str:
    """One line of the card's summary field, e.g.

    «Договор № 12 от 01.12: подписан 03.12» or «Акт № 5: ждёт подписи 4 раб. дн. ⚠».
    """
    return f"{short_title(doc)}: {_state(doc, today, working_days, overdue_after, zone)}"


def _state(
    doc: Document, today: date, working_days: WorkingDaysBetween, limit: int, zone: tzinfo | None
) -> str:
    status = doc.status
    if status is Status.SENT:
        waited = _waited(doc.sent_at, today, working_days, zone)
        text = f"ждёт подписи {waited} раб. дн."
        return f"{text} {OVERDUE_MARK}" if waited >= limit else text
    if status in (Status.SIGNED, Status.SIGNED_WITH_CORRECTIONS):
        when = doc.counterparty_signed_at or doc.our_signed_at or doc.status_changed_at
        return _with_date(STATUS_LABELS[status], when, zone)
    if status is Status.REJECTED:
        text = _with_date(STATUS_LABELS[status], doc.rejected_at or doc.status_changed_at, zone)
        return f"{text}: «{clip(doc.rejection_comment, 80)}»" if doc.rejection_comment else text
    if status is Status.REVOKED:
        return _with_date(STATUS_LABELS[status], doc.revoked_at or doc.status_changed_at, zone)
    return STATUS_LABELS[status]


def _waited(
    sent_at: datetime | None, today: date, working_days: WorkingDaysBetween, zone: tzinfo | None
) -> int:
    if sent_at is None:
        return 0
    start = sent_at.astimezone(zone).date() if zone is not None else sent_at.date()
    return working_days(start, today) if today > start else 0


def _with_date(text: str, when: datetime | None, zone: tzinfo | None) -> str:
    return f"{text} {short_date(when, zone)}" if when is not None else text


def clip(text: str | None, limit: int) -> str:
    """``text`` cut to ``limit`` characters with «…» (counterparty text is unbounded)."""
    value = " ".join((text or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def card_text(lines: Iterable[str], *, limit: int = 20) -> str:
    """The summary field's value: one line per document, at most ``limit`` lines."""
    shown = list(lines)
    if len(shown) > limit:
        rest = len(shown) - limit + 1
        shown = [*shown[: limit - 1], f"… и ещё {rest} док."]
    return "\n".join(shown)
