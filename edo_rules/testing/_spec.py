"""Reading a playbook test file: YAML with positions → schema → a frozen scenario.

Every problem is reported as ``file:line:col: path: message`` like a playbook's,
all at once; a test file that does not load is a failed test, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator

from edo_rules._codec import CodecError, document_from_dict
from edo_rules._messages import Joined, Text, msg, reason
from edo_rules.errors import PlaybookError, Problem
from edo_rules.model import Document, Status
from edo_rules.playbook._schema import translate_errors
from edo_rules.playbook._yaml import LocatedData, LocatedYamlError, NodePath, load_located
from edo_rules.playbook.durations import DurationSyntaxError, parse_duration

SCHEMA_RESOURCE = "playbook-test.schema.json"
DEFAULT_ZONE = "Europe/Moscow"


@dataclass(frozen=True, slots=True)
class EventSpec:
    """A status change of a test document at a moment."""

    at: datetime
    document_id: str
    status: Status
    comment: str | None
    actor: str | None
    changes: Mapping[str, Any]  # other document fields (timestamps as aware ISO text)
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class ExpectedAction:
    """One action the playbooks must request (matched against the outbox requests)."""

    action: str
    document_id: str | None
    to: int | None
    text_contains: str | None
    params: Mapping[str, Any]

    def describe(self) -> Joined:
        """The expected action as the failure shows it (rendered in the language then)."""
        parts: list[Text | str] = [self.action]
        if self.document_id:
            parts.append(msg("test_document", doc=self.document_id))
        if self.to is not None:
            parts.append(msg("test_to", user=self.to))
        if self.text_contains is not None:
            parts.append(msg("test_text_containing", text=self.text_contains))
        if self.params:
            params = json.dumps(dict(self.params), ensure_ascii=False)
            parts.append(msg("test_params", params=params))
        return Joined(tuple(parts), sep=", ")


@dataclass(frozen=True, slots=True)
class Expectation:
    """What must have fired (and been requested) since the previous expectation."""

    at: datetime
    line: int
    fired: tuple[str, ...] | None
    skipped: tuple[str, ...] | None
    actions: tuple[ExpectedAction, ...] | None


@dataclass(frozen=True, slots=True)
class TestSpec:
    """One scenario of a test file."""

    file: str
    playbooks: tuple[Path, ...]
    overrides: Path | None
    zone: ZoneInfo
    every: str | None
    heads: Mapping[int, int]  # user id -> head of department
    documents: tuple[Document, ...]
    events: tuple[EventSpec, ...]
    expectations: tuple[Expectation, ...]


@cache
def test_schema() -> Mapping[str, Any]:
    """The packaged JSON Schema (identical to ``schemas/playbook-test.schema.json``)."""
    text = resources.files("edo_rules.testing").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_test(path: Path) -> TestSpec:
    """Read and check one test file; raises :class:`PlaybookError` listing every problem."""
    file = str(path)
    try:
        located = load_located(path.read_text(encoding="utf-8"), file)
    except OSError as exc:
        raise PlaybookError(
            [Problem(file, 1, 1, "", msg("pb_unreadable", error=exc.strerror))]
        ) from exc
    except UnicodeDecodeError as exc:
        raise PlaybookError([Problem(file, 1, 1, "", msg("pb_not_utf8"))]) from exc
    except LocatedYamlError as exc:
        raise PlaybookError([Problem(file, exc.line, exc.column, exc.path, exc.message)]) from exc
    validator = Draft202012Validator(test_schema())
    problems = translate_errors(located, validator.iter_errors(located.data), ())
    if problems:
        raise PlaybookError(problems)
    return _Reader(located, path.parent).spec()


class _Reader:
    """Turns checked data into a :class:`TestSpec`, collecting every problem."""

    def __init__(self, located: LocatedData, base: Path):
        self.located = located
        self.base = base
        self.problems: list[Problem] = []
        self.zone = ZoneInfo(DEFAULT_ZONE)

    def spec(self) -> TestSpec:
        data = self.located.data
        self.zone = self._zone(data.get("timezone", DEFAULT_ZONE))
        documents = tuple(self._documents(data["documents"]))
        known = {doc.id for doc in documents}
        spec = TestSpec(
            file=self.located.file,
            playbooks=tuple(self.base / p for p in data["playbooks"]),
            overrides=self._overrides(data.get("calendar", {})),
            zone=self.zone,
            every=self._every(data.get("every")),
            heads={int(k): v["head"] for k, v in data.get("users", {}).items() if "head" in v},
            documents=documents,
            events=tuple(self._events(data.get("events", []), known)),
            expectations=tuple(self._expectations(data["expect"], known)),
        )
        if self.problems:
            raise PlaybookError(self.problems)
        return spec

    def _fail(self, path: NodePath, message: str | Text) -> None:
        self.problems.append(self.located.problem(path, message))

    def _zone(self, name: str) -> ZoneInfo:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self._fail(("timezone",), msg("cfg_unknown_zone", name=name, hint=""))
            return ZoneInfo(DEFAULT_ZONE)

    def _every(self, every: str | None) -> str | None:
        """Checked here, so that a wrong step is reported at its line like any other problem."""
        if every is None:
            return None
        try:
            unit = parse_duration(every).unit
        except DurationSyntaxError as exc:
            self._fail(("every",), reason(exc))
            return None
        if unit not in ("minutes", "hours", "days"):
            self._fail(("every",), msg("test_every_unit", every=every))
        return every

    def _overrides(self, calendar: Mapping[str, Any]) -> Path | None:
        name = calendar.get("overrides")
        return None if name is None else self.base / name

    def moment(self, text: str, path: NodePath) -> datetime:
        """A moment as written; without an offset it is in the test's zone."""
        try:
            value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        except ValueError:
            self._fail(path, msg("test_bad_moment", text=text))
            return datetime(1970, 1, 1, tzinfo=self.zone)
        return value if value.tzinfo is not None else value.replace(tzinfo=self.zone)

    def _documents(self, items: Sequence[Mapping[str, Any]]) -> list[Document]:
        documents: list[Document] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            path: NodePath = ("documents", index)
            if item["id"] in seen:
                self._fail((*path, "id"), msg("test_doc_twice", id=item["id"]))
            seen.add(item["id"])
            document = self._document(item, path)
            if document is not None:
                documents.append(document)
        return documents

    def _document(self, item: Mapping[str, Any], path: NodePath) -> Document | None:
        data = _document_defaults(item)
        for name in _TIMESTAMPS:
            if isinstance(data.get(name), str):
                data[name] = self.moment(data[name], (*path, name)).isoformat()
        try:
            return document_from_dict(data)
        except CodecError as exc:
            field = exc.field.split(".", 1)[0]
            self._fail((*path, field) if field in item else path, str(exc))
            return None

    def _events(self, items: Sequence[Mapping[str, Any]], known: set[str]) -> list[EventSpec]:
        events: list[EventSpec] = []
        for index, item in enumerate(items):
            path: NodePath = ("events", index)
            if item["document"] not in known:
                self._fail((*path, "document"), msg("test_no_document", id=item["document"]))
            status = self._status(item["status"], (*path, "status"))
            events.append(
                EventSpec(
                    at=self.moment(item["at"], (*path, "at")),
                    document_id=item["document"],
                    status=status,
                    comment=item.get("comment"),
                    actor=item.get("actor"),
                    changes=self._changes(item.get("set", {}), (*path, "set")),
                    file=self.located.file,
                    line=self.located.mark(path).line,
                )
            )
        return sorted(events, key=lambda event: event.at)

    def _changes(self, changes: Mapping[str, Any], path: NodePath) -> dict[str, Any]:
        data = dict(changes)
        for name in _TIMESTAMPS:
            if isinstance(data.get(name), str):
                data[name] = self.moment(data[name], (*path, name)).isoformat()
        return data

    def _status(self, text: str, path: NodePath) -> Status:
        try:
            return Status(text)
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            self._fail(path, msg("test_unknown_status", text=text, allowed=allowed))
            return Status.UNKNOWN

    def _expectations(
        self, items: Sequence[Mapping[str, Any]], known: set[str]
    ) -> list[Expectation]:
        result = []
        for index, item in enumerate(items):
            path: NodePath = ("expect", index)
            actions = item.get("actions")
            result.append(
                Expectation(
                    at=self.moment(item["at"], (*path, "at")),
                    line=self.located.mark(path).line,
                    fired=_tuple(item.get("fired")),
                    skipped=_tuple(item.get("skipped")),
                    actions=None if actions is None else tuple(_action(a) for a in actions),
                )
            )
            for a_index, action in enumerate(actions or ()):
                if action.get("document") not in (None, *known):
                    where = (*path, "actions", a_index, "document")
                    self._fail(where, msg("test_no_document", id=action["document"]))
        moments = [e.at for e in result]
        if moments != sorted(moments):
            self._fail(("expect",), msg("test_order"))
        return result


_TIMESTAMPS = (
    "status_changed_at",
    "sent_at",
    "our_signed_at",
    "counterparty_signed_at",
    "rejected_at",
    "revoked_at",
    "synced_at",
)


def _document_defaults(item: Mapping[str, Any]) -> dict[str, Any]:
    """What a test may leave out: a document as the sync would have written it."""
    data = dict(item)
    data.setdefault("number", item["id"])
    data["number"] = str(data["number"])
    data.setdefault("direction", "outgoing")
    data.setdefault("status_1c", item["status"])
    data.setdefault("counterparty", {"name": "Контрагент"})
    if "responsible" in data:
        data["responsible"] = str(data["responsible"])
    return data


def _tuple(items: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if items is None else tuple(" ".join(item.split()) for item in items)


def _action(item: Mapping[str, Any]) -> ExpectedAction:
    return ExpectedAction(
        action=item["action"],
        document_id=item.get("document"),
        to=item.get("to"),
        text_contains=item.get("text_contains"),
        params=item.get("params", {}),
    )
