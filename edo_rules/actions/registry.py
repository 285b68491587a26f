"""The action registry: built-in adapters by name, plus third-party entry points.

Built-ins are an explicit, readable table of ``name → "module:Class"``; nothing
is imported until an action is looked up. Third-party adapters register in the
``edo_rules.actions`` entry-point group (``name = "package.module:Class"``) and
are loaded lazily too. A built-in name cannot be overridden by an entry point.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Final

from edo_rules._messages import msg
from edo_rules.actions.base import Action
from edo_rules.errors import EdoRulesError

ENTRY_POINT_GROUP: Final = "edo_rules.actions"

#: Built-in actions: name → "module:Class".
BUILTIN_ACTIONS: Final[dict[str, str]] = {
    "log": "edo_rules.actions.log:LogAction",
    "notify": "edo_rules.actions.bitrix24.adapters:NotifyAction",
    "task": "edo_rules.actions.bitrix24.adapters:TaskAction",
    "comment": "edo_rules.actions.bitrix24.adapters:CommentAction",
    "deal_stage": "edo_rules.actions.bitrix24.adapters:DealStageAction",
    "todo": "edo_rules.actions.bitrix24.adapters:TodoAction",
    "invoice": "edo_rules.actions.bitrix24.adapters:InvoiceAction",
    "workflow": "edo_rules.actions.bitrix24.adapters:WorkflowAction",
    "mirror": "edo_rules.actions.bitrix24.adapters:MirrorAction",
    "card_status": "edo_rules.actions.bitrix24.adapters:CardStatusAction",
    "timeline": "edo_rules.actions.bitrix24.adapters:TimelineAction",
    "remind_counterparty": "edo_rules.actions.bitrix24.adapters:RemindCounterpartyAction",
    "task_comment": "edo_rules.actions.bitrix24.adapters:TaskCommentAction",
}


class UnknownActionError(EdoRulesError, LookupError):
    """No action of that name is registered (the message suggests the closest name)."""

    def __init__(self, name: str, known: list[str]):
        import difflib

        self.name = name
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        self.suggestion = close[0] if close else None
        hint = msg("did_you_mean", word=self.suggestion) if self.suggestion else ""
        listed = ", ".join(known)
        super().__init__(msg("pb_unknown_action", name=name, hint=hint, known=listed))


class ActionUnavailableError(EdoRulesError):
    """The action is registered but its adapter cannot be imported.

    ``missing_module`` names the module that is absent when that is the cause
    (e.g. an adapter package that is not installed).
    """

    def __init__(self, name: str, target: str, reason: str, missing_module: str | None = None):
        self.name = name
        self.target = target
        self.missing_module = missing_module
        super().__init__(msg("pb_action_unavailable", name=name, target=target, reason=reason))


@cache
def _entry_points() -> dict[str, EntryPoint]:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {name: ep for name, ep in found.items() if name not in BUILTIN_ACTIONS}


def refresh() -> None:
    """Forget discovered entry points and loaded classes (e.g. after installing a plug-in)."""
    _entry_points.cache_clear()
    get_action_class.cache_clear()


def action_names() -> list[str]:
    """Every registered action name (built-ins first, then entry points), sorted in each group."""
    return [*sorted(BUILTIN_ACTIONS), *sorted(_entry_points())]


def action_target(name: str) -> str:
    """``"module:Class"`` of a registered action; :class:`UnknownActionError` otherwise."""
    if name in BUILTIN_ACTIONS:
        return BUILTIN_ACTIONS[name]
    entry_point = _entry_points().get(name)
    if entry_point is None:
        raise UnknownActionError(name, action_names())
    return str(entry_point.value)


@cache
def get_action_class(name: str) -> type[Action]:
    """The adapter class of ``name``, imported on first use.

    Raises :class:`UnknownActionError` for an unregistered name and
    :class:`ActionUnavailableError` when the adapter cannot be imported or
    does not look like an :class:`~edo_rules.actions.base.Action`.
    """
    target = action_target(name)
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ActionUnavailableError(
            name, target, f"module {exc.name!r} not found", missing_module=exc.name
        ) from exc
    except Exception as exc:  # a broken plug-in must not crash validation
        raise ActionUnavailableError(name, target, f"{type(exc).__name__}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise ActionUnavailableError(name, target, f"{class_name!r} not found in {module_name}")
    _check_adapter(name, target, cls)
    return cls


def _check_adapter(name: str, target: str, cls: type) -> None:
    for attribute in ("params_schema", "can_check", "execute", "check"):
        if not hasattr(cls, attribute):
            raise ActionUnavailableError(name, target, f"the class has no {attribute!r}")
