"""Running one method or a ``batch``: scopes, operating time, envelopes, result references."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from edo_rules.emulators.bitrix24 import (
    _methods_card,
    _methods_crm,
    _methods_more,
    _methods_other,
)
from edo_rules.emulators.bitrix24._common import CallContext, Handler, ListResult, MethodError
from edo_rules.emulators.bitrix24._limits import OperatingTime
from edo_rules.emulators.bitrix24._php import decode
from edo_rules.emulators.bitrix24._portal import Portal

METHODS: dict[str, tuple[str, Handler]] = {
    **_methods_crm.METHODS,
    **_methods_other.METHODS,
    **_methods_card.METHODS,
    **_methods_more.METHODS,
}
BATCH_LIMIT = 50
_REFERENCE = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: its identity for the operating-time limit, its scopes, context."""

    identity: str
    scopes: frozenset[str]
    context: CallContext


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP status and a JSON body."""

    status: int
    body: dict[str, Any]


def error_body(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description}


class Dispatcher:
    """Runs methods against the portal under its lock, timing each for the operating-time limit."""

    def __init__(
        self,
        portal: Portal,
        operating: OperatingTime,
        *,
        clock: Callable[[], float],
        cost: Mapping[str, float],
        scope_status: int = 403,
    ) -> None:
        self._portal = portal
        self._scope_status = scope_status
        self._operating = operating
        self._clock = clock
        self._cost = {k.lower(): v for k, v in cost.items()}

    def run(self, method: str, params: Mapping[str, Any], caller: Caller) -> Answer:
        """One top-level call (``batch`` included)."""
        if method.lower() == "batch":
            return self._batch(params, caller)
        status, body = self._call(method, params, caller)
        return Answer(status, body)

    def _call(
        self, method: str, params: Mapping[str, Any], caller: Caller
    ) -> tuple[int, dict[str, Any]]:
        name = method.lower()
        if name not in METHODS:
            return 404, error_body("ERROR_METHOD_NOT_FOUND", "Method not found!")
        scope, handler = METHODS[name]
        if scope not in caller.scopes:
            # 403 per the system-errors table of the official REST docs (see
            # docs/development.md, "Emulator facts and sources"); a 401 here makes a
            # client that refreshes its token on every 401 loop forever.
            token = "webhook token" if caller.context.webhook else "access token"
            return self._scope_status, error_body(
                "insufficient_scope",
                f"The request requires higher privileges than provided by the {token}",
            )
        if self._operating.blocked(caller.identity, name):
            body = error_body(
                "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."
            )
            body["time"] = self._time(self._clock(), caller, name)
            return 429, body
        return self._execute(name, handler, params, caller)

    def _execute(
        self, name: str, handler: Handler, params: Mapping[str, Any], caller: Caller
    ) -> tuple[int, dict[str, Any]]:
        start = self._clock()
        try:
            with self._portal.lock:
                result = handler(self._portal, params, caller.context)
        except MethodError as exc:
            return exc.status, error_body(exc.code, exc.description)
        finally:
            spent = self._clock() - start + self._cost.get(name, 0.0)
            self._operating.spend(caller.identity, name, spent)
        return 200, self._envelope(result, start, caller, name)

    def _envelope(self, result: Any, start: float, caller: Caller, name: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if isinstance(result, ListResult):
            body["result"] = result.result
            if result.total is not None:
                body["total"] = result.total
            if result.next is not None:
                body["next"] = result.next
        else:
            body["result"] = result
        body["time"] = self._time(start, caller, name)
        return body

    def _time(self, start: float, caller: Caller, name: str) -> dict[str, Any]:
        finish = self._clock()
        return {
            "start": start,
            "finish": finish,
            "duration": finish - start,
            "processing": finish - start,
            "date_start": _iso(start),
            "date_finish": _iso(finish),
            "operating": self._operating.operating(caller.identity, name),
            "operating_reset_at": self._operating.reset_at(caller.identity, name),
        }

    # -- batch -----------------------------------------------------------------------------
    def _batch(self, params: Mapping[str, Any], caller: Caller) -> Answer:
        commands = params.get("cmd") or {}
        if isinstance(commands, list):
            commands = {str(i): c for i, c in enumerate(commands)}
        if not isinstance(commands, Mapping):
            return Answer(400, error_body("INVALID_REQUEST", "cmd must be a map of commands"))
        if len(commands) > BATCH_LIMIT:
            return Answer(
                400, error_body("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
            )
        start = self._clock()
        halt = str(params.get("halt", "0")) not in ("0", "", "false", "False")
        sections = self._run_commands(commands, caller, halt=halt)
        body = {
            "result": {k: _php_array(v) for k, v in sections.items()},
            "time": self._time(start, caller, "batch"),
        }
        return Answer(200, body)

    def _run_commands(
        self, commands: Mapping[str, Any], caller: Caller, *, halt: bool
    ) -> dict[str, dict[str, Any]]:
        sections: dict[str, dict[str, Any]] = {
            "result": {},
            "result_error": {},
            "result_total": {},
            "result_next": {},
            "result_time": {},
        }
        for key, command in commands.items():
            method, _, query = str(command).partition("?")
            params = _resolve(decode(query), sections["result"])
            if method.lower() == "batch":
                status, body = (
                    405,
                    error_body(
                        "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage"
                    ),
                )
            else:
                status, body = self._call(method, params, caller)
            _collect(sections, str(key), status, body)
            if halt and status != 200:
                break
        return sections


def _collect(
    sections: dict[str, dict[str, Any]], key: str, status: int, body: dict[str, Any]
) -> None:
    if "error" in body:
        # Inside a batch a missing scope comes without a description (a portal's
        # answer quoted on the vendor's developer forum, topic 146606).
        scope = body["error"] == "insufficient_scope"
        sections["result_error"][key] = {
            "error": body["error"],
            "error_description": "" if scope else body["error_description"],
        }
        return
    sections["result"][key] = body.get("result")
    for field, section in (
        ("total", "result_total"),
        ("next", "result_next"),
        ("time", "result_time"),
    ):
        if field in body:
            sections[section][key] = body[field]


def _resolve(params: Any, results: Mapping[str, Any]) -> Any:
    """Substitute ``$result[key][FIELD]…`` references to earlier commands' results."""
    if isinstance(params, dict):
        return {k: _resolve(v, results) for k, v in params.items()}
    if isinstance(params, list):
        return [_resolve(v, results) for v in params]
    if isinstance(params, str) and "$result[" in params:
        return _REFERENCE.sub(lambda m: _lookup(m, results), params)
    return params


def _lookup(match: re.Match[str], results: Mapping[str, Any]) -> str:
    value: Any = results.get(match.group(1))
    for part in re.findall(r"\[([^\]]*)\]", match.group(2)):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return match.group(0)
    return match.group(0) if value is None or isinstance(value, dict | list) else str(value)


def _php_array(section: dict[str, Any]) -> Any:
    """Empty sections are ``[]``; keys exactly ``0..n-1`` make a JSON list (a PHP array)."""
    if not section:
        return []
    if list(section) == [str(i) for i in range(len(section))]:
        return list(section.values())
    return section


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).astimezone().isoformat(timespec="seconds")
