"""Rendering a page: HTML through the Jinja2 templates, or a table as CSV, or JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from edo_rules.web import _pages
from edo_rules.web._dashboard import Dashboard
from edo_rules.web._filters import Filters
from edo_rules.web._tables import Table, tables_json


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    """A moment as the playbooks' local time, the way people read it: 04.12.2026 17:30."""
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%d.%m.%Y %H:%M")


_env = Environment(
    loader=PackageLoader("edo_rules.web", "templates"),
    autoescape=select_autoescape(),
    # The templates ship in the package: no stat of every template file per page.
    auto_reload=False,
)
_env.filters["local"] = _local


def render(template: str, status: int = 200, **values: Any) -> Response:
    values.setdefault("kinds", _pages.KIND_RU)
    values.setdefault("statuses", _pages.STATUS_RU)
    values.setdefault("embed", False)
    html = _env.get_template(template).render(**values)
    return Response(html, status, media_type="text/html; charset=utf-8")


def frame(dashboard: Dashboard, request: Request, filters: Filters) -> dict[str, Any]:
    return {
        "filters": filters,
        "query": filters.query(),
        "zone": dashboard.zone,
        "choices": dashboard.choices(),
        "search": request.query_params.get("q"),
        "sort": request.query_params.get("sort"),
        "desc": request.query_params.get("desc") == "1",
        "extra": "",
        "name": "",
    }


def respond(
    dashboard: Dashboard,
    request: Request,
    page: _pages.Page,
    filters: Filters,
    template: str = "page.html",
    *,
    data: dict[str, Any] | None = None,
    **values: Any,
) -> Response:
    """The page as HTML, or one of its tables as CSV, or all of them as JSON (with
    ``data``'s keys: what the page says beside its tables)."""
    sort, desc = request.query_params.get("sort"), request.query_params.get("desc") == "1"
    page.tables = [t.sorted_by(sort, desc) for t in page.tables]
    fmt = request.query_params.get("format")
    if fmt == "json":
        return Response(tables_json(page.tables, page.figures, data), media_type="application/json")
    if fmt == "csv":
        return _csv(page.tables, request.query_params.get("table"), page.name)
    values = {**frame(dashboard, request, filters), **values}
    values.update(name=page.name, title=page.title, page=page)
    return render(template, **values)


def _csv(tables: list[Table], name: str | None, page: str) -> Response:
    chosen = next((t for t in tables if t.name == name), None)
    if chosen is None:
        names = ", ".join(t.name for t in tables)
        return Response(
            f"Таблица {name!r} не найдена; есть: {names}\n",
            404,
            media_type="text/plain; charset=utf-8",
        )
    headers = {"Content-Disposition": f'attachment; filename="{page}-{chosen.name}.csv"'}
    return Response(chosen.csv(), media_type="text/csv; charset=utf-8", headers=headers)
