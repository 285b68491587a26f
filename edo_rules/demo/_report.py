"""The demo's timeline (day by day) and its final summary, in Russian.

Each day shows what changed in 1C, which rules fired and what the emulated
Bitrix24 shows afterwards (the difference of its inspection counts), plus a
few notable events. The summary counts come from the store's outbox (what
edo-rules did); ``tests/test_demo.py`` checks them against the portal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TextIO

from edo_rules.demo._life import Happening
from edo_rules.engine import EvaluationResult
from edo_rules.model import Document, OutcomeStatus, RequestState, Status
from edo_rules.store.base import Store

_WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
_HAPPENINGS = {
    "sent": "отправлено",
    "resent": "отправлено повторно",
    "signed": "подписано",
    "corrected": "подписано с разногласиями",
    "rejected": "отклонено",
}
_PORTAL = {
    "notifications": "уведомлений",
    "tasks": "задач",
    "comments": "комментариев",
    "items": "счетов",
    "list_elements": "новых записей в реестре",
    "todos": "дел",
    "workflows": "бизнес-процессов",
}
_STATUSES = {
    Status.SENT: "ждут подписи контрагента",
    Status.SIGNED: "подписаны",
    Status.SIGNED_WITH_CORRECTIONS: "подписаны с разногласиями",
    Status.REJECTED: "отклонены",
    Status.AWAITING_OUR_SIGNATURE: "ждут нашей подписи",
    Status.DRAFT: "черновики",
    Status.REVOKED: "аннулированы",
    Status.CLOSED: "закрыты",
    Status.ERROR: "с ошибкой",
    Status.UNKNOWN: "в неизвестном статусе",
}
_MAX_NOTES = 4


@dataclass(slots=True)
class DayLog:
    """Everything shown for one simulated day."""

    day: date
    number: int
    previous: date  # the working day before (to show the days off in between)
    happenings: list[Happening] = field(default_factory=list)
    fired: Counter[str] = field(default_factory=Counter)
    portal: Counter[str] = field(default_factory=Counter)
    moved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add_evaluation(self, result: EvaluationResult | None, store: Store) -> None:
        if result is None:
            return
        for planned in result.fired:
            firing = planned.firing
            self.fired[_rule_label(firing.rule_key, firing.step)] += 1
            if firing.step.startswith("escalate"):
                self._note_escalation(store.get_document(firing.document_id))

    def _note_escalation(self, document: Document | None) -> None:
        if document is not None:
            self.notes.append(
                f"↑ эскалация: {document.title} ({document.counterparty.name}) — "
                "руководителю отдела и задача менеджеру"
            )

    def add_rejections(self, happenings: Iterable[Happening], store: Store) -> None:
        for happening in happenings:
            if happening.what != "rejected":
                continue
            document = store.get_document(happening.document)
            title = document.title if document is not None else "документ"
            self.notes.append(
                f"✗ {happening.customer.name} отклонил {title}: «{happening.comment}» "
                "→ задача менеджеру"
            )


def _rule_label(rule_key: str, step: str) -> str:
    rule = rule_key.rsplit("/", 1)[-1]
    if step.startswith("escalate"):
        return f"{rule} (эскалация {step[9:-1]})"
    if step.startswith("repeat"):
        return f"{rule} (повтор)"
    return rule


def plural(number: int, one: str, few: str, many: str) -> str:
    """``3 документа``, ``5 документов``, ``21 документ`` — Russian agreement with a number."""
    tens, units = number % 100, number % 10
    if 11 <= tens <= 14 or units == 0 or units >= 5:
        return f"{number} {many}"
    return f"{number} {one if units == 1 else few}"


def print_day(out: TextIO, log: DayLog, waiting: int) -> None:
    weekday = _WEEKDAYS[log.day.weekday()]
    off = (log.day - log.previous).days - 1
    rest = ""
    if off > 2:  # longer than a weekend: the production calendar at work
        first = log.previous + timedelta(days=1)
        last = log.day - timedelta(days=1)
        rest = f" (после нерабочих дней {first:%d.%m}–{last:%d.%m} по производственному календарю)"
    print(f"\n{weekday} {log.day:%d.%m.%Y} · рабочий день {log.number}{rest}", file=out)
    done = Counter(h.what for h in log.happenings)
    changes = [f"{_HAPPENINGS[what]} {n}" for what, n in done.items()]
    print(f"  1С:        {_join(changes) or 'без изменений'}; ждут ответа {waiting}", file=out)
    fired = [f"{label} ×{n}" for label, n in sorted(log.fired.items())]
    print(f"  Правила:   {_join(fired) or 'ничего не сработало'}", file=out)
    shown = [f"{_PORTAL[k]} {n}" for k, n in log.portal.items() if k in _PORTAL and n > 0]
    if log.moved:
        shown.append(f"сделок передвинуто {len(log.moved)}")
    print(f"  Битрикс24: {_join(shown) or 'без изменений'}", file=out)
    for note in (log.moved + log.notes)[:_MAX_NOTES]:
        print(f"    {note}", file=out)
    for problem in log.problems:
        print(f"    ! {problem}", file=out)


def _join(parts: Iterable[str]) -> str:
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The demo's final numbers (from the store's outbox and documents)."""

    days: int
    documents: int
    by_status: Mapping[str, int]
    reminders: int
    escalations: int
    repeats: int
    notifications: int
    tasks: int
    comments: int
    deals_moved: int
    invoices: int
    mirrored: int
    actions_done: int
    actions_failed: int
    actions_in_doubt: int
    seconds: float = 0.0
    cards_written: int = 0  # card_status requests done
    timeline_entries: int = 0
    client_emails: int = 0  # remind_counterparty requests that sent an e-mail


