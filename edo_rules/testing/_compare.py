"""Comparing what the engine did with what a test expects, and saying why it differs.

A failure names the file, the expectation's line and the moment, what was
expected and what happened, and — for each document involved — the engine's
own ``explain`` (the working-day arithmetic), so the admin sees *why*.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from edo_rules._messages import Joined, Text, msg, t
from edo_rules.engine import Engine, EvaluationResult, Explanation
from edo_rules.model import ActionRequest
from edo_rules.testing._spec import Expectation, ExpectedAction, TestSpec

_TEXT_PARAMS = ("text", "title", "description", "message", "subject", "body")
_RECIPIENTS = ("to", "responsible")


@dataclass(frozen=True, slots=True)
class Failure:
    """One unmet expectation: its texts rendered when shown, in the language then."""

    file: str
    line: int
    at: str
    message: Text
    details: tuple[Text, ...] = ()
    #: The engine's explain of the documents involved, for the reader to see why.
    explanations: tuple[Explanation, ...] = ()

    def render(self, explain: Callable[[Explanation], str] | None = None) -> str:
        """The failure as text; ``explain`` renders an explanation (default: the engine's)."""
        head = t("test_failure", file=self.file, line=self.line, at=self.at, message=self.message)
        lines = [head, *(f"    {line}" for line in self.details)]
        for explanation in self.explanations:
            text = explain(explanation) if explain is not None else explanation.render()
            lines.append("    " + t("test_explain", doc=explanation.document.id))
            lines += [f"      {line}" if line else "" for line in text.splitlines()]
        return "\n".join(lines)


def compare(
    spec: TestSpec, engine: Engine, expectation: Expectation, results: Sequence[EvaluationResult]
) -> list[Failure]:
    """Every way the results since the previous expectation differ from ``expectation``."""
    at = f"{expectation.at.astimezone(spec.zone):%Y-%m-%d %H:%M}"
    failures: list[Failure] = []

    def fail(message: Text, labels: Sequence[str]) -> None:
        explained = _explanations(engine, labels, spec, expectation)
        failures.append(Failure(spec.file, expectation.line, at, message, (), explained))

    fired = [
        _label(p.firing.rule_key, p.firing.step, p.firing.document_id)
        for r in results
        for p in r.fired
    ]
    skipped = [_label(f.rule_key, f.step, f.document_id) for r in results for f in r.skipped]
    for key, expected, actual in (
        ("test_expected_fired", expectation.fired, fired),
        ("test_expected_skipped", expectation.skipped, skipped),
    ):
        if expected is not None:
            missing, extra = _match_labels(expected, actual)
            if missing or extra:
                fail(msg(key, expected=_listed(expected), got=_listed(actual)), missing + extra)
    for result in results:
        for failure in result.failures:
            label = _label(failure.rule_key, "-", failure.document_id)
            text = msg("test_rule_failed", rule=failure.rule_key, doc=failure.document_id,
                       message=failure.text)  # fmt: skip
            fail(text, [label])
    if expectation.actions is not None:
        requests = [request for result in results for request in result.requests]
        failures += _compare_actions(spec, expectation, at, requests)
    return failures


def _label(rule_key: str, step: str, document_id: str) -> str:
    return f"{rule_key} {step} {document_id}"


def _listed(labels: Sequence[str]) -> Text | str:
    return "[" + ", ".join(labels) + "]" if labels else msg("test_nothing")


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
) -> tuple[Explanation, ...]:
    """The engine's explain, for the documents and rules the labels name."""
    parts = [label.split() for label in labels]
    rules = {part[0] for part in parts}
    known = [doc.id for doc in spec.documents]
    documents = sorted({part[2] for part in parts if len(part) == 3} & set(known)) or known[:3]
    found: list[Explanation] = []
    for document_id in documents:
        explanation = engine.explain(document_id, expectation.at)
        involved = tuple(r for r in explanation.rules if r.rule_key in rules)
        found.append(replace(explanation, rules=involved or explanation.rules))
    return tuple(found)


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
    details = [msg("test_missing", action=wanted.describe()) for wanted in missing]
    details += [msg("test_unexpected", action=_describe_request(spec, r)) for r in left]
    details += [
        msg("test_requested", action=_describe_request(spec, request))
        for request in requests
        if request not in left
    ]
    message = msg("test_expected_actions", expected=len(expectation.actions), got=len(requests))
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


def _describe_request(spec: TestSpec, request: ActionRequest) -> Joined:
    resolved = [r for r in _recipients(spec, request) if r is not None]
    parts: list[Text | str] = [msg("test_request", action=request.action, doc=request.document_id)]
    if resolved:
        parts.append(msg("test_to", user=resolved[0]))
    text = _texts(request.params)
    return Joined((Joined(tuple(parts)), f": {text[:160]!r}" if text else ""), sep="")
