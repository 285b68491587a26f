"""What every Bitrix24 action shares: documents, bindings, outcomes, error classes.

A subclass says how one request becomes a :class:`Call` (``_build``), how a
result becomes a remote id (``_remote_id``) and, when the API allows, how to
look a request up after a crash (``_lookup``). The base turns each reply into
an :class:`Outcome`:

- done → DONE with the remote id;
- refused before it ran (rate limit, blocked method, no connection) → RETRY;
- uncertain (5xx, HTML, timeout): RETRY when re-sending is harmless
  (``idempotent``), else look it up now when ``can_check`` (found → DONE, not
  found → RETRY), else IN_DOUBT — never sent twice blindly;
- permanent → FAILED with the reason and what the admin must do.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from edo_rules._messages import msg
from edo_rules.actions.bitrix24 import _deadline
from edo_rules.actions.bitrix24.binding import Binding, CrmBinder
from edo_rules.actions.bitrix24.client import Bitrix24Client, Call, Reply
from edo_rules.actions.bitrix24.errors import Bitrix24Error, ErrorClass
from edo_rules.actions.bitrix24.settings import Bitrix24Settings
from edo_rules.errors import ActionError
from edo_rules.model import ActionRequest, Document, Outcome, OutcomeStatus
from edo_rules.store.base import Store

log = logging.getLogger("edo_rules.bitrix24")


def marker(key: str) -> str:
    """A short, stable dedup key (TAG, XML_ID, xmlId) derived from an idempotency key."""
    return "edo-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


@dataclass(slots=True)
class Job:
    """One request on its way: its document, binding, call and (once known) outcome."""

    request: ActionRequest
    document: Document | None = None
    binding: Binding | None = None
    call: Call | None = None
    outcome: Outcome | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """What an adapter is built with (the runner or :func:`build_adapters` supplies it)."""

    client: Bitrix24Client
    binder: CrmBinder
    store: Store
    settings: Bitrix24Settings
    now: Callable[[], datetime]
    working_day: _deadline.WorkingDay = _deadline.weekdays
    #: Working days in ``(start, end]``: the production calendar's own count when the
    #: runner passes it (a few look-ups), otherwise counted day by day with ``working_day``.
    working_days: _deadline.WorkingDaysBetween | None = None


class Bitrix24Action:
    """The base of the Bitrix24 actions; see the module docstring for the outcome rules."""

    name: ClassVar[str]
    params_schema: ClassVar[Mapping[str, Any]]
    can_check: ClassVar[bool] = False
    #: True when sending the same request twice has the effect of sending it once.
    idempotent: ClassVar[bool] = False
    #: True when the request needs the document's CRM binding before it is built.
    needs_binding: ClassVar[bool] = True

    def __init__(self, context: Context) -> None:
        self._ctx = context

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._ctx.client!r})"

    # -- the Action protocol -------------------------------------------------------
    def execute(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        """One outcome per request, in order; never raises for one request's failure."""
        jobs = [Job(request) for request in requests]
        self._load(jobs)
        for job in self._open(jobs):
            self._guard(job, self._prepare)
        self._send([job for job in self._open(jobs) if job.call is not None])
        return [job.outcome or self._fail(job, str(msg("b24_no_outcome"))) for job in jobs]

    def check(self, request: ActionRequest) -> Outcome | None:
        """After a crash: DONE if the request took effect, None if not, IN_DOUBT if unknowable."""
        if not self.can_check:
            return self._outcome(request, OutcomeStatus.IN_DOUBT, reason=self._no_check_reason())
        job = Job(request)
        self._load([job])
        if job.outcome is not None:
            return None if job.outcome.status is OutcomeStatus.FAILED else job.outcome
        try:
            remote = self._lookup(job)
        except ActionError as exc:
            return self._outcome(
                request, OutcomeStatus.IN_DOUBT, reason=str(msg("b24_check_failed", error=exc))
            )
        return (
            None if remote is None else self._outcome(request, OutcomeStatus.DONE, remote_id=remote)
        )

    def find_existing(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        """Before creating: DONE for the requests already carried out, RETRY where the
        look-up failed, nothing for the rest (see ``LooksUpFirst``).

        The look-ups go out together (``batch``, 50 to a call). Only an action
        that creates a new object each time needs it: an idempotent one is
        safe to re-send, and one that cannot be checked has nothing to ask.
        """
        if not self.can_check or self.idempotent:
            return []
        jobs = [Job(request) for request in requests]
        self._load(jobs)  # a request that cannot even be built is reported by execute
        asking: list[tuple[Job, Call]] = []
        for job in self._open(jobs):
            try:
                call = self._find_call(job)
            except ActionError:
                continue
            if call is not None:
                asking.append((job, call))
        replies = self._ctx.client.call_many([call for _, call in asking])
        return [
            outcome
            for (job, _), reply in zip(asking, replies, strict=True)
            if (outcome := self._existing(job, reply)) is not None
        ]

    def _existing(self, job: Job, reply: Reply) -> Outcome | None:
        if reply.error is not None:
            return self._outcome(
                job.request,
                OutcomeStatus.RETRY,
                reason=str(msg("b24_lookup_failed", error=reply.error)),
                retry_after=getattr(reply.error, "retry_after", None),
            )
        remote = self._found(job, reply.result)
        return None if remote is None else self._done(job, remote)

    # -- for subclasses ------------------------------------------------------------
    def _build(self, job: Job) -> Call:
        raise NotImplementedError

    def _find_call(self, job: Job) -> Call | None:
        """The call that finds the request's object by its marker (None: nothing to ask)."""
        return None

    def _found(self, job: Job, result: Any) -> str | None:
        """The remote id in the answer to :meth:`_find_call`, if the object exists."""
        return None

    def _remote_id(self, job: Job, result: Any) -> str | None:
        return None if result is None or isinstance(result, bool | dict | list) else str(result)

    def _lookup(self, job: Job) -> str | None:
        """The remote id if the request already took effect (only when ``can_check``)."""
        raise NotImplementedError

    def _no_check_reason(self) -> str:
        return str(msg("b24_no_check", action=self.name))

    def _send(self, jobs: Sequence[Job]) -> None:
        replies = self._ctx.client.call_many([job.call for job in jobs if job.call is not None])
        for job, reply in zip(jobs, replies, strict=True):
            self._finish(job, reply)

    def _finish(self, job: Job, reply: Reply) -> None:
        if reply.error is None:
            job.outcome = self._done(job, self._remote_id(job, reply.result))
        else:
            job.outcome = self._failure(job, reply.error)

    # -- helpers --------------------------------------------------------------------
    def _now(self) -> datetime:
        return self._ctx.now()

    def _deadline(self, text: str) -> str:
        settings = self._ctx.settings
        try:
            moment = _deadline.deadline(
                text,
                self._now(),
                zone=settings.timezone,
                end_hour=settings.working_day_end_hour,
                working_day=self._ctx.working_day,
            )
        except ValueError as exc:
            raise ActionError(str(exc), retryable=False, code="BAD_PARAMS") from None
        return moment.isoformat(timespec="seconds")

    def _recipient(self, job: Job, spec: Any) -> int:
        assert job.document is not None
        return self._ctx.binder.recipient(spec, job.document, job.binding)

    def _deal_or_company(self, job: Job, on: str | None) -> tuple[str, int]:
        """``("deal", id)`` or ``("company", id)``: the requested owner, else deal, else company."""
        binding = job.binding or Binding()
        order = [on] if on else ["deal", "company"]
        for kind in order:
            owner = binding.deal_id if kind == "deal" else binding.company_id
            if owner is not None:
                return kind, owner
        owners = [msg(f"b24_owner_{kind}") for kind in order]
        raise ActionError(
            msg(
                "b24_not_bound",
                document=job.request.document_id,
                owners=owners[0]
                if len(owners) == 1
                else msg("b24_or", left=owners[0], right=owners[1]),
            ),
            retryable=False,
            code="NOT_BOUND",
            hint=msg("b24_hint_not_bound"),
        )

    def _done(self, job: Job, remote_id: str | None) -> Outcome:
        return self._outcome(job.request, OutcomeStatus.DONE, remote_id=remote_id)

    def _fail(self, job: Job, reason: str) -> Outcome:
        return self._outcome(job.request, OutcomeStatus.FAILED, reason=reason)

    def _failure(self, job: Job, error: ActionError) -> Outcome:
        if not isinstance(error, Bitrix24Error):
            status = OutcomeStatus.RETRY if error.retryable else OutcomeStatus.FAILED
            return self._outcome(job.request, status, reason=str(error))
        if error.refused or error.error_class is ErrorClass.EXPIRED_TOKEN:
            return self._outcome(
                job.request, OutcomeStatus.RETRY, reason=str(error), retry_after=error.retry_after
            )
        if error.error_class is ErrorClass.UNCERTAIN:
            return self._uncertain(job, error)
        return self._fail(job, str(error))

    def _uncertain(self, job: Job, error: Bitrix24Error) -> Outcome:
        if self.idempotent:
            return self._outcome(job.request, OutcomeStatus.RETRY, reason=str(error))
        if not self.can_check:
            return self._outcome(
                job.request, OutcomeStatus.IN_DOUBT, reason=f"{error}\n{self._no_check_reason()}"
            )
        try:
            remote = self._lookup(job)
        except ActionError as exc:
            return self._outcome(
                job.request,
                OutcomeStatus.IN_DOUBT,
                reason=str(msg("b24_check_failed_too", error=error, check=exc)),
            )
        if remote is not None:
            return self._done(job, remote)
        return self._outcome(
            job.request,
            OutcomeStatus.RETRY,
            reason=str(msg("b24_checked_not_created", error=error)),
        )

    def _outcome(
        self,
        request: ActionRequest,
        status: OutcomeStatus,
        *,
        remote_id: str | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> Outcome:
        if status is not OutcomeStatus.DONE:
            log.info(
                "bitrix24 %s request %s: %s %s", self.name, request.id, status.value, reason or ""
            )
        return Outcome(
            request_id=request.id or 0,
            status=status,
            at=self._now(),
            remote_id=remote_id,
            reason=reason,
            retry_after=retry_after,
        )

    def _prepare(self, job: Job) -> None:
        job.call = self._build(job)

    def _guard(self, job: Job, step: Callable[[Job], None]) -> None:
        """Run a step that sends nothing yet (build, lookups): a failure cannot leave a trace."""
        try:
            step(job)
        except ActionError as exc:
            job.outcome = self._before_send(job, exc)

    def _before_send(self, job: Job, error: ActionError) -> Outcome:
        status = OutcomeStatus.RETRY if error.retryable else OutcomeStatus.FAILED
        retry_after = error.retry_after if isinstance(error, Bitrix24Error) else None
        return self._outcome(job.request, status, reason=str(error), retry_after=retry_after)

    @staticmethod
    def _open(jobs: Sequence[Job]) -> list[Job]:
        return [job for job in jobs if job.outcome is None]

    def _load(self, jobs: Sequence[Job]) -> None:
        documents = self._ctx.store.get_documents({job.request.document_id for job in jobs})
        for job in jobs:
            job.document = documents.get(job.request.document_id)
            if job.document is None:
                job.outcome = self._fail(
                    job, f"document {job.request.document_id} is not in the store"
                )
        if self.needs_binding:
            self._bind([job for job in self._open(jobs) if self._wants_binding(job)])

    def _wants_binding(self, job: Job) -> bool:
        return True

    def _bind(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        docs = {job.document.id: job.document for job in jobs if job.document is not None}
        bindings = self._ctx.binder.bind(list(docs.values()))
        for job in jobs:
            found = bindings.get(job.request.document_id)
            if isinstance(found, Bitrix24Error):
                job.outcome = self._before_send(job, found)
            else:
                job.binding = found
