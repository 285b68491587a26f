"""The agenda page (Повестка): the kept plan of its horizon, and what is under way.

The page never simulates (see :mod:`._agenda`): it shows the last plan with the
time it was computed and whether a newer one is being computed, or, before the
first plan, a page that reloads itself every few seconds (a meta refresh: no
script, which the CSP forbids anyway) until the plan is there.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from edo_rules.web import _pages
from edo_rules.web._agenda import DEFAULT_DAYS, AgendaView, Failure
from edo_rules.web._dashboard import Dashboard
from edo_rules.web._filters import Filters
from edo_rules.web._render import respond
from edo_rules.web._tables import Column, Table

#: Seconds between the reloads of the «being computed» page.
RELOAD = 5


def agenda_page(dashboard: Dashboard, request: Request) -> Response:
    filters = Filters.parse(request.query_params)
    days = _days(request.query_params.get("days"))
    page = _pages.Page("agenda", f"Повестка на {days} раб. дн.")
    if dashboard.agenda is None:
        page.figures = [("Правила не загружены", "—")]
        return respond(dashboard, request, page, filters)
    view = dashboard.agenda.view(days)
    now = datetime.now(UTC)
    if view.plan is not None:
        page.tables = plan_tables(view.rows(filters))
    waiting = view.plan is None and view.state == "computing"
    return respond(
        dashboard,
        request,
        page,
        filters,
        data={"agenda": _status(view, now)},
        notice=_notice(view, now, dashboard.zone),
        error=_failure(view, days, now, dashboard.zone),
        refresh=RELOAD if waiting else None,
    )


def _days(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 1 <= int(text) <= 30 else DEFAULT_DAYS


def plan_tables(planned: list[dict[str, Any]]) -> list[Table]:
    """Counts per day, manager and rule, and the first 500 firings."""
    return [
        _count_table("by_day", "По дням", "day", "День", planned),
        _count_table("by_manager", "По менеджерам", "manager", "Менеджер", planned),
        _count_table("by_rule", "По правилам", "rule", "Правило", planned),
        Table(
            "planned",
            "Что сделают правила",
            [
                Column("day", "День"),
                Column("rule", "Правило"),
                Column("step", "Шаг"),
                Column("number", "Документ", link="url"),
                Column("manager", "Менеджер"),
                Column("actions", "Действия"),
            ],
            [{**p, "url": f"/document/{p['id']}"} for p in planned[:500]],
        ),
    ]


def _count_table(
    name: str, title: str, key: str, label: str, planned: list[dict[str, Any]]
) -> Table:
    counts = Counter(p[key] or "—" for p in planned)
    rows = [{"value": k, "count": v} for k, v in sorted(counts.items())]
    return Table(
        name, title, [Column("value", label), Column("count", "Срабатываний", numeric=True)], rows
    )


def _status(view: AgendaView, now: datetime) -> dict[str, Any]:
    """The export's account of the plan: as of when, stale or not, what is under way."""
    plan, failure = view.plan, view.failure
    return {
        "state": view.state,
        "as_of": plan.started.isoformat() if plan else None,
        "computed_at": plan.finished.isoformat() if plan else None,
        "took_seconds": round(plan.took, 3) if plan else None,
        "stale": view.stale,
        "computing": view.running is not None,
        "computing_since": view.running.isoformat() if view.running else None,
        "next_at": view.queued_at.isoformat() if view.queued_at else None,
        "error": failure.error if failure else None,
        "failed_at": failure.started.isoformat() if failure else None,
    }


def _notice(view: AgendaView, now: datetime, zone: ZoneInfo) -> str | None:
    """One line: when the plan shown was computed and what is happening about it."""
    if view.plan is None:
        return _computing(view, now, zone)
    parts = [f"Рассчитано в {_clock(view.plan.finished, now, zone)}."]
    if view.stale:
        parts.append("Данные изменились, " + _next(view, now, zone) + ".")
    return " ".join(parts)


def _computing(view: AgendaView, now: datetime, zone: ZoneInfo) -> str | None:
    if view.state != "computing":
        return None
    last = f" Прошлый расчёт занял {_seconds(view.last_took)}." if view.last_took else ""
    if view.busy:
        text = "Повестка рассчитывается: ждёт окончания расчёта на другой срок."
    elif view.running is None:
        text = "Повестка рассчитывается: расчёт начинается."
    else:
        elapsed = (now - view.running).total_seconds()
        since = _clock(view.running, now, zone)
        text = f"Повестка рассчитывается: начато в {since}, идёт {_seconds(elapsed)}."
    return f"{text}{last} Страница обновится сама через {RELOAD} с."


def _next(view: AgendaView, now: datetime, zone: ZoneInfo) -> str:
    if view.running is not None:
        return f"пересчёт идёт (начат в {_clock(view.running, now, zone)})"
    if view.queued_at is not None:
        left = (view.queued_at - now).total_seconds()
        if left > 1:
            return f"пересчёт через {_seconds(left)} (не чаще раза в {_seconds(view.interval)})"
        return "пересчёт начинается"
    return "пересчёт начнётся при следующем открытии страницы"


def _failure(view: AgendaView, days: int, now: datetime, zone: ZoneInfo) -> str | None:
    """What failed, where and what to do; the last good plan, if any, stays below."""
    failure: Failure | None = view.failure
    if failure is None:
        return None
    where = (
        f"Повестку на {days} раб. дн. рассчитать не удалось ({_clock(failure.started, now, zone)})"
    )
    if failure.playbooks:
        what = f"правила не загрузились: {failure.error}"
        todo = "Исправьте файл сценария (проверка: edo-rules validate --config …)"
    else:
        what = f"ошибка хранилища или движка: {failure.error}"
        todo = "Проверьте хранилище и журнал сервера"
    retry = f"расчёт повторится при открытии страницы, не чаще раза в {_seconds(view.interval)}"
    shown = " Ниже — последний удачный расчёт." if view.plan is not None else ""
    return f"{where}: {what}. {todo}; {retry}.{shown}"


def _clock(moment: datetime | None, now: datetime, zone: ZoneInfo) -> str:
    """ЧЧ:ММ in the config's zone, with the date when it is not today's."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%d.%m.%Y %H:%M")


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{max(0, round(value))} с"
    return f"{round(value / 60)} мин"
