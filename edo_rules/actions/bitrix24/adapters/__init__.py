"""The Bitrix24 actions: ``notify``, ``task``, ``comment``, ``deal_stage``, ``todo``,
``invoice``, ``workflow``, ``mirror``, ``card_status``, ``timeline`` and
``remind_counterparty``.

Each class carries its ``name``, the JSON Schema of its playbook parameters
(``params_schema``) and whether a request can be checked after a crash
(``can_check``). Instances are built with a :class:`Context`; see
:func:`edo_rules.actions.bitrix24.build_adapters`.
"""

from edo_rules.actions.bitrix24.adapters._base import Bitrix24Action, Context, marker
from edo_rules.actions.bitrix24.adapters.card import CardStatusAction, TimelineAction
from edo_rules.actions.bitrix24.adapters.crm import DealStageAction, InvoiceAction
from edo_rules.actions.bitrix24.adapters.messaging import CommentAction, NotifyAction, TodoAction
from edo_rules.actions.bitrix24.adapters.mirror import MirrorAction, element_code
from edo_rules.actions.bitrix24.adapters.remind import RemindCounterpartyAction
from edo_rules.actions.bitrix24.adapters.task_comment import TaskCommentAction
from edo_rules.actions.bitrix24.adapters.work import TaskAction, WorkflowAction

#: Every Bitrix24 action class, by playbook name.
ACTIONS: dict[str, type[Bitrix24Action]] = {
    cls.name: cls
    for cls in (
        NotifyAction,
        TaskAction,
        CommentAction,
        DealStageAction,
        TodoAction,
        InvoiceAction,
        WorkflowAction,
        MirrorAction,
        CardStatusAction,
        TimelineAction,
        RemindCounterpartyAction,
        TaskCommentAction,
    )
}

__all__ = [
    "ACTIONS",
    "Bitrix24Action",
    "CardStatusAction",
    "CommentAction",
    "Context",
    "DealStageAction",
    "InvoiceAction",
    "MirrorAction",
    "NotifyAction",
    "RemindCounterpartyAction",
    "TaskAction",
    "TaskCommentAction",
    "TimelineAction",
    "TodoAction",
    "WorkflowAction",
    "element_code",
    "marker",
]