def collect(store: Store, steps: Mapping[int, str], days: int, seconds: float) -> DemoResult:
    """Count what edo-rules did, from the outbox (``steps``: firing id → step name)."""
    done = store.requests([RequestState.DONE])
    by_action = Counter(r.action for r in done)
    notify_steps = Counter(steps.get(r.firing_id or 0, "") for r in done if r.action == "notify")
    statuses = Counter(d.status.value for d in store.iter_documents())
    moved = _remote_ids(store, [r.id or 0 for r in done if r.action == "deal_stage"])
    return DemoResult(
        days=days,
        documents=sum(statuses.values()),
        by_status=dict(statuses),
        reminders=notify_steps["do"],
        escalations=len({f for f, s in steps.items() if s.startswith("escalate")}),
        repeats=sum(n for s, n in notify_steps.items() if s.startswith("repeat")),
        notifications=by_action["notify"],
        tasks=by_action["task"],
        comments=by_action["comment"],
        deals_moved=len(moved),
        invoices=by_action["invoice"],
        mirrored=len({r.document_id for r in done if r.action == "mirror"}),
        actions_done=len(done),
        actions_failed=len(store.requests([RequestState.FAILED])),
        actions_in_doubt=len(store.requests([RequestState.IN_DOUBT])),
        seconds=seconds,
        cards_written=by_action["card_status"],
        timeline_entries=by_action["timeline"],
        client_emails=len(
            _remote_ids(store, [r.id or 0 for r in done if r.action == "remind_counterparty"])
        ),
    )


def _remote_ids(store: Store, request_ids: Iterable[int]) -> set[str]:
    """The distinct remote ids (e.g. deals) the done requests acted on."""
    found: set[str] = set()
    for request_id in request_ids:
        found.update(
            o.remote_id
            for o in store.outcomes_for(request_id)
            if o.status == OutcomeStatus.DONE and o.remote_id
        )
    return found


def print_summary(out: TextIO, result: DemoResult, first: date, last: date) -> None:
    days = plural(result.days, "рабочий день", "рабочих дня", "рабочих дней")
    print(f"\nИтог за {days} ({first:%d.%m}–{last:%d.%m.%Y})", file=out)
    statuses = sorted(result.by_status.items(), key=lambda item: -item[1])
    shown = [f"{_STATUSES.get(Status(s), s)} {n}" for s, n in statuses]
    print(f"  Документов в 1С: {result.documents} — {_join(shown)}", file=out)
    print(
        f"  Напоминаний менеджерам: {result.reminders}, повторных: {result.repeats}; "
        f"эскалаций руководителям: {result.escalations}",
        file=out,
    )
    print(
        f"  Битрикс24: уведомлений {result.notifications}, задач {result.tasks}, "
        f"комментариев {result.comments}, сделок передвинуто {result.deals_moved}, "
        f"счетов создано {result.invoices}, документов в реестре {result.mirrored}",
        file=out,
    )
    print(
        f"  Карточки сделок: обновлений поля «Документы ЭДО» {result.cards_written}, "
        f"записей ЭДО в таймлайне {result.timeline_entries}, "
        f"писем-напоминаний клиентам {result.client_emails}",
        file=out,
    )
    print(
        f"  Действий выполнено: {result.actions_done}; с ошибкой: {result.actions_failed}; "
        f"в сомнении: {result.actions_in_doubt}  ({result.seconds:.1f} с)",
        file=out,
    )
