"""Document and deal/company pages, the «Обновить из 1С» button, the agenda's plan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from edo_rules.errors import EdoRulesError
from edo_rules.web import _pages
from edo_rules.web import _queries as q
from edo_rules.web._agenda import Planned
from edo_rules.web._dashboard import Dashboard
from edo_rules.web._filters import Filters
from edo_rules.web._render import frame, render, respond
from edo_rules.web._tables import Column, Table

if TYPE_CHECKING:
    from edo_rules.engine import Engine
    from edo_rules.store.base import Store
    from edo_rules.web._access import Sessions
    from edo_rules.web._control import Control


def document_page(
    dashboard: Dashboard, request: Request, user: str, sessions: Sessions, control: Control | None
) -> Response:

    doc_id = request.path_params["id"]
    source = dashboard.documents
    if source is None:
        return Response("Документы недоступны: у сервера нет хранилища.", 404)
    with source.open_store() as store:
        doc = store.get_document(doc_id)
        if doc is None:
            return render(
                "page.html",
                404,
                **_frame(dashboard, request),
                page=_pages.Page("document", "Документ не найден"),
                error=f"Документа {doc_id} нет в хранилище.",
            )
        history = store.history(doc_id)
        explanation = _explain(dashboard, store, doc_id)
    tables = [_actions_table(dashboard, doc_id)]
    values = {
        **_frame(dashboard, request),
        "doc": doc,
        "history": history,
        "explanation": explanation,
        "links": _links(dashboard, doc),
        "page": _pages.Page("document", doc.title, tables=tables),
        "title": f"{doc.title} — {doc.counterparty.name}",
        "can_refresh": control is not None,
        "csrf": sessions.csrf(user, f"refresh:{doc_id}"),
        "message": request.query_params.get("message"),
    }
    return render("document.html", **values)


def _frame(dashboard: Dashboard, request: Request) -> dict[str, Any]:
    return frame(dashboard, request, Filters())


def _explain(dashboard: Dashboard, store: Store, doc_id: str) -> str | None:
    source = dashboard.documents
    if source is None or source.engine is None:
        return None
    try:
        return source.engine(store).explain(doc_id, dashboard.clock()).render()
    except EdoRulesError as exc:  # a broken playbook file must not break the card
        return f"Правила не загрузились:\n{exc}"


def _actions_table(dashboard: Dashboard, doc_id: str) -> Table:
    rows = dashboard.reader.rows(
        "SELECT f.rule_key, f.step, f.fired_at, f.skipped, a.action, a.state, a.attempts,"
        " a.last_error FROM firings f LEFT JOIN action_requests a ON a.firing_id = f.id"
        " WHERE f.document_id = ? ORDER BY f.fired_at, f.id, a.id",
        [doc_id],
    )
    keys = ("rule", "step", "fired_at", "skipped", "action", "state", "attempts", "error")
    columns = [
        Column("rule", "Правило"),
        Column("step", "Шаг"),
        Column("fired_at", "Когда"),
        Column("action", "Действие"),
        Column("state", "Итог"),
        Column("attempts", "Попыток", numeric=True),
        Column("error", "Причина"),
    ]
    table_rows = [dict(zip(keys, row, strict=True)) for row in rows]
    for row in table_rows:
        if row["skipped"]:
            row["state"] = "пропущено (догоняющая политика)"
    return Table("actions", "Срабатывания правил и действия", columns, table_rows)


def _links(dashboard: Dashboard, doc: Any) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    portal = dashboard.links.portal
    if portal and doc.crm.deal_id:
        links.append(
            ("Сделка в Битрикс24", f"{portal.rstrip('/')}/crm/deal/details/{doc.crm.deal_id}/")
        )
    if portal and doc.crm.company_id:
        links.append(
            (
                "Компания в Битрикс24",
                f"{portal.rstrip('/')}/crm/company/details/{doc.crm.company_id}/",
            )
        )
    if dashboard.links.onec:
        links.append(("Документ в 1С", dashboard.links.onec.replace("{id}", doc.id)))
    if doc.pdf_url:
        links.append(("PDF", doc.pdf_url))
    if doc.crm.deal_id:
        links.append(("Все документы сделки", f"/deal/{doc.crm.deal_id}"))
    return links


def refresh(
    dashboard: Dashboard, request: Request, user: str, sessions: Sessions, control: Control | None
) -> Response:
    from edo_rules.web._access import same

    doc_id = request.path_params["id"]
    form = getattr(request.state, "form", {})
    expected = sessions.csrf(user, f"refresh:{doc_id}")
    if not same(str(form.get("csrf", "")), expected):
        return Response("Форма устарела или подделана (CSRF): откройте страницу снова.", 403)
    if control is None:
        return Response("Этот сервер только показывает данные: обновление недоступно.", 405)
    if control.refresh is not None:
        result = control.refresh([doc_id], 30.0)
        ok = bool(result.get("ok", True))
    else:
        tick = control.trigger(True, 30.0)
        ok = tick is not None and bool(tick.get("ok"))
    message = "Обновлено из 1С." if ok else "Обновление не завершилось, попробуйте ещё раз."
    from urllib.parse import quote

    return RedirectResponse(f"/document/{quote(doc_id)}?message={quote(message)}", 303)


def crm_page(dashboard: Dashboard, request: Request, kind: str) -> Response:

    crm_id = request.path_params["id"]
    filters = Filters.parse(request.query_params)
    ctx = dashboard.context()
    if kind == "deal":
        rows = q.documents(ctx, filters, deal=crm_id)
        title = f"Документы сделки {crm_id}"
    else:
        rows = q.documents(ctx, filters, company=crm_id)
        title = f"Документы компании {crm_id}"
    table = _pages.document_list("documents", title, rows, "/")
    for row in table.rows:
        row["status"] = _pages.STATUS_RU.get(row["status"], row["status"])
    counts = Counter(row["status"] for row in table.rows)
    page = _pages.Page(kind, title, figures=sorted(counts.items()), tables=[table])
    embed = request.query_params.get("embed") == "1"
    return respond(dashboard, request, page, filters, embed=embed)


def plan_agenda(  # noqa: PLR0917 -- the engine's question, in the CLI's order
    engine: Engine,
    now: datetime,
    calendar: Any,
    days: int,
    zone: Any,
    stop: Callable[[], bool] | None = None,
) -> Planned:
    """Every firing of the next ``days`` working days with its document.

    The engine evaluates every day at 09:00 from tomorrow on, recording into a
    scratch copy of the store (:meth:`Engine.simulate`), so ladders, repeats
    and catch-up progress as the runner's ticks would; the store is untouched.
    ``stop`` is asked before each simulated day (the server is shutting down).
    """
    start = now.astimezone(zone).date()
    end = calendar.add_working_days(start, days)
    simulation = engine.simulate(start + timedelta(days=1), end, every="1 day", stop=stop)
    ids = {p.firing.document_id for tick in simulation.ticks for p in tick.fired}
    docs = engine.store.get_documents(ids)
    planned: Planned = []
    for tick in simulation.ticks:
        for fired in tick.fired:
            doc = docs.get(fired.firing.document_id)
            if doc is None:
                continue
            row = {
                "day": tick.now.date().isoformat(),
                "rule": fired.firing.rule_key,
                "step": fired.firing.step,
                "id": doc.id,
                "number": doc.number,
                "manager": doc.responsible,
                "actions": ", ".join(r.action for r in fired.requests),
            }
            planned.append((doc, row))
    return planned
