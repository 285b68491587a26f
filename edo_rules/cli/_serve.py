"""``edo-rules serve --config edo-rules.yaml``: the dashboard alone, read-only over the store.

For a second process beside the runner (or on another host sharing the store
file): no ticks, no control endpoints, no «Обновить из 1С» button.
``--hash-password`` prints a hash for the config's ``dashboard.users``.
"""

from __future__ import annotations

import argparse
import getpass
import signal
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from edo_rules._messages import t
from edo_rules._signals import wait_in_slices
from edo_rules.cli._runner_args import add_config_args, configured

if TYPE_CHECKING:
    from edo_rules.web import WebServer


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the web dashboard alone, read-only over the store",
        description="Serve the dashboard (Обзор, По компаниям, По менеджерам, Узкие места, "
        "Повестка, document and deal pages) over the config's store, read-only. Access and "
        "embedding come from the config's dashboard: section; without it the dashboard is "
        "open and served on loopback only.",
    )
    add_config_args(parser)
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where to listen (default: http.listen, else 127.0.0.1:8080)",
    )
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password and print its hash for dashboard.users, then exit",
    )
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    if args.hash_password:
        from edo_rules.web import hash_password

        print(hash_password(getpass.getpass("Пароль: ")))
        return 0
    from edo_rules.config import DashboardConfig
    from edo_rules.runner.app import wall_clock
    from edo_rules.web import Endpoint, WebServer, build_app
    from edo_rules.web._wiring import check_exposure, dashboard_for, guards_loopback

    with configured(args) as config:
        # Asking for the dashboard is enough: without a dashboard: section it is open,
        # so check_exposure keeps it on loopback.
        settings = config.dashboard or DashboardConfig()
        dashboard = dashboard_for(replace(config, dashboard=settings), wall_clock)
        assert dashboard is not None
        endpoint = Endpoint.parse(args.listen or config.http.listen or "127.0.0.1:8080")
        check_exposure(endpoint, dashboard, control=False)
        guard = guards_loopback(endpoint, dashboard, control=False)
        server = WebServer(
            build_app(None, dashboard), endpoint, guard_loopback=guard, on_stop=dashboard.close
        )
        print(t("dashboard_at", url=f"{server.url}/"), flush=True)
        dashboard.warm()  # the agenda's first view need not wait for its simulation
        _serve_until_signal(server)
    return 0


def _serve_until_signal(server: WebServer) -> None:
    """Serve in a thread until SIGTERM/SIGINT; exit cleanly (status 0) on either."""
    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        # Not stop.set() here: the handler may interrupt the main thread while it holds
        # the event's own lock (inside stop.wait()); another thread sets it.
        threading.Thread(target=stop.set, name="edo-rules-signal").start()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    server.start()
    try:
        wait_in_slices(stop)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
