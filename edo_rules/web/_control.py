"""The control endpoints: ``POST /sync``, ``GET /healthz``, ``GET /metrics`` and the hook.

* ``POST /sync`` — run a tick now. 202 at once; with ``?wait=1`` it waits for
  the tick (up to 60 s) and answers 200 with its summary (504 if it did not end).
  ``?document=…``, ``?inn=…``, ``?deal=…`` make it a refresh of those documents
  from 1C (:mod:`edo_rules.runner.refresh`); 400 for a bad value or without 1C.
* ``GET /healthz`` — 200 while up (503 while stopping); the last tick's time and
  result only with the token (when one is configured), and ``cluster``: this
  runner's id, what it holds (sync lease, claims) and the other runners.
* ``GET /metrics`` — the Prometheus text format.
* ``GET|POST /hooks/<token>/sync?deal=…`` or ``?document=…`` — for a Bitrix24
  robot or a link in a card, which cannot send headers: the token in the path
  is the hook's own (``http.hook_token``), good for this route only. It
  refreshes the named documents and answers within a few seconds. Without a
  dashboard, ``?deal=`` asks the runner to find the deal's documents itself.

``/sync`` and ``/metrics`` need ``Authorization: Bearer <http.token>`` when
a token is configured; ``/healthz`` never does (without it, it says only up or down).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edo_rules.errors import EdoRulesError
from edo_rules.runner.metrics import CONTENT_TYPE, Metrics
from edo_rules.runner.refresh import RefreshRequest, parse_refresh
from edo_rules.web._access import same

_WAIT_SECONDS = 60.0

#: Runs a tick now (or queues one); with ``wait`` returns its summary when done.
TickTrigger = Callable[[bool, float], Mapping[str, Any] | None]
#: Refreshes documents from 1C within ``timeout`` seconds; returns a JSON-ready result.
Refresher = Callable[[Sequence[str], float], Mapping[str, Any]]
#: Runs a tick that re-reads given documents (see edo_rules.runner.refresh).
RefreshTrigger = Callable[[RefreshRequest, bool, float], Mapping[str, Any] | None]
#: The documents of a Bitrix24 deal (their 1C ids), from the store.
DealDocuments = Callable[[str], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Control:
    """What the control endpoints call: the runner's trigger, health and refresh."""

    trigger: TickTrigger
    health: Callable[[], tuple[bool, Mapping[str, Any]]]
    metrics: Metrics
    token: str | None = None
    hook_token: str | None = None
    refresh: Refresher | None = None
    #: ``POST /sync?document=|inn=|deal=``: the runner's refresh (None without 1C).
    refresh_request: RefreshTrigger | None = None
    deal_documents: DealDocuments | None = None
    hook_seconds: float = 5.0
    #: This runner, what it holds and the others (``Service.cluster_status``).
    cluster: Callable[[], Mapping[str, Any]] | None = None


def json_response(data: Mapping[str, Any], status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str) + "\n"
    return Response(body, status, media_type="application/json")


def bearer_ok(request: Request, token: str | None) -> bool:
    if not token:
        return True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and same(value.strip(), token)


def routes(control: Control) -> list[Route]:
    def healthz(request: Request) -> Response:
        return _healthz(control, request)

    def metrics(request: Request) -> Response:
        if not bearer_ok(request, control.token):
            return _unauthorized()
        return Response(control.metrics.render(), media_type=CONTENT_TYPE)

    def sync(request: Request) -> Response:
        if not bearer_ok(request, control.token):
            return _unauthorized()
        wait = request.query_params.get("wait", "0").lower() in {"1", "true", "yes"}
        query = {key: request.query_params.getlist(key) for key in request.query_params}
        try:
            refresh = parse_refresh(query)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        if refresh is not None and control.refresh_request is None:
            error = "refreshing documents needs the onec section in the config"
            return json_response({"error": error}, 400)
        if refresh is not None and control.refresh_request is not None:
            result = control.refresh_request(refresh, wait, _WAIT_SECONDS)
        else:
            result = control.trigger(wait, _WAIT_SECONDS)
        if not wait:
            return json_response({"queued": True}, 202)
        if result is None:
            return json_response({"error": "the tick did not finish in time"}, 504)
        return json_response(result)

    def hook(request: Request) -> Response:
        return _hook(control, request)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/sync", sync, methods=["POST"]),
        Route("/hooks/{token}/sync", hook, methods=["GET", "POST"]),
    ]


def _healthz(control: Control, request: Request) -> Response:
    ok, info = control.health()
    given = "authorization" in request.headers
    if control.token and not (given and bearer_ok(request, control.token)):
        # Without the token: up or down, nothing about ticks, failed stages or runners.
        info = {"status": info.get("status", "ok" if ok else "down")}
    elif control.cluster is not None:
        info = {**info, "cluster": _cluster(control.cluster)}
    return json_response(info, 200 if ok else 503)


def _cluster(status: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
    try:
        return status()
    except EdoRulesError as exc:  # the store is down: health still answers
        return {"error": str(exc)}


def _unauthorized() -> Response:
    return json_response({"error": "a valid bearer token is required"}, 401)


def _hook(control: Control, request: Request) -> Response:
    token = request.path_params["token"]
    if not control.hook_token or not same(token, control.hook_token):
        # Same answer for "no hook configured" and "wrong token": nothing to probe.
        return json_response({"error": "unknown hook"}, 404)
    if not bearer_ok(request, control.token) and "authorization" in request.headers:
        return _unauthorized()
    by_deal = _deal_refresh(control, request)
    return by_deal if by_deal is not None else _hook_refresh(control, request)


def _hook_refresh(control: Control, request: Request) -> Response:
    documents = _hook_documents(control, request)
    if isinstance(documents, Response):
        return documents
    if control.refresh is None:
        result = control.trigger(True, control.hook_seconds)
        if result is None:
            return json_response({"queued": True}, 202)
        return json_response({"documents": list(documents), "tick": result})
    return json_response(control.refresh(documents, control.hook_seconds))


def _deal_refresh(control: Control, request: Request) -> Response | None:
    """``?deal=`` on a runner without a dashboard: the runner's own refresh of that deal.

    The runner finds the deal's documents in its store (those the card shows,
    else those bound to the deal), so the button works without ``dashboard:``.
    None: not this case (the dashboard's list of the deal's documents is used).
    """
    deal = request.query_params.get("deal")
    if (
        not deal
        or not deal.isdigit()
        or "document" in request.query_params
        or control.deal_documents is not None
        or control.refresh_request is None
    ):
        return None
    result = control.refresh_request(RefreshRequest(deal=int(deal)), True, control.hook_seconds)
    if result is None:
        # Still running: the tick goes on and the card shows it when it ends.
        return json_response({"ok": True, "queued": True, "deal": int(deal)}, 202)
    return json_response({"ok": bool(result.get("ok")), "deal": int(deal), "tick": result})


def _hook_documents(control: Control, request: Request) -> Sequence[str] | Response:
    deal = request.query_params.get("deal")
    document = request.query_params.get("document")
    if bool(deal) == bool(document):
        return json_response(
            {"error": "give exactly one of ?deal=<Bitrix24 deal id> or ?document=<1C ref>"}, 400
        )
    if document:
        return [document]
    if not str(deal).isdigit():
        return json_response({"error": f"deal={deal!r}: expected a Bitrix24 deal id"}, 400)
    if control.deal_documents is None:
        return json_response({"error": "this server has no store to find the deal in"}, 404)
    return list(control.deal_documents(str(deal)))
