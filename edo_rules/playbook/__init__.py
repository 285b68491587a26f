"""Playbooks: YAML files admins write, compiled into frozen rules for the engine.

``load_playbook``/``load_playbooks`` validate everything at load time and
raise :class:`~edo_rules.errors.PlaybookError` listing every problem;
``make_names``/``render_params`` give expressions and templates their values
at run time.
"""

from edo_rules.playbook.context import make_names, render_params
from edo_rules.playbook.expressions import EvaluationError
from edo_rules.playbook.loader import (
    load_playbook,
    load_playbook_text,
    load_playbooks,
    playbook_files,
)

__all__ = [
    "EvaluationError",
    "load_playbook",
    "load_playbook_text",
    "load_playbooks",
    "make_names",
    "playbook_files",
    "render_params",
]
