"""Who in Bitrix24 a request would reach: the go-live preview's recipients, by name.

The same binding and recipient rules as the actions use (deal or company
owner, the 1C user map, the fallback user, the department head), through the
configured portal; a recipient that cannot be resolved is shown with the
reason, as the dispatch would report it. Only reads the portal (lookups are
cached in the store like the actions' own).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from edo_rules.actions.bitrix24 import Binding, Bitrix24Settings, CrmBinder, make_client
from edo_rules.actions.bitrix24.client import Bitrix24Client, Call
from edo_rules.engine._preview import RecipientNamer, recipient_as_written
from edo_rules.errors import ActionError
from edo_rules.model import ActionRequest, Document
from edo_rules.store.base import Store

_RECIPIENT_PARAMS = ("to", "responsible")


def bitrix24_recipients(
    settings: Bitrix24Settings, store: Store, *, now: Callable[[], datetime]
) -> tuple[RecipientNamer, Callable[[], None]]:
    """A namer that asks the portal, and the function that closes its client."""
    client = make_client(settings)
    binder = CrmBinder(client, store, settings, now=now)

    def name(pairs: Sequence[tuple[ActionRequest, Document | None]]) -> list[str]:
        docs = {doc.id: doc for _, doc in pairs if doc is not None}
        bindings = binder.bind(list(docs.values()))
        users = [_user(binder, bindings, request, doc) for request, doc in pairs]
        names = _names(client, {u for u in users if isinstance(u, int)})
        return [
            names.get(u, f"пользователь {u}") if isinstance(u, int) else u
            for u in (
                user if user is not None else recipient_as_written(request, doc)
                for user, (request, doc) in zip(users, pairs, strict=True)
            )
        ]

    return name, client.close


def _user(
    binder: CrmBinder, bindings: dict[str, Any], request: ActionRequest, doc: Document | None
) -> int | str | None:
    """The Bitrix24 user id; a reason when it cannot be resolved; None when not a person."""
    spec = next((request.params[p] for p in _RECIPIENT_PARAMS if p in request.params), None)
    if spec is None or doc is None:
        return None
    binding = bindings.get(doc.id)
    try:
        return binder.recipient(spec, doc, binding if isinstance(binding, Binding) else None)
    except ActionError as exc:
        return f"не определён ({spec}): {exc.code or exc}"


def _names(client: Bitrix24Client, users: set[int]) -> dict[int, str]:
    ordered = sorted(users)
    replies = client.call_many([Call("user.get", {"ID": u}, idempotent=True) for u in ordered])
    names: dict[int, str] = {}
    for user, reply in zip(ordered, replies, strict=True):
        found = reply.result[0] if isinstance(reply.result, list) and reply.result else None
        if isinstance(found, dict):
            full = " ".join(str(found.get(k) or "") for k in ("NAME", "LAST_NAME")).strip()
            names[user] = f"{full or 'пользователь'} (id {user})"
    return names
