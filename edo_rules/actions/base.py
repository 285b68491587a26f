"""The Action protocol: what an action adapter must provide.

An adapter is registered by name (see :mod:`edo_rules.actions.registry`). Its
class carries ``params_schema`` so that ``edo-rules validate`` checks a
playbook's parameters before run time; an instance, built by the runner with
its client, executes requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from edo_rules.model import ActionRequest, Outcome


@runtime_checkable
class Action(Protocol):
    """One kind of action (``notify``, ``task``, ``log`` …).

    ``execute`` never raises for a failure of one request: it returns an
    :class:`Outcome` per request (done, retry, failed, in doubt), in the order
    given, so that one bad request never stops the others. It may raise
    :class:`edo_rules.errors.ActionError` only when it cannot run at all.
    """

    #: The name used in playbooks (``do: [- notify: {...}]``).
    name: ClassVar[str]
    #: JSON Schema of the parameters, checked at load time.
    params_schema: ClassVar[Mapping[str, Any]]
    #: True when :meth:`check` can tell whether a request already took effect.
    can_check: ClassVar[bool]

    def execute(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        """Carry out the requests (batched where the remote side allows)."""
        ...

    def check(self, request: ActionRequest) -> Outcome | None:
        """After a crash: did this request already take effect?

        Returns a DONE outcome if it did, ``None`` if it did not (safe to send),
        and raises nothing; an adapter with ``can_check = False`` returns an
        IN_DOUBT outcome.
        """
        ...


@runtime_checkable
class LooksUpFirst(Protocol):
    """An action that can find, in batches, requests that already took effect.

    A store has no memory of what a previous store (deleted and rebuilt from
    1C, or older: a restored backup) sent; the dispatcher asks an adapter with
    this method about such requests before it creates anything.
    """

    def find_existing(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        """DONE (with the remote id) for the requests already carried out; RETRY for those
        whose look-up failed; nothing for the others (safe to create). Raises nothing."""
        ...
