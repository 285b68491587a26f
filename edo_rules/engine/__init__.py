"""The rules engine: evaluate playbooks against the store at an injected time; explain; simulate."""

from edo_rules.engine._diff import PlannedAction, PlaybookDiff, RuleChange, rule_changes
from edo_rules.engine._due import WorkingCalendar
from edo_rules.engine._explain import (
    EventExplanation,
    Explanation,
    RuleExplanation,
    StepExplanation,
)
from edo_rules.engine._match import Check
from edo_rules.engine._plan import DocumentFailure, PlannedFiring, idempotency_key
from edo_rules.engine._preview import GoLivePreview, PreviewExample
from edo_rules.engine._simulate import Simulation, SimulationError
from edo_rules.engine.engine import Engine, EvaluationResult

__all__ = [
    "Check",
    "DocumentFailure",
    "Engine",
    "EvaluationResult",
    "EventExplanation",
    "Explanation",
    "GoLivePreview",
    "PlannedAction",
    "PlannedFiring",
    "PlaybookDiff",
    "PreviewExample",
    "RuleChange",
    "RuleExplanation",
    "Simulation",
    "SimulationError",
    "StepExplanation",
    "WorkingCalendar",
    "idempotency_key",
    "rule_changes",
]
