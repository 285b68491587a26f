"""``edo-rules demo --serve``: keep the dashboard open on the demo's data after the month."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TextIO

from edo_rules.config import Config, DashboardConfig
from edo_rules.runner.app import _signals
from edo_rules.runner.loop import Runner


def serve_dashboard(
    listen: str, config: Config, runner: Runner, clock: Callable[[], datetime], out: TextIO
) -> None:
    """Serve the dashboard and the control endpoints on ``listen`` until SIGTERM/Ctrl-C.

    The runner ticks only when asked («Обновить из 1С», ``POST /sync``): the
    demo's clock stays at the end of the simulated month, and so do the pages.
    """
    from edo_rules.web import Control, Endpoint, WebServer, build_app
    from edo_rules.web._refresh import deal_documents, refresher
    from edo_rules.web._wiring import check_exposure, dashboard_for

    dashboard = dashboard_for(replace(config, dashboard=DashboardConfig()), clock)
    assert dashboard is not None
    endpoint = Endpoint.parse(listen)
    check_exposure(endpoint, dashboard)  # no token, no login: loopback only
    control = Control(
        trigger=runner.trigger,
        health=runner.health,
        metrics=runner.metrics,
        refresh=refresher(runner, config.onec is not None),
        refresh_request=runner.refresh if config.onec is not None else None,
        deal_documents=deal_documents(dashboard),
    )
    # Open on loopback: other sites and rebound host names are refused.
    server = WebServer(
        build_app(control, dashboard),
        endpoint,
        guard_loopback=endpoint.is_loopback,
        on_stop=dashboard.close,
    )
    server.start()
    dashboard.warm()  # the agenda's first view need not wait for its simulation
    print(f"\nДашборд: {server.url}/  (остановить — Ctrl-C)", file=out, flush=True)
    try:
        with _signals(runner):
            runner.run()
    finally:
        server.stop()
