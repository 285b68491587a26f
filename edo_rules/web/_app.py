"""The ASGI app: dashboard pages, document and deal pages, control endpoints.

:func:`build_app` takes what it serves as arguments: the control part (the
runner's trigger and metrics) and the dashboard part (a read-only view of the
store) are each optional, so the runner serves both and ``edo-rules serve``
serves the dashboard alone.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edo_rules.web import _agenda_page, _documents, _pages
from edo_rules.web import _queries as q
from edo_rules.web._access import SESSION_COOKIE, Access, Sessions, same, verify_password
from edo_rules.web._control import Control, bearer_ok
from edo_rules.web._control import routes as control_routes
from edo_rules.web._dashboard import Dashboard
from edo_rules.web._filters import FilterError, Filters
from edo_rules.web._render import frame, render, respond

_HERE = Path(__file__).parent


def build_app(control: Control | None = None, dashboard: Dashboard | None = None) -> Starlette:
    """The app; at least one of ``control`` and ``dashboard`` should be given."""
    sessions = Sessions()
    routes: list[BaseRoute] = [*control_routes(control)] if control is not None else []
    middleware: list[Middleware] = []
    if dashboard is not None:
        routes += _dashboard_routes(dashboard, sessions, control)
        routes.append(Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"))
    frame = dashboard.frame_ancestors if dashboard is not None else ()
    middleware.append(Middleware(SecureHeaders, frame_ancestors=frame))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.sessions = sessions
    return app


class SecureHeaders:
    """Secure headers and ``Server-Timing`` on every response, as a plain ASGI wrapper.

    Starlette's ``BaseHTTPMiddleware`` would run each request through a task and a
    memory stream (a millisecond or two of the cheapest page's time); this only
    adds headers to the response's start message.
    """

    def __init__(self, app: ASGIApp, frame_ancestors: tuple[str, ...]) -> None:
        self.app = app
        frames = " ".join(frame_ancestors) or "'none'"
        csp = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
            f" base-uri 'none'; frame-ancestors {frames}"
        )
        self.headers = [
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        if not frame_ancestors:
            self.headers.append(("X-Frame-Options", "DENY"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # The server's own time (to the response's start: the page is built
                # by then), for the browser's dev tools and the benchmark.
                took = (time.perf_counter() - started) * 1000
                headers["Server-Timing"] = f"app;dur={took:.1f}"
                for name, value in self.headers:
                    headers[name] = value
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def _user(request: Request, access: Access, sessions: Sessions) -> str | None:
    """Who is asking, or None when the request must log in first."""
    if access.open:
        return "local"
    if access.proxy_header and request.headers.get(access.proxy_header):
        return request.headers[access.proxy_header]
    if access.token and bearer_ok(request, access.token) and "authorization" in request.headers:
        return "token"
    return sessions.user(request.cookies.get(SESSION_COOKIE))


Handler = Callable[[Request, str], Response]


def _guard(
    dashboard: Dashboard, sessions: Sessions, handler: Handler
) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        user = _user(request, dashboard.access, sessions)
        if user is None:
            if dashboard.access.proxy_header and not (
                dashboard.access.token or dashboard.access.users
            ):
                return Response("Нет доступа: вход через прокси не выполнен.", 403)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={_quote(target)}", 303)
        try:
            return handler(request, user)
        except FilterError as exc:
            return render(
                "page.html",
                400,
                **frame(dashboard, request, Filters()),
                page=_pages.Page("error", "Ошибка в фильтре"),
                error=str(exc),
            )

    return endpoint


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _dashboard_routes(
    dashboard: Dashboard, sessions: Sessions, control: Control | None
) -> list[BaseRoute]:
    def page(build: Callable[[q.Context, Filters], _pages.Page]) -> Handler:
        def handler(request: Request, user: str) -> Response:
            filters = Filters.parse(request.query_params)
            return respond(dashboard, request, build(dashboard.context(), filters), filters)

        return handler

    def search(request: Request, user: str) -> Response:
        filters = Filters.parse(request.query_params)
        text = (request.query_params.get("q") or "").strip()[:100] or None
        rows = q.documents(dashboard.context(), filters, search=text)
        table = _pages.document_list("documents", "Документы", rows, "/")
        result = _pages.Page("search", f"Поиск: {text}" if text else "Документы", tables=[table])
        return respond(dashboard, request, result, filters)

    def crm(kind: str) -> Handler:
        def handler(request: Request, user: str) -> Response:
            return _documents.crm_page(dashboard, request, kind)

        return handler

    guarded = [
        ("/", page(_pages.overview)),
        ("/companies", page(lambda c, f: _pages.breakdown(c, f, "company"))),
        ("/managers", page(lambda c, f: _pages.breakdown(c, f, "manager"))),
        ("/kinds", page(lambda c, f: _pages.breakdown(c, f, "kind"))),
        ("/bottlenecks", page(_pages.bottlenecks)),
        ("/agenda", lambda r, u: _agenda_page.agenda_page(dashboard, r)),
        ("/search", search),
        ("/deal/{id}", crm("deal")),
        ("/company/{id}", crm("company")),
        (
            "/document/{id}",
            lambda r, u: _documents.document_page(dashboard, r, u, sessions, control),
        ),
    ]
    routes: list[BaseRoute] = [
        Route(path, _guard(dashboard, sessions, h), methods=["GET"]) for path, h in guarded
    ]
    refresh = _guard(
        dashboard, sessions, lambda r, u: _documents.refresh(dashboard, r, u, sessions, control)
    )
    routes.append(Route("/document/{id}/refresh", _async(refresh), methods=["POST"]))
    routes.append(Route("/login", _login(dashboard, sessions), methods=["GET", "POST"]))
    return routes


def _async(endpoint: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
    """Read the form first (async), then run the (blocking) handler in a worker thread."""
    from starlette.concurrency import run_in_threadpool

    async def wrapped(request: Request) -> Response:
        request.state.form = dict(await request.form())
        return await run_in_threadpool(endpoint, request)

    return wrapped


def _login(dashboard: Dashboard, sessions: Sessions) -> Callable[[Request], Awaitable[Response]]:
    access = dashboard.access

    async def login(request: Request) -> Response:
        values: dict[str, Any] = {
            "title": "Вход",
            "users": bool(access.users),
            "name": "login",
            "next": request.query_params.get("next", "/"),
            "error": None,
        }
        if request.method == "GET":
            return render("login.html", **values)
        form = await request.form()
        user = _check_login(access, {k: str(v) for k, v in form.items()})
        target = str(form.get("next") or "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # never an open redirect
        if user is None:
            values.update(error="Неверный пользователь, пароль или токен.", next=target)
            return render("login.html", 401, **values)
        response = RedirectResponse(target, 303)
        response.set_cookie(
            SESSION_COOKIE,
            sessions.issue(user),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    return login


def _check_login(access: Access, form: Mapping[str, str]) -> str | None:
    if access.users:
        user = form.get("user", "")
        stored = access.users.get(user)
        # Verify against a dummy hash for unknown users: the answer takes as long.
        ok = verify_password(form.get("password", ""), stored or _DUMMY)
        return user if ok and stored is not None else None
    if access.token and same(form.get("token", ""), access.token):
        return "token"
    return None


_DUMMY = "pbkdf2_sha256$1000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
