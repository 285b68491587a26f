"""``edo-rules outbox``: list requests that need attention, retry or drop them.

* ``edo-rules outbox`` — pending, in-flight, failed and in-doubt requests;
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
        "sub-command, list the requests that are not done yet.",
    )
    _store_args(parser)
    parser.set_defaults(func=_list)
    actions = parser.add_subparsers(dest="outbox_command", metavar="ACTION")
    show = actions.add_parser("show", help="one request: parameters, state, every outcome")
    show.add_argument("id", type=int, help="the request id (from `edo-rules outbox`)")
    _store_args(show)
    show.set_defaults(func=_show)
    retry = actions.add_parser(
        "retry", help="send requests again: failed, in doubt (checked in Bitrix24), dropped"
    )
    retry.add_argument("ids", type=int, nargs="*", metavar="ID", help="request ids")
    retry.add_argument("--failed", action="store_true", help="every failed request")
    retry.add_argument("--in-doubt", action="store_true", help="every in-doubt request")
    _store_args(retry)
    retry.set_defaults(func=_retry)
    drop = actions.add_parser("drop", help="never send these requests")
    drop.add_argument("ids", type=int, nargs="+", metavar="ID", help="request ids")
    _store_args(drop)
    drop.set_defaults(func=_drop)


def _store_args(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--config",
        "-c",
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="the config file naming the store (default: edo-rules.yaml)",
    )
    where.add_argument(
        "--store", default=argparse.SUPPRESS, metavar="PATH", help="a SQLite store file"
    )


def _open(args: argparse.Namespace) -> Store:
    """The store to act on; the outbox commands only read and mend one, never create it."""
    from edo_rules.cli._engine_options import open_existing_store

    store_path = getattr(args, "store", None)
    if store_path is None:
        from edo_rules.config import load_config

        config = load_config(getattr(args, "config", "edo-rules.yaml"))
        if config.store.path is None:
            from edo_rules.runner.wiring import open_store

            return open_store(config)  # says clearly what is not supported
        store_path = str(config.store.path)
    return open_existing_store(store_path)


def _list(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        requests = store.requests(_LISTED)
    finally:
        store.close()
    if not requests:
        print("the outbox is empty: every action is done")
        return 0
    for state in _LISTED:
        _print_group(state, [r for r in requests if r.state == state])
    _print_hints(requests)
    return 0


def _print_group(state: RequestState, requests: Sequence[ActionRequest]) -> None:
    if not requests:
        return
    print(f"{_TITLES[state]} ({len(requests)}):")
    for request in requests:
        print("  " + _line(request))
    print()


_TITLES = {
    RequestState.IN_DOUBT: "IN DOUBT — check in Bitrix24, then retry or drop",
    RequestState.FAILED: "FAILED",
    RequestState.IN_FLIGHT: "IN FLIGHT",
    RequestState.PENDING: "PENDING",
}


def _line(request: ActionRequest) -> str:
    text = f"#{request.id:<6} {request.action:<10} {request.rule_key}  doc {request.document_id}"
    if request.attempts:
        text += f"  attempts {request.attempts}"
    if request.next_attempt_at is not None and request.state == RequestState.PENDING:
        text += f"  next {request.next_attempt_at:%Y-%m-%d %H:%M:%S %Z}"
    if request.last_error and request.state != RequestState.PENDING:
        text += "\n          " + request.last_error.replace("\n", "\n          ")
    return text


def _print_hints(requests: Iterable[ActionRequest]) -> None:
    states = {r.state for r in requests}
    if RequestState.IN_DOUBT in states:
        print("In doubt: look for the action in Bitrix24 (see `edo-rules outbox show ID`);")
        print("  not there → `edo-rules outbox retry ID`; there → `edo-rules outbox drop ID`.")
    if RequestState.FAILED in states:
        print("Failed: fix the cause shown above, then `edo-rules outbox retry --failed`.")


def _show(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        request = store.get_request(args.id)
        if request is None:
            print(f"no request #{args.id} in the outbox (list them with `edo-rules outbox`)")
            return 1
        outcomes = store.outcomes_for(args.id)
    finally:
        store.close()
    print(_line(request))
    print(f"  state: {request.state.value}; idempotency key: {request.idempotency_key}")
    print(f"  created: {request.created_at.isoformat()}")
    params = json.dumps(dict(request.params), ensure_ascii=False, indent=2, default=str)
    print("  parameters: " + params.replace("\n", "\n  "))
    for outcome in outcomes:
        remote = f" → {outcome.remote_id}" if outcome.remote_id else ""
        reason = f": {outcome.reason}" if outcome.reason else ""
        print(f"  {outcome.at.isoformat()} {outcome.status.value}{remote}{reason}")
    return 0


def _retry(args: argparse.Namespace) -> int:
    if not (args.ids or args.failed or args.in_doubt):
        print("say which requests: IDs, --failed or --in-doubt")
        return 2
    from edo_rules.cli._outbox_check import check_in_doubt_first

    status, left = check_in_doubt_first(args, _open, _selected)
    if left is None:
        return status
    changed = _change(
        args, RequestState.PENDING, _RETRYABLE, "will be sent at the next tick", only=left
    )
    return max(status, changed)


def _drop(args: argparse.Namespace) -> int:
    return _change(args, RequestState.DROPPED, _DROPPABLE, "dropped")


def _change(
    args: argparse.Namespace,
    to: RequestState,
    allowed: set[RequestState],
    done: str,
    *,
    only: set[int] | None = None,
) -> int:
    store = _open(args)
    status = 0
    try:
        for request in _selected(store, args):
            if only is not None and request.id not in only:
                continue
            if request.state not in allowed:
                print(f"#{request.id}: is {request.state.value}; left as it is")
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

    return EdoRulesError(
        f"no request #{request_id} in the outbox (list them with `edo-rules outbox`)"
    )
