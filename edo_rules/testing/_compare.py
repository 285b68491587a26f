"""Comparing what the engine did with what a test expects, and saying why it differs.

A failure names the file, the expectation's line and the moment, what was
expected and what happened, and — for each document involved — the engine's
own ``explain`` (the working-day arithmetic), so the admin sees *why*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from edo_rules.engine import Engine, EvaluationResult
from edo_rules.model import ActionRequest
from edo_rules.testing._spec import Expectation, ExpectedAction, TestSpec

_TEXT_PARAMS = ("text", "title", "description", "message", "subject", "body")
_RECIPIENTS = ("to", "responsible")


@dataclass(frozen=True, slots=True)
class Failure:
    """One unmet expectation."""

    file: str
    line: int
    at: str
    message: str
    details: tuple[str, ...] = ()

    def render(self) -> str:
        head = f"{self.file}:{self.line}: at {self.at}: {self.message}"
        return "\n".join([head, *(f"    {line}" for line in self.details)])


def compare(
    spec: TestSpec, engine: Engine, expectation: Expectation, results: Sequence[EvaluationResult]
) -> list[Failure]:
    """Every way the results since the previous expectation differ from ``expectation``."""
    at = f"{expectation.at.astimezone(spec.zone):%Y-%m-%d %H:%M}"
    failures: list[Failure] = []

    def fail(message: str, labels: Sequence[str]) -> None:
        details = _explanations(engine, labels, spec, expectation)
        failures.append(Failure(spec.file, expectation.line, at, message, details))

    fired = [
        _label(p.firing.rule_key, p.firing.step, p.firing.document_id)
        for r in results
        for p in r.fired
    ]
    skipped = [_label(f.rule_key, f.step, f.document_id) for r in results for f in r.skipped]
    for name, expected, actual in (
        ("fired", expectation.fired, fired),
        ("skipped", expectation.skipped, skipped),
    ):
        if expected is not None:
            missing, extra = _match_labels(expected, actual)
            if missing or extra:
                fail(f"expected {name} {_listed(expected)}, got {_listed(actual)}", missing + extra)
    for result in results:
        for failure in result.failures:
            label = _label(failure.rule_key, "-", failure.document_id)
            fail(f"{failure.rule_key} failed for {failure.document_id}: {failure.message}", [label])
    if expectation.actions is not None:
        requests = [request for result in results for request in result.requests]
        failures += _compare_actions(spec, expectation, at, requests)
    return failures


def _label(rule_key: str, step: str, document_id: str) -> str:
    return f"{rule_key} {step} {document_id}"


def _listed(labels: Sequence[str]) -> str:
    return "[" + ", ".join(labels) + "]" if labels else "[] (nothing)"


def _match_labels(expected: Sequence[str], actual: Sequence[str]) -> tuple[list[str], list[str]]:
    """Expected labels without a match, actual labels nobody expected.

    An expected "rule step" (no document) matches that rule and step for any document.
    """
    left = list(actual)
    missing: list[str] = []
    for label in sorted(expected, key=lambda text: -len(text.split())):  # exact ones first
        found = next((a for a in left if a == label or a.rsplit(" ", 1)[0] == label), None)
        if found is None:
            missing.append(label)
        else:
            left.remove(found)
    return missing, left


def _explanations(
    engine: Engine, labels: Sequence[str], spec: TestSpec, expectation: Expectation
) -> tuple[str, ...]:
    """The engine's explain, for the documents and rules the labels name."""
    parts = [label.split() for label in labels]
    rules = {part[0] for part in parts}
    known = [doc.id for doc in spec.documents]
    documents = sorted({part[2] for part in parts if len(part) == 3} & set(known)) or known[:3]
    lines: list[str] = []
    for document_id in documents:
        explanation = engine.explain(document_id, expectation.at)
        involved = tuple(r for r in explanation.rules if r.rule_key in rules)
        text = replace(explanation, rules=involved or explanation.rules).render()
        lines += [f"explain {document_id}:", *(f"  {line}" for line in text.splitlines())]
    return tuple(lines)


def _compare_actions(
    spec: TestSpec, expectation: Expectation, at: str, requests: Sequence[ActionRequest]
) -> list[Failure]:
    assert expectation.actions is not None
    left = list(requests)
    missing: list[ExpectedAction] = []
    for wanted in expectation.actions:
        found = next((r for r in left if _action_matches(spec, wanted, r)), None)
        if found is None:
            missing.append(wanted)
        else:
            left.remove(found)
    if not missing and not left:
        return []
    details = [f"missing: {wanted.describe()}" for wanted in missing]
    details += [f"unexpected: {_describe_request(spec, request)}" for request in left]
    details += [
        f"requested: {_describe_request(spec, request)}"
        for request in requests
        if request not in left
    ]
    message = f"expected {len(expectation.actions)} action(s), got {len(requests)}; they differ"
    return [Failure(spec.file, expectation.line, at, message, tuple(details))]


def _action_matches(spec: TestSpec, wanted: ExpectedAction, request: ActionRequest) -> bool:
    if request.action != wanted.action:
        return False
    if wanted.document_id is not None and request.document_id != wanted.document_id:
        return False
    if wanted.to is not None and wanted.to not in _recipients(spec, request):
        return False
    if wanted.text_contains is not None and wanted.text_contains not in _texts(request.params):
        return False
    return all(request.params.get(key) == value for key, value in wanted.params.items())


def _texts(params: Mapping[str, Any]) -> str:
    return "\n".join(str(params[key]) for key in _TEXT_PARAMS if key in params)


def _recipients(spec: TestSpec, request: ActionRequest) -> list[int | None]:
    """The declared users a request's recipient parameters resolve to."""
    responsible = next((d.responsible for d in spec.documents if d.id == request.document_id), None)
    return [_resolve(spec, request.params.get(key), responsible) for key in _RECIPIENTS]


def _resolve(spec: TestSpec, value: Any, responsible: str | None) -> int | None:
    if isinstance(value, int):
        return value
    user = int(responsible) if responsible is not None and responsible.isdigit() else None
    if value == "responsible":
        return user
    if value == "head_of_responsible" and user is not None:
        return spec.heads.get(user)
    return None


def _describe_request(spec: TestSpec, request: ActionRequest) -> str:
    resolved = [r for r in _recipients(spec, request) if r is not None]
    target = f" to {resolved[0]}" if resolved else ""
    text = _texts(request.params)
    shown = f": {text[:160]!r}" if text else ""
    return f"{request.action} for {request.document_id}{target}{shown}"
