"""``outbox retry`` of in-doubt requests: ask the portal first, never re-send what it has.

With ``--config`` (and a ``bitrix24`` section) every selected in-doubt request
whose action can be looked up is checked through its adapter: found → recorded
as done and not sent again; not found → back to pending; no answer → left in
doubt. With only ``--store`` such a request is refused (nothing to check with).
Actions that cannot be checked (``todo``, ``workflow``) are the admin's call:
they go back to pending as asked.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime

from edo_rules._messages import t
from edo_rules.actions.registry import get_action_class
from edo_rules.errors import EdoRulesError
from edo_rules.model import ActionRequest, RequestState
from edo_rules.store.base import Store

_MESSAGES = {
    "done": "checked_done",
    "resend": "checked_resend",
    "unchecked": "checked_unchecked",
}

Opener = Callable[[argparse.Namespace], Store]
Selector = Callable[[Store, argparse.Namespace], list[ActionRequest]]


def check_in_doubt_first(
    args: argparse.Namespace, open_store: Opener, select: Selector
) -> tuple[int, set[int] | None]:
    """Handle the checkable in-doubt requests; returns (status, ids left for a plain retry)."""
    store = open_store(args)
    try:
        chosen = select(store, args)
    finally:
        store.close()
    checkable = [r for r in chosen if r.state is RequestState.IN_DOUBT and _can_check(r.action)]
    rest = {r.id or 0 for r in chosen if r not in checkable}
    if not checkable:
        return 0, rest
    if getattr(args, "store", None) is not None:
        for request in checkable:
            print(t("checked_needs_config", id=request.id, action=request.action))
        return 1, rest
    return _check_all(args, checkable), rest


def _can_check(action: str) -> bool:
    try:
        return bool(get_action_class(action).can_check)
    except EdoRulesError:
        return False


def _check_all(args: argparse.Namespace, requests: list[ActionRequest]) -> int:
    from edo_rules.cli._context import resolve
    from edo_rules.runner._heal import retry_checked
    from edo_rules.runner.wiring import open_service

    config = resolve(args).effective_config()  # --config, else ./edo-rules.yaml
    service = open_service(config, clock=lambda: datetime.now(UTC))
    status = 0
    try:
        for request in requests:
            adapter = service.actions.get(request.action)
            if adapter is None:
                print(t("checked_no_action", id=request.id, action=request.action))
                status = 1
                continue
            result = retry_checked(service.dispatcher, adapter, request)
            status = max(status, int(result == "unchecked"))
            print(f"#{request.id} {request.action} ({request.rule_key}): {t(_MESSAGES[result])}")
    finally:
        service.close()
    return status
