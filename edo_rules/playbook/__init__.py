"""Playbooks: YAML files admins write, compiled into frozen rules for the engine.

``load_playbook``/``load_playbooks`` validate everything at load time and
raise :class:`~edo_rules.errors.PlaybookError` listing every problem;
``make_names``/``render_params`` give expressions and templates their values
at run time, each evaluation under a :class:`Budget` of time and size.
"""

from edo_rules.playbook._budget import (
    Budget,
    BudgetExceededError,
    budget_limit,
    configure_budget,
    current_budget,
    use_budget,
)
from edo_rules.playbook.context import make_names, render_params
from edo_rules.playbook.expressions import EvaluationError
from edo_rules.playbook.loader import (
    load_playbook,
    load_playbook_text,
    load_playbooks,
    playbook_files,
)

__all__ = [
    "Budget",
    "BudgetExceededError",
    "EvaluationError",
    "budget_limit",
    "configure_budget",
    "current_budget",
    "load_playbook",
    "load_playbook_text",
    "load_playbooks",
    "make_names",
    "playbook_files",
    "render_params",
    "use_budget",
]
