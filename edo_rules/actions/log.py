"""The ``log`` action: a dry run that writes what would be done to the log.

``can_check`` is True: a log line is harmless to repeat, so after a crash an
in-doubt request is simply considered done (re-logging it would change nothing
outside this process).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from edo_rules._untrusted import printable
from edo_rules.model import ActionRequest, Outcome, OutcomeStatus

LOGGER = logging.getLogger("edo_rules.actions.log")

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class LogAction:
    """Dry run: logs (and optionally prints) each request instead of carrying it out.

    Parameters in a playbook: ``message`` (a template, optional) and ``level``
    (``debug``/``info``/``warning``/``error``, default ``info``). Any action can
    be replaced by ``log`` to try a playbook without touching the CRM.
    """

    name: ClassVar[str] = "log"
    params_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "message": {"type": "string", "maxLength": 10000},
            "level": {"enum": sorted(_LEVELS)},
        },
    }
    can_check: ClassVar[bool] = True

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        logger: logging.Logger = LOGGER,
        echo: Callable[[str], None] | None = None,
    ):
        """``clock`` stamps the outcomes (injected: the runner passes its own);
        ``echo`` also receives each line (e.g. ``print`` for ``tick --dry-run``)."""
        self._logger = logger
        self._echo = echo
        self._clock = clock

    def execute(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        """Log each request; every request is DONE (a log line cannot fail remotely)."""
        return [self._one(request) for request in requests]

    def check(self, request: ActionRequest) -> Outcome | None:
        """A log line is harmless to repeat, so a request in doubt counts as done."""
        return self._outcome(request, "checked: a log line needs no confirmation")

    def _one(self, request: ActionRequest) -> Outcome:
        line = describe(request)
        level = _LEVELS.get(str(request.params.get("level", "info")), logging.INFO)
        self._logger.log(level, "%s", line)
        if self._echo is not None:
            self._echo(line)
        return self._outcome(request, None)

    def _outcome(self, request: ActionRequest, reason: str | None) -> Outcome:
        return Outcome(
            request_id=request.id if request.id is not None else 0,
            status=OutcomeStatus.DONE,
            at=self._clock(),
            remote_id=f"log:{request.idempotency_key}",
            reason=reason,
        )


def describe(request: ActionRequest) -> str:
    """One readable line: which rule, which document, what would be done (non-printable
    characters escaped)."""
    message = request.params.get("message")
    if message is None:
        message = json.dumps(dict(request.params), ensure_ascii=False, default=str, sort_keys=True)
    # The message holds what 1C sent: escaped, so that it cannot start a log line of its own.
    return printable(f"[dry run] {request.rule_key} · {request.document_id}: {message}")
