"""A JSON Lines file source: feed the store without 1C (services, tests, demos).

Each non-blank line is one JSON object with a ``type``:

* ``{"type": "document", "id": …, "kind": "contract", …}`` — a document, with
  the fields of :class:`edo_rules.model.Document` (dates and aware date-times
  as ISO text, amounts as strings or numbers, enums by value);
* ``{"type": "event", "document_id": …, "at": …, "to_status": "signed",
  "to_raw": …, "from_status": …}`` — a status event of a document written on
  an earlier line (or already in the store).

The cursor is the number of lines consumed, so appending lines to the file
and syncing again reads only the new ones. Events read on the first sync
(no cursor yet) are marked historical unless ``first_sync_is_history=False``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from edo_rules._codec import CodecError, document_from_dict, event_from_dict
from edo_rules.errors import SourceError
from edo_rules.model import Document, StatusEvent
from edo_rules.sources._clean import clean_document, clean_event
from edo_rules.sources.base import SyncPage

_MAX_REPORTED = 20
_HINT = "fix the lines named above (one JSON object per line, see docs/engine.md) and sync again"


class JsonlSource:
    """Documents and status events from one JSON Lines file (UTF-8)."""

    def __init__(
        self, path: str | Path, *, page_size: int = 1000, first_sync_is_history: bool = True
    ):
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.path = Path(path)
        self.name = self.path.name
        self.page_size = page_size
        self.first_sync_is_history = first_sync_is_history
        self.cursor_key = f"jsonl:{self.path.resolve()}"

    def pages(self, state: Mapping[str, str]) -> Iterator[SyncPage]:
        """Pages of at most ``page_size`` records after the cursor in ``state``."""
        start = self._cursor(state)
        historical = self.first_sync_is_history and self.cursor_key not in state
        try:
            with self.path.open(encoding="utf-8") as handle:
                yield from self._read(handle, start, historical=historical)
        except OSError as exc:
            raise SourceError(
                f"cannot read {self.path}: {exc.strerror}",
                hint="check the path and the file's permissions",
            ) from exc
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{self.path}: the file is not UTF-8 text ({exc.reason})",
                hint="save the file as UTF-8",
            ) from exc

    def _cursor(self, state: Mapping[str, str]) -> int:
        raw = state.get(self.cursor_key, "0")
        if not raw.isdigit():
            raise SourceError(
                f"the sync state of {self.path} holds {raw!r}, not a line number",
                hint=f"remove the sync-state key {self.cursor_key!r} to read the file again",
            )
        return int(raw)

    def _read(self, handle: TextIO, start: int, *, historical: bool) -> Iterator[SyncPage]:
        docs: list[Document] = []
        events: list[StatusEvent] = []
        errors: list[str] = []
        number = start
        for number, line in enumerate(handle, start=1):
            if number <= start or not line.strip():
                continue
            record = self._record(line, number, errors)
            if isinstance(record, Document):
                docs.append(record)
            elif record is not None:
                events.append(replace(record, historical=True) if historical else record)
            if len(docs) + len(events) >= self.page_size:
                yield self._page(docs, events, errors, number)
                docs, events = [], []
        if number < start:
            raise SourceError(
                f"{self.path} has {number} lines, but {start} were already read:"
                " the file was truncated or replaced",
                hint=f"remove the sync-state key {self.cursor_key!r} to read it from the start",
            )
        if docs or events or errors or number > start:
            yield self._page(docs, events, errors, number)

    def _page(
        self, docs: list[Document], events: list[StatusEvent], errors: list[str], line: int
    ) -> SyncPage:
        if errors:
            shown = errors[:_MAX_REPORTED]
            more = len(errors) - len(shown)
            text = "\n".join(shown) + (f"\n… and {more} more" if more else "")
            raise SourceError(f"bad records in {self.path}:\n{text}", hint=_HINT)
        return SyncPage(tuple(docs), tuple(events), {self.cursor_key: str(line)})

    def _record(self, line: str, number: int, errors: list[str]) -> Document | StatusEvent | None:
        where = f"{self.path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})")
            return None
        if not isinstance(data, dict):
            errors.append(f"{where}: expected a JSON object, got {type(data).__name__}")
            return None
        try:
            return _decode(data)
        except CodecError as exc:
            errors.append(f"{where}: {exc}")
            return None


def _decode(data: dict[str, Any]) -> Document | StatusEvent:
    kind = data.pop("type", None)
    if kind == "document":
        return clean_document(document_from_dict(data))
    if kind == "event":
        return clean_event(event_from_dict(data))
    raise CodecError("type", f"{kind!r} is not 'document' or 'event'")
