"""The dashboard's pages as data: figures, charts and tables built from the read models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from markupsafe import Markup

from edo_rules.store._sqlite_dashboard import DIMENSIONS
from edo_rules.web import _queries as q
from edo_rules.web import _summary as s
from edo_rules.web import _svg
from edo_rules.web._filters import Filters
from edo_rules.web._tables import Column, Deferred, Table

STATUS_RU = {
    "draft": "Черновик",
    "awaiting_our_signature": "Ждёт нашей подписи",
    "sent": "Ждёт подписи контрагента",
    "signed": "Подписан",
    "signed_with_corrections": "Подписан с уточнениями",
    "rejected": "Отклонён",
    "revoked": "Аннулирован",
    "closed": "Закрыт",
    "error": "Ошибка",
    "unknown": "Неизвестное состояние",
}
KIND_RU = {"contract": "Договор", "act": "Акт", "upd": "УПД", "invoice": "Счёт", "other": "Прочее"}


@dataclass(slots=True)
class Page:
    """One rendered page: key figures, charts (SVG) and tables."""

    name: str
    title: str
    figures: list[tuple[str, Any]] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _local_midnight(ctx: q.Context, day: Any) -> datetime:
    offset = timedelta(minutes=ctx.dialect.offset_minutes)
    return datetime.combine(day, time(), UTC) - offset


def status_counts(ctx: q.Context, filters: Filters) -> dict[str, int]:
    """From the store's summary when it can answer, else counted over the documents."""
    if ctx.summary and s.answerable(filters):
        return s.status_counts(ctx, filters)
    return q.status_counts(ctx, filters)


def breakdown_rows(
    ctx: q.Context, filters: Filters, by: str, *, overdue: bool = True, defer: bool = False
) -> list[dict[str, Any]]:
    """From the store's summary when it can answer, else derived from the documents.
    With ``defer``, the summary's rows may lack their quantiles until
    ``_summary.fill_quantiles`` (the derivation's rows always have them)."""
    column = q.GROUPS[by]
    if ctx.summary and ctx.spans and s.answerable(filters) and column in DIMENSIONS:
        return s.breakdown(ctx, filters, column, overdue=overdue, defer=defer)
    return q.breakdown(ctx, filters, by, overdue=overdue)


def overview(ctx: q.Context, filters: Filters) -> Page:
    counts = status_counts(ctx, filters)
    buckets, overdue = s.age_summary(ctx, filters, counts)
    week = ctx.today - timedelta(days=ctx.today.weekday())
    month = ctx.today.replace(day=1)
    page = Page("overview", "Обзор")
    page.figures = [
        ("Всего документов", sum(counts.values())),
        ("Не подписано", sum(counts.get(s, 0) for s in q.WAITING)),
        ("Просрочено", overdue),
        ("Подписано за неделю", q.signed_since(ctx, filters, _local_midnight(ctx, week))),
        ("Подписано за месяц", q.signed_since(ctx, filters, _local_midnight(ctx, month))),
    ]
    trend = q.weekly_trend(ctx, filters)
    page.charts = [
        _svg.bars("Неподписанные по возрасту, рабочих дней", list(buckets.items())),
        _svg.columns(
            "Отправлено и подписано по неделям",
            [row["week"][5:] for row in trend],
            [
                ("отправлено", [r["sent"] for r in trend]),
                ("подписано", [r["signed"] for r in trend]),
            ],
        ),
    ]
    page.tables = [
        Table(
            "statuses",
            "Документы по статусам",
            [
                Column("status", "Статус"),
                Column("title", "Название"),
                Column("count", "Документов", numeric=True),
            ],
            [
                {"status": s, "title": STATUS_RU.get(s, s), "count": n}
                for s, n in sorted(counts.items(), key=lambda kv: -kv[1])
            ],
        ),
        Table(
            "ages",
            "Неподписанные по возрасту (рабочие дни)",
            [Column("bucket", "Рабочих дней"), Column("count", "Документов", numeric=True)],
            [{"bucket": k, "count": v} for k, v in buckets.items()],
        ),
        Table(
            "trend",
            "Отправлено и подписано по неделям",
            [
                Column("week", "Неделя с"),
                Column("sent", "Отправлено", numeric=True),
                Column("signed", "Подписано", numeric=True),
            ],
            trend,
        ),
    ]
    return page


BREAKDOWN_COLUMNS = (
    Column("total", "Документов", numeric=True),
    Column("unsigned", "Не подписано", numeric=True),
    Column("overdue", "Просрочено", numeric=True),
    Column("signed", "Подписано", numeric=True),
    Column("median_days", "Медиана, раб. дн.", numeric=True),
    Column("p90_days", "90-й процентиль, раб. дн.", numeric=True),
    Column("rejections", "Отклонений", numeric=True),
)
_BY_TITLE = {
    "company": ("companies", "По компаниям", "Контрагент"),
    "manager": ("managers", "По менеджерам", "Менеджер"),
    "kind": ("kinds", "По видам документов", "Вид"),
    "organization": ("organizations", "По организациям", "Организация"),
}


