"""What the first real tick would send: the go-live preview (read-only, a dry run).

``preview(engine, now)`` evaluates without recording and sums the answer up the
way an admin checks a go-live: how many messages each recipient would get,
how many each rule sends, the first examples, and which documents the go-live
moment keeps quiet. Recipients are shown as the playbook names them
(``responsible`` of 1C user «Иванов И. И.»); they are resolved to Bitrix24 users
only when a request is dispatched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edo_rules.engine._plan import before_go_live
from edo_rules.model import ActionRequest, Document, Firing
from edo_rules.playbook.rules import Rule, TimeTrigger

if TYPE_CHECKING:
    from edo_rules.engine.engine import Engine

#: Parameters that name a person, per action (the first one present is the recipient).
_RECIPIENT_PARAMS = ("to", "responsible")
#: Recipients and rules listed by name (the rest are summed up in one line).
_COUNTED = 50


@dataclass(frozen=True, slots=True)
class PreviewExample:
    rule_key: str
    document_id: str
    title: str
    step: str
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GoLivePreview:
    """The first real tick at ``now``, summed up (nothing is recorded)."""

    now: datetime
    go_live: datetime | None
    by_recipient: Counter[str]
    by_rule: Counter[str]
    examples: tuple[PreviewExample, ...]
    held_back: tuple[PreviewExample, ...]  # skipped because they started before go-live
    held_back_documents: int
    requests: int

    def render(self, limit: int = 10) -> str:
        """Readable Russian text for the admin."""
        start = f"{self.go_live:%d.%m.%Y %H:%M %z}" if self.go_live else "не задан"
        lines = [f"Предпросмотр первого тика на {self.now:%d.%m.%Y %H:%M %z}; go-live: {start}"]
        lines.append(f"Будет отправлено действий: {self.requests}")
        lines += _counts("По получателям:", self.by_recipient, _COUNTED)
        lines += _counts("По правилам:", self.by_rule, _COUNTED)
        lines += _examples("Первые примеры:", self.examples, limit)
        lines.append(f"Не тронуты (история до go-live): {self.held_back_documents} документ(ов)")
        lines += _examples("Например:", self.held_back, limit)
        return "\n".join(lines)


#: Names the recipient of each (request, document) pair, in order (e.g. Bitrix24 users).
RecipientNamer = Callable[[Sequence[tuple[ActionRequest, Document | None]]], list[str]]


def preview(
    engine: Engine,
    now: datetime,
    *,
    examples: int = 10,
    recipients: RecipientNamer | None = None,
) -> GoLivePreview:
    """A dry-run evaluation at ``now`` summed up per recipient and per rule.

    ``recipients`` names who gets each request (the runner passes one that asks
    Bitrix24); without it a recipient is shown as the playbook names it.
    """
    result = engine.evaluate(now, dry_run=True)
    rules = {rule.key: rule for rule in engine.rules}
    wanted = {p.firing.document_id for p in result.fired}
    wanted |= {f.document_id for f in result.skipped}
    docs = engine.store.get_documents(wanted)
    pairs = [(r, docs.get(r.document_id)) for p in result.fired for r in p.requests]
    named = recipients(pairs) if recipients is not None else [_recipient(*pair) for pair in pairs]
    by_recipient: Counter[str] = Counter(named)
    held = [f for f in result.skipped if _held_back(rules.get(f.rule_key), f, docs)]
    return GoLivePreview(
        now=now,
        go_live=engine.go_live,
        by_recipient=by_recipient,
        by_rule=Counter(p.firing.rule_key for p in result.fired),
        examples=tuple(_example(p.firing, p.requests, docs) for p in result.fired[:examples]),
        held_back=tuple(_example(f, (), docs) for f in _first_per_document(held, examples)),
        held_back_documents=len({f.document_id for f in held}),
        requests=len(result.requests),
    )


def _held_back(rule: Rule | None, firing: Firing, docs: Mapping[str, Document]) -> bool:
    """A skipped firing the go-live moment (not the catch-up policy) accounts for."""
    if rule is None or rule.go_live is None:
        return False
    if not isinstance(rule.trigger, TimeTrigger):
        return before_go_live(rule, firing.due_at)  # an event firing is due at the event
    doc = docs.get(firing.document_id)
    since = getattr(doc, rule.trigger.since) if doc is not None else None
    return since is not None and before_go_live(rule, since)


def recipient_as_written(request: ActionRequest, doc: Document | None) -> str:
    """The recipient as the playbook names it, with the document's 1C responsible."""
    return _recipient(request, doc)


def _recipient(request: ActionRequest, doc: Document | None) -> str:
    spec: Any = next((request.params[p] for p in _RECIPIENT_PARAMS if p in request.params), None)
    if spec is None:
        return f"({request.action}: без получателя)"
    if isinstance(spec, int):
        return f"пользователь {spec}"
    who = doc.responsible if doc is not None and doc.responsible else "не указан"
    if spec == "responsible":
        return f"ответственный: {who}"
    if spec == "head_of_responsible":
        return f"руководитель ответственного: {who}"
    return str(spec)


def _example(
    firing: Firing, requests: Iterable[ActionRequest], docs: Mapping[str, Document]
) -> PreviewExample:
    doc = docs.get(firing.document_id)
    return PreviewExample(
        rule_key=firing.rule_key,
        document_id=firing.document_id,
        title=doc.title if doc is not None else firing.document_id,
        step=firing.step,
        actions=tuple(r.action for r in requests),
    )


def _first_per_document(firings: list[Firing], limit: int) -> list[Firing]:
    seen: dict[str, Firing] = {}
    for firing in firings:
        seen.setdefault(firing.document_id, firing)
        if len(seen) >= limit:
            break
    return list(seen.values())


def _counts(title: str, counts: Counter[str], limit: int) -> list[str]:
    if not counts:
        return [f"{title} —"]
    lines = [title, *(f"  {name}: {n}" for name, n in counts.most_common(limit))]
    if len(counts) > limit:
        rest = sum(n for _, n in counts.most_common()[limit:])
        lines.append(f"  … ещё {len(counts) - limit}: {rest}")
    return lines


def _examples(title: str, items: tuple[PreviewExample, ...], limit: int) -> list[str]:
    if not items:
        return []
    lines = [title]
    for item in items[:limit]:
        acts = f": {', '.join(item.actions)}" if item.actions else ""
        lines.append(f"  {item.rule_key} {item.step} — {item.title} ({item.document_id}){acts}")
    return lines
