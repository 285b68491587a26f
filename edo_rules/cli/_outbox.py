"""``edo-rules outbox``: list requests that need attention, retry or drop them.

* ``edo-rules outbox [--failed|--in-doubt] [--json]`` — pending, in-flight, failed and
  in-doubt requests (or only failed / in-doubt ones);
* ``edo-rules outbox show ID`` — one request with its parameters and outcomes;
* ``edo-rules outbox retry ID…|--failed|--in-doubt`` — send again (back to pending);
* ``edo-rules outbox drop ID…`` — never send (the admin did it by hand, or it is moot).

An in-doubt request was being sent when the runner died and its action cannot
be checked in Bitrix24: look in the portal, then ``retry`` it if it is not
there or ``drop`` it if it is.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import Any

from edo_rules import _display as show
from edo_rules._messages import t
from edo_rules._untrusted import printable
from edo_rules.cli._context import CliContext, add_context_args, resolve
from edo_rules.cli._names import document_titles
from edo_rules.model import ActionRequest, RequestState
from edo_rules.store.base import Store

_LISTED = (
    RequestState.IN_DOUBT,
    RequestState.FAILED,
    RequestState.IN_FLIGHT,
    RequestState.PENDING,
)
_RETRYABLE = {
    RequestState.FAILED,
    RequestState.IN_DOUBT,
    RequestState.DROPPED,
    RequestState.PENDING,
}
_DROPPABLE = {RequestState.FAILED, RequestState.IN_DOUBT, RequestState.PENDING}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "outbox",
        help="list pending, failed and in-doubt action requests; retry or drop them",
        description="The outbox holds every action the rules decided on. Without a "
        "sub-command, list the requests that are not done yet (--failed, --in-doubt: only those).",
    )
    add_context_args(parser, playbooks=False, at=False)
    parser.add_argument("--failed", action="store_true", help="list only failed requests")
    parser.add_argument("--in-doubt", action="store_true", help="list only in-doubt requests")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=_list)
    actions = parser.add_subparsers(dest="outbox_command", metavar="ACTION")
    show_parser = actions.add_parser("show", help="one request: parameters, state, every outcome")
    show_parser.add_argument("id", type=int, help="the request id (from `edo-rules outbox`)")
    show_parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    add_context_args(show_parser, playbooks=False, at=False, nested=True)
    show_parser.set_defaults(func=_show)
    retry = actions.add_parser(
        "retry", help="send requests again: failed, in doubt (checked in Bitrix24), dropped"
    )
    retry.add_argument("ids", type=int, nargs="*", metavar="ID", help="request ids")
    retry.add_argument("--failed", action="store_true", help="every failed request")
    retry.add_argument("--in-doubt", action="store_true", help="every in-doubt request")
    add_context_args(retry, playbooks=False, at=False, nested=True)
    retry.set_defaults(func=_retry)
    drop = actions.add_parser("drop", help="never send these requests")
    drop.add_argument("ids", type=int, nargs="+", metavar="ID", help="request ids")
    add_context_args(drop, playbooks=False, at=False, nested=True)
    drop.set_defaults(func=_drop)


def _open(args: argparse.Namespace) -> tuple[Store, CliContext]:
    """The store to act on; the outbox commands only read and mend one, never create it."""
    context = resolve(args)
    return context.open_store(), context


def _list(args: argparse.Namespace) -> int:
    store, context = _open(args)
    wanted = [
        state
        for state, chosen in (
            (RequestState.FAILED, args.failed),
            (RequestState.IN_DOUBT, args.in_doubt),
        )
        if chosen
    ] or list(_LISTED)
    try:
        requests = store.requests(wanted)
        titles = document_titles(store, [r.document_id for r in requests])
    finally:
        store.close()
    if args.json:
        print(json.dumps([request_json(r, context, titles) for r in requests], ensure_ascii=False,
                         indent=2, default=str))  # fmt: skip
        return 0
    if not requests:
        print(t("outbox_none_chosen") if args.failed or args.in_doubt else t("outbox_empty"))
        return 0
    for state in _LISTED:
        _print_group(state, [r for r in requests if r.state == state], context, titles)
    _print_hints(requests)
    return 0


def request_json(
    request: ActionRequest, context: CliContext, titles: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": request.id,
        "action": request.action,
        "rule": request.rule_key,
        "document": request.document_id,
        "title": titles.get(request.document_id),
        "state": request.state.value,
        "attempts": request.attempts,
        "next_attempt_at": (
            show.iso(request.next_attempt_at, context.zone) if request.next_attempt_at else None
        ),
        "last_error": request.last_error,
        "key": request.idempotency_key,
        "created_at": show.iso(request.created_at, context.zone),
        "params": dict(request.params),
    }


def _print_group(
    state: RequestState,
    requests: Sequence[ActionRequest],
    context: CliContext,
    titles: dict[str, str],
) -> None:
    if not requests:
        return
    print(f"{t(_TITLES[state])} ({len(requests)}):")
    for request in requests:
        print("  " + _line(request, context, titles))
    print()


_TITLES = {
    RequestState.IN_DOUBT: "outbox_in_doubt",
    RequestState.FAILED: "outbox_failed",
    RequestState.IN_FLIGHT: "outbox_in_flight",
    RequestState.PENDING: "outbox_pending",
}


def _line(request: ActionRequest, context: CliContext, titles: dict[str, str]) -> str:
    text = f"#{request.id:<6} {request.action:<10} {request.rule_key}  "
    title = titles.get(request.document_id)
    text += (
        f"{printable(title)} ({request.document_id})"
        if title
        else t("outbox_doc", doc=request.document_id)
    )
    if request.attempts:
        text += "  " + t("outbox_attempts", n=request.attempts)
    if request.next_attempt_at is not None and request.state == RequestState.PENDING:
        text += "  " + t("outbox_next", at=show.moment(request.next_attempt_at, context.zone))
    if request.last_error and request.state != RequestState.PENDING:
        # Bitrix24's and 1C's words: each line escaped, every line indented
        lines = (printable(line) for line in request.last_error.split("\n"))
        text += "\n          " + "\n          ".join(lines)
    return text


def _print_hints(requests: Iterable[ActionRequest]) -> None:
    states = {r.state for r in requests}
    if RequestState.IN_DOUBT in states:
        print(t("outbox_hint_doubt"))
    if RequestState.FAILED in states:
        print(t("outbox_hint_failed"))


def _show(args: argparse.Namespace) -> int:
    store, context = _open(args)
    try:
        request = store.get_request(args.id)
        if request is None:
            print(t("outbox_no_request", id=args.id))
            return 1
        outcomes = store.outcomes_for(args.id)
        titles = document_titles(store, [request.document_id])
    finally:
        store.close()
    if getattr(args, "json", False):
        found = request_json(request, context, titles)
        found["outcomes"] = [
            {"at": show.iso(o.at, context.zone), "status": o.status.value,
             "remote_id": o.remote_id, "reason": o.reason}
            for o in outcomes
        ]  # fmt: skip
        print(json.dumps(found, ensure_ascii=False, indent=2, default=str))
        return 0
    print(_line(request, context, titles))
    print(t("outbox_state", state=request.state.value, idem=request.idempotency_key))
    print(t("outbox_created", at=show.moment(request.created_at, context.zone)))
    params = json.dumps(dict(request.params), ensure_ascii=False, indent=2, default=str)
    print(t("outbox_params") + params.replace("\n", "\n  "))
    for outcome in outcomes:
        remote = f" → {outcome.remote_id}" if outcome.remote_id else ""
        reason = f": {printable(outcome.reason)}" if outcome.reason else ""
        print(f"  {show.moment(outcome.at, context.zone)} {outcome.status.value}{remote}{reason}")
    return 0


def _retry(args: argparse.Namespace) -> int:
    if not (args.ids or args.failed or args.in_doubt):
        print(t("outbox_say_which"))
        return 2
    from edo_rules.cli._outbox_check import check_in_doubt_first

    status, left = check_in_doubt_first(args, lambda given: _open(given)[0], _selected)
    if left is None:
        return status
    changed = _change(args, RequestState.PENDING, _RETRYABLE, t("outbox_will_send"), only=left)
    return max(status, changed)


def _drop(args: argparse.Namespace) -> int:
    return _change(args, RequestState.DROPPED, _DROPPABLE, t("outbox_dropped"))


def _change(
    args: argparse.Namespace,
    to: RequestState,
    allowed: set[RequestState],
    done: str,
    *,
    only: set[int] | None = None,
) -> int:
    store, _ = _open(args)
    status = 0
    try:
        for request in _selected(store, args):
            if only is not None and request.id not in only:
                continue
            if request.state not in allowed:
                print(t("outbox_left", id=request.id, state=request.state.value))
                status = 1
                continue
            store.set_request_state(request.id or 0, to)
            print(f"#{request.id} {request.action} ({request.rule_key}): {done}")
    finally:
        store.close()
    return status


def _selected(store: Store, args: argparse.Namespace) -> list[ActionRequest]:
    states = [
        state
        for state, wanted in (
            (RequestState.FAILED, getattr(args, "failed", False)),
            (RequestState.IN_DOUBT, getattr(args, "in_doubt", False)),
        )
        if wanted
    ]
    chosen = store.requests(states) if states else []
    for request_id in args.ids:
        request = store.get_request(request_id)
        if request is None:
            raise _missing(request_id)
        chosen.append(request)
    return chosen


def _missing(request_id: int) -> Exception:
    from edo_rules.errors import EdoRulesError

    return EdoRulesError(t("outbox_no_request", id=request_id))