def breakdown_table(ctx: q.Context, filters: Filters, by: str) -> Table:
    """The breakdown by ``by``, most unsigned first; the quantiles are computed for the
    rows that are shown or exported (or all, to sort by one of them)."""
    name, title, label = _BY_TITLE[by]
    rows = breakdown_rows(ctx, filters, by, defer=True)
    rows.sort(key=lambda r: (-r["unsigned"], r["name"]))
    deferred = Deferred(s.QUANTILE_KEYS, s.fill_quantiles)
    return Table(name, title, [Column("name", label), *BREAKDOWN_COLUMNS], rows, deferred)


def breakdown(ctx: q.Context, filters: Filters, by: str) -> Page:
    table = breakdown_table(ctx, filters, by)
    page = Page(table.name, table.title, tables=[table])
    top = table.rows[:10]
    page.charts = [
        _svg.bars(
            f"{table.title}: не подписано (первые 10)",
            [(r["name"], r["unsigned"]) for r in top],
            _svg.PALETTE[1],
        )
    ]
    return page


def bottlenecks(ctx: q.Context, filters: Filters) -> Page:
    counts = status_counts(ctx, filters)
    where: list[dict[str, Any]] = [
        {"place": "Ждёт нашей подписи", "count": counts.get("awaiting_our_signature", 0)},
        {"place": "Ждёт подписи контрагента", "count": counts.get("sent", 0)},
        {
            "place": "Ошибка, отклонение или неизвестное состояние",
            "count": sum(counts.get(s, 0) for s in q.STUCK),
        },
    ]
    rows = breakdown_rows(ctx, filters, "company", overdue=False)  # the page shows none
    slow = [r for r in rows if r["median_days"] is not None]
    slow.sort(key=lambda r: (-r["median_days"], -r["signed"], r["name"]))
    slow = slow[:15]
    history = q.rule_stats(ctx, [r["name"] for r in slow])
    for row in slow:  # what rules read as counterparty.stats: the last 12 months
        stats = history.get(row["name"])
        row["rule_median"] = stats.median_working_days if stats else None
        row["rule_signed"] = stats.signed if stats else None
    page = Page("bottlenecks", "Узкие места")
    page.charts = [
        _svg.bars("Где ждут документы", [(r["place"], r["count"]) for r in where], _svg.PALETTE[3])
    ]
    page.tables = [
        Table(
            "waiting",
            "Где ждут документы",
            [Column("place", "Где"), Column("count", "Документов", numeric=True)],
            where,
        ),
        Table(
            "slowest",
            "Самые медленные контрагенты",
            [
                Column("name", "Контрагент"),
                Column("median_days", "Медиана, раб. дн.", numeric=True),
                Column("signed", "Подписано", numeric=True),
                Column("total", "Документов", numeric=True),
                Column("rule_median", "Медиана за 12 мес. (counterparty.stats)", numeric=True),
                Column("rule_signed", "Подписано за 12 мес.", numeric=True),
            ],
            slow,
        ),
        Table(
            "stuck",
            "Дольше всех ждут",
            [
                Column("number", "Номер", link="url"),
                Column("kind", "Вид"),
                Column("counterparty", "Контрагент"),
                Column("manager", "Менеджер"),
                Column("status", "Статус"),
                Column("since", "С"),
                Column("days", "Раб. дней", numeric=True),
            ],
            [{**r, "url": f"/document/{r['id']}"} for r in q.stuck_longest(ctx, filters)],
        ),
        Table(
            "rules",
            "Правила, которые срабатывают чаще всего",
            [
                Column("rule", "Правило"),
                Column("firings", "Срабатываний", numeric=True),
                Column("skipped", "Пропущено", numeric=True),
            ],
            q.noisy_rules(ctx, filters),
        ),
        Table(
            "actions",
            "Действия с ошибками",
            [
                Column("action", "Действие"),
                Column("requests", "Запросов", numeric=True),
                Column("failed", "Ошибок", numeric=True),
                Column("in_doubt", "Под вопросом", numeric=True),
            ],
            q.failing_actions(ctx, filters),
        ),
    ]
    return page


DOCUMENT_COLUMNS = (
    Column("number", "Номер", link="url"),
    Column("kind", "Вид"),
    Column("date", "Дата"),
    Column("counterparty", "Контрагент"),
    Column("inn", "ИНН"),
    Column("manager", "Менеджер"),
    Column("status", "Статус"),
    Column("amount", "Сумма", numeric=True),
)


def document_list(name: str, title: str, rows: list[dict[str, Any]], prefix: str = "") -> Table:
    for row in rows:
        row["url"] = f"{prefix}document/{row['id']}"
    return Table(name, title, DOCUMENT_COLUMNS, rows)
