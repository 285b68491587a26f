"""The tick benchmark's baselines, written without the engine's helpers.

An independent oracle for due moments (the forward definition of docs/engine.md:
"after N working days" is due at 00:00 of the (N+1)-th working day after the
``since`` date, repeats shift the last step's due moment, a working-hours window
delays delivery), and what a competent engineer would write instead of the
engine:

* the **competent loop**: the needed columns only, rules indexed by status, due
  moments memoised per rule and local date, JSON decoded only for ``where``
  candidates, the ledger held as one set;
* **hand-written SQL**, full (every matching document) and incremental (the part
  of each step's ``since`` range not covered at the previous tick, plus the
  documents written since it), ids only.

Only the playbook's data (rules, steps, durations) and the production calendar
are shared with the engine; the bench's ``where`` expressions are written here by
hand, in SQL and in Python.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.playbook.rules import CatchUp, Duration, Rule, StatusTrigger, TimeTrigger

Due = list[str]  # [rule key, document id, step, episode]

#: The bench's ``where`` expressions, by hand: in SQL, and on the exact JSON amount.
WHERE_SQL = {
    "bench/big-invoices": "d.amount >= 100000",
    "bench/huge-any": "d.amount >= 500000",
    "bench/small-upd": "d.amount < 5000",
}
WHERE_PY: dict[str, Callable[[Decimal], bool]] = {
    "bench/big-invoices": lambda amount: amount >= 100000,
    "bench/huge-any": lambda amount: amount >= 500000,
    "bench/small-upd": lambda amount: amount < 5000,
}
_DAY_UNITS = ("working_days", "days")


@dataclass(frozen=True, slots=True)
class Position:
    name: str
    after: Duration
    repeat_k: int = 0
    every: Duration | None = None

    @property
    def by_day(self) -> bool:
        return self.after.unit in _DAY_UNITS and (
            self.every is None or self.every.unit in _DAY_UNITS
        )


class Oracle:
    """Due moments computed forward, per document, from the rule's definition."""

    def __init__(self, calendar: ProductionCalendar):
        self.cal = calendar

    @staticmethod
    def positions(trigger: TimeTrigger) -> list[Position]:
        found: list[Position] = []
        for index, step in enumerate(trigger.steps):
            found.append(Position(step.name, step.after))
            last = index == len(trigger.steps) - 1
            own = (step.repeat or trigger.repeat) if last else step.repeat
            prefix = "repeat" if last else f"{step.name}.repeat"
            for k in range(1, (own.times if own else 0) + 1):
                assert own is not None
                found.append(Position(f"{prefix}[{k}]", step.after, k, own.every))
        return found

    def _midnight(self, day: date, rule: Rule) -> datetime:
        return datetime.combine(day, time(), tzinfo=rule.timezone)

    def _move(self, moment: datetime, amount: int, unit: str, rule: Rule) -> datetime:
        if unit == "working_days":
            day = moment.astimezone(rule.timezone).date()
            return self._midnight(self.cal.add_working_days(day, amount) if amount else day, rule)
        if unit == "days":
            day = moment.astimezone(rule.timezone).date()
            return self._midnight(day + timedelta(days=amount), rule)
        step = timedelta(hours=1) if unit == "hours" else timedelta(minutes=1)
        return moment + step * amount

    def due(self, rule: Rule, position: Position, since: datetime) -> datetime:
        """When ``position`` is delivered for a document whose ``since`` is ``since``."""
        after = position.after
        extra = 1 if after.unit in _DAY_UNITS else 0  # "after 3 days": the start of the 4th
        moment = self._move(since, after.amount + extra, after.unit, rule)
        if position.every is not None:
            every = position.every
            moment = self._move(moment, every.amount * position.repeat_k, every.unit, rule)
        return self._deliver(rule, moment)

    def _deliver(self, rule: Rule, moment: datetime) -> datetime:
        window = rule.working_hours
        if window is None:
            return moment
        local = moment.astimezone(rule.timezone)
        minute = local.hour * 60 + local.minute
        day = local.date()
        opening = datetime.combine(day, time(), tzinfo=rule.timezone) + timedelta(
            minutes=window.start_minute
        )
        if self.cal.is_working_day(day):
            if window.start_minute <= minute < window.end_minute:
                return moment
            if minute < window.start_minute:
                return opening
        following = self.cal.add_working_days(day, 1)
        return datetime.combine(following, time(), tzinfo=rule.timezone) + timedelta(
            minutes=window.start_minute
        )

    def bound(self, rule: Rule, position: Position, now: datetime) -> datetime:
        """The least ``since`` whose position is not delivered by ``now`` (found by search).

        Day-based positions: walk back day by day from ``now``'s date; hour-based
        ones (the bench has no window on them): plain subtraction.
        """
        if not position.by_day:
            assert rule.working_hours is None, "hour-based steps with a window: not in the bench"
            total = position.after.amount * _unit(position.after)
            if position.every is not None:
                total += position.every.amount * position.repeat_k * _unit(position.every)
            return now - total + timedelta(microseconds=1)
        day = now.astimezone(rule.timezone).date()
        while self.due(rule, position, self._midnight(day, rule)) <= now:
            day += timedelta(days=1)
        while self.due(rule, position, self._midnight(day - timedelta(days=1), rule)) > now:
            day -= timedelta(days=1)
        return self._midnight(day, rule)


def _unit(duration: Duration) -> timedelta:
    return timedelta(hours=1) if duration.unit == "hours" else timedelta(minutes=1)


def text(moment: datetime) -> str:
    """The stored form of a timestamp: normalised UTC ISO text (sorts chronologically)."""
    return moment.astimezone(UTC).isoformat()


def _check(rules: Iterable[Rule]) -> None:
    for rule in rules:
        assert rule.catch_up is CatchUp.LATEST and rule.go_live is None, rule.key


# -- the competent loop -------------------------------------------------------------------

_COLUMNS = "id, kind, status, direction, counterparty_inn, amount"
_SINCE = ("sent_at", "status_changed_at", "rejected_at", "revoked_at")


def _static(rule: Rule, row: tuple[Any, ...]) -> bool:
    m = rule.match
    if m.kinds is not None and row[1] not in {k.value for k in m.kinds}:
        return False
    if m.directions is not None and row[3] not in {d.value for d in m.directions}:
        return False
    if m.counterparty_inns is not None and row[4] not in m.counterparty_inns:
        return False
    amount = row[5]
    if m.amount_min is not None and (amount is None or amount < float(m.amount_min)):
        return False
    return not (m.amount_max is not None and (amount is None or amount > float(m.amount_max)))


class CompetentLoop:
    """One pass over the documents' columns in Python; the due set as ``[rule, doc, step, ep]``."""

    def __init__(self, conn: Any, rules: list[Rule], oracle: Oracle, now: datetime, ph: str):
        _check(rules)
        self.conn, self.oracle, self.now, self.ph = conn, oracle, now, ph
        self.time_rules = [r for r in rules if isinstance(r.trigger, TimeTrigger)]
        self.event_rules = [r for r in rules if isinstance(r.trigger, StatusTrigger)]
        self.by_status: dict[str, list[Rule]] = {}
        for rule in self.time_rules:
            assert rule.match.statuses is not None
            for status in rule.match.statuses:
                self.by_status.setdefault(status.value, []).append(rule)
        self.positions = {r.key: Oracle.positions(_time(r)) for r in self.time_rules}
        self.memo: dict[tuple[str, int, date], datetime] = {}

    def _latest(self, rule: Rule, since_text: str) -> int:
        since = datetime.fromisoformat(since_text)
        day = since.astimezone(rule.timezone).date()
        latest = -1
        for j, position in enumerate(self.positions[rule.key]):
            if position.by_day:
                key = (rule.key, j, day)
                due = self.memo.get(key)
                if due is None:
                    due = self.memo[key] = self.oracle.due(rule, position, since)
            else:
                due = self.oracle.due(rule, position, since)
            if due > self.now:
                break
            latest = j
        return latest

    def run(self) -> list[Due]:
        ledger = {tuple(r) for r in self.conn.execute(
            "SELECT rule_key, document_id, step, episode FROM firings")}  # fmt: skip
        events = self._new_events()
        columns = f"{_COLUMNS}, {', '.join(_SINCE)}"
        found: list[Due] = []
        candidates: list[tuple[Rule, str, str, str]] = []
        for row in self.conn.execute(f"SELECT {columns} FROM documents"):
            for rule in self.by_status.get(row[2], ()):
                since_text = row[6 + _SINCE.index(_time(rule).since)]
                if since_text is None or not _static(rule, row):
                    continue
                j = self._latest(rule, since_text)
                if j < 0:
                    continue
                step = self.positions[rule.key][j].name
                if (rule.key, row[0], step, since_text) not in ledger:
                    candidates.append((rule, row[0], step, since_text))
            for event in events.get(row[0], ()):
                found += self._event_firings(row, event, ledger)
        found += self._where(candidates)
        return found

    def _new_events(self) -> dict[str, list[tuple[Any, ...]]]:
        cursors = dict(self.conn.execute("SELECT rule_key, last_event_id FROM event_cursors"))
        low = min((cursors.get(r.key, 0) for r in self.event_rules), default=0)
        rows = self.conn.execute(
            "SELECT document_id, id, from_status, to_status, at_utc, to_raw FROM status_events"
            f" WHERE id > {self.ph} AND historical = 0",
            (low,),
        )
        self.cursors = cursors
        by_doc: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_doc.setdefault(row[0], []).append(row)
        return by_doc

    def _event_firings(
        self, doc: tuple[Any, ...], event: tuple[Any, ...], ledger: set[Any]
    ) -> list[Due]:
        found = []
        for rule in self.event_rules:
            trigger = rule.trigger
            assert isinstance(trigger, StatusTrigger)
            if event[1] <= self.cursors[rule.key]:
                continue
            if trigger.to_statuses is not None and event[3] not in _values(trigger.to_statuses):
                continue
            if trigger.from_statuses is not None and event[2] not in _values(trigger.from_statuses):
                continue
            statuses = rule.match.statuses
            if (statuses is not None and doc[2] not in _values(statuses)) or not _static(rule, doc):
                continue
            episode = f"{event[4]}|{event[5]}"
            if (rule.key, doc[0], "event", episode) not in ledger:
                found.append([rule.key, doc[0], "event", episode])
        return found

    def _where(self, candidates: list[tuple[Rule, str, str, str]]) -> list[Due]:
        """Decode the JSON of the candidates whose rule has a ``where``, and only theirs."""
        found: list[Due] = []
        for rule, doc_id, step, episode in candidates:
            check = WHERE_PY.get(rule.key)
            if check is not None:
                (raw,) = self.conn.execute(
                    f"SELECT json FROM documents WHERE id = {self.ph}", (doc_id,)
                ).fetchone()
                amount = json.loads(raw)["amount"]
                if amount is None or not check(Decimal(amount)):
                    continue
            found.append([rule.key, doc_id, step, episode])
        return found


def _values(items: Iterable[Any]) -> set[str]:
    return {str(item.value) for item in items}


def _time(rule: Rule) -> TimeTrigger:
    assert isinstance(rule.trigger, TimeTrigger)
    return rule.trigger


# -- hand-written SQL ---------------------------------------------------------------------


def _in(column: str, values: Iterable[Any] | None) -> str:
    if values is None:
        return "1 = 1"
    return f"{column} IN ({', '.join(repr(str(v)) for v in sorted(values))})"


def _match_sql(rule: Rule) -> str:
    m = rule.match
    parts = [
        _in("d.kind", m.kinds),
        _in("d.status", m.statuses),
        _in("d.direction", m.directions),
        _in("d.counterparty_inn", m.counterparty_inns),
    ]
    parts += [] if m.amount_min is None else [f"d.amount >= {m.amount_min}"]
    parts += [] if m.amount_max is None else [f"d.amount <= {m.amount_max}"]
    parts += [WHERE_SQL[rule.key]] if rule.key in WHERE_SQL else []
    return " AND ".join(parts)


@dataclass(frozen=True, slots=True)
class Previous:
    """The previous tick, for the incremental SQL: its moment and the documents' sequence."""

    now: datetime
    seq: int


class HandSql:
    """The due set by SQL written by hand; ``previous`` makes it incremental."""

    def __init__(self, conn: Any, rules: list[Rule], oracle: Oracle, now: datetime, ph: str):
        _check(rules)
        self.conn, self.rules, self.oracle, self.now, self.ph = conn, rules, oracle, now, ph

    def run(self, previous: Previous | None = None) -> list[Due]:
        cursors = dict(self.conn.execute("SELECT rule_key, last_event_id FROM event_cursors"))
        found: list[Due] = []
        for rule in self.rules:
            if isinstance(rule.trigger, TimeTrigger):
                found += self._time(rule, rule.trigger, previous)
            else:
                found += self._events(rule, rule.trigger, cursors[rule.key])
        return found

    def _bounds(self, rule: Rule, positions: list[Position], now: datetime) -> list[str]:
        return [text(self.oracle.bound(rule, p, now)) for p in positions]

    def _time(self, rule: Rule, trigger: TimeTrigger, previous: Previous | None) -> list[Due]:
        field, positions = trigger.since, Oracle.positions(trigger)
        high = self._bounds(rule, positions, self.now)
        old = self._bounds(rule, positions, previous.now) if previous else None
        found: list[Due] = []
        for j, position in enumerate(positions):
            low = high[j + 1] if j + 1 < len(high) else None
            ranges = [(low, high[j], "")]
            if old is not None and previous is not None:
                # Decided at the previous tick: [low, old[j]); only the rest is new,
                # plus the documents written since (changed, re-sent, late).
                start = old[j] if low is None or old[j] > low else low
                ranges = [(start, high[j], ""), (low, high[j], f"AND d.seq > {previous.seq}")]
            seen: set[str] = set()
            for start, end, extra in ranges:
                lower = "" if start is None else f"AND d.{field} >= '{start}'"
                # The few documents written since: walk the write-sequence index.
                hint = " INDEXED BY documents_seq" if extra and self.ph == "?" else ""
                sql = (
                    f"SELECT d.id, d.{field} FROM documents d{hint} WHERE {_match_sql(rule)}"
                    f" AND d.{field} < '{end}' {lower} {extra} AND NOT EXISTS (SELECT 1"
                    f" FROM firings f WHERE f.rule_key = {self.ph} AND f.document_id = d.id"
                    f" AND f.step = {self.ph} AND f.episode = d.{field})"
                )
                for doc_id, since in self.conn.execute(sql, (rule.key, position.name)):
                    if doc_id not in seen:
                        seen.add(doc_id)
                        found.append([rule.key, doc_id, position.name, since])
        return found

    def _events(self, rule: Rule, trigger: StatusTrigger, cursor: int) -> list[Due]:
        episode = "e.at_utc || '|' || e.to_raw"
        sql = (
            f"SELECT d.id, {episode} FROM status_events e JOIN documents d ON d.id = e.document_id"
            f" WHERE e.id > {cursor} AND e.historical = 0"
            f" AND {_in('e.to_status', trigger.to_statuses)}"
            f" AND {_in('e.from_status', trigger.from_statuses)} AND {_match_sql(rule)}"
            f" AND NOT EXISTS (SELECT 1 FROM firings f WHERE f.rule_key = {self.ph}"
            f" AND f.document_id = d.id AND f.step = 'event' AND f.episode = {episode})"
        )
        return [[rule.key, d, "event", e] for d, e in self.conn.execute(sql, (rule.key,))]


# -- hand-written SQL that also records ---------------------------------------------------


def _key(*parts: str) -> str:
    """An idempotency key per (rule, document, step, episode, action index)."""
    return "edo-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _actions(trigger: TimeTrigger | StatusTrigger, step: str) -> tuple[Any, ...]:
    """The actions of a ladder position: a step's own, a repeat's (or its step's)."""
    if isinstance(trigger, StatusTrigger):
        return tuple(trigger.actions)
    last = trigger.steps[-1]
    name = last.name if step.startswith("repeat[") else step.split(".repeat[", maxsplit=1)[0]
    found = next(s for s in trigger.steps if s.name == name)
    own = (found.repeat or trigger.repeat) if found is last else found.repeat
    if step != name and own is not None and own.actions is not None:
        return tuple(own.actions)
    return tuple(found.actions)


def _plain(value: Any) -> Any:
    """An action's parameters as JSON data: a template's source text (not rendered)."""
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    source = getattr(value, "source", None)
    return source if isinstance(source, str) else value


class RecordingSql:
    """The incremental hand-written SQL, then the same firings and one request per action
    written in one transaction, as a competent engineer would write them (SQLite:
    ``executemany`` with ids assigned in the transaction; PostgreSQL: one ``INSERT …
    SELECT FROM unnest … ON CONFLICT DO NOTHING RETURNING`` and a ``COPY``). Due moments
    from the oracle, memoised per rule, position and local date; the message texts are
    the templates' sources, not rendered. Returns the due set and (firings, requests) written.
    """

    def __init__(self, sql: HandSql, rules: list[Rule], playbook_hash: str):
        self.sql, self.hash = sql, playbook_hash
        self.rules = {rule.key: rule for rule in rules}
        self.positions = {
            r.key: {p.name: p for p in Oracle.positions(r.trigger)}
            for r in rules
            if isinstance(r.trigger, TimeTrigger)
        }
        self.memo: dict[tuple[str, str, date], str] = {}

    def run(self, previous: Previous) -> tuple[list[Due], tuple[int, int]]:
        due = self.sql.run(previous)
        now = self.sql.now.isoformat()
        firings = [(*d, self._due_at(d), now, self.hash, 0) for d in due]
        with _transaction(self.sql.conn, self.sql.ph):
            ids = self._firings(firings)
            requests = [
                (ids[i], spec.name, json.dumps(_plain(spec.params), ensure_ascii=False),
                 _key(*d, str(n)), d[1], d[0], now, "pending", 0, None, None, firings[i][4])
                for i, d in enumerate(due)
                for n, spec in enumerate(_actions(self.rules[d[0]].trigger, d[2]))
            ]  # fmt: skip
            self._requests(requests)
        return due, (len(firings), len(requests))

    def _due_at(self, found: Due) -> str:
        rule_key, _, step, episode = found
        rule = self.rules[rule_key]
        if step == "event":
            return datetime.fromisoformat(episode.split("|")[0]).isoformat()
        since = datetime.fromisoformat(episode)
        position = self.positions[rule_key][step]
        if not position.by_day:
            return self.sql.oracle.due(rule, position, since).isoformat()
        key = (rule_key, step, since.astimezone(rule.timezone).date())
        found_at = self.memo.get(key)
        if found_at is None:
            found_at = self.memo[key] = self.sql.oracle.due(rule, position, since).isoformat()
        return found_at

    def _firings(self, rows: list[tuple[Any, ...]]) -> list[int]:
        conn = self.sql.conn
        if self.sql.ph == "?":
            first = conn.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'firings'), 0),"
                " COALESCE((SELECT MAX(id) FROM firings), 0))"
            ).fetchone()[0]
            ids = list(range(first + 1, first + 1 + len(rows)))
            conn.executemany(
                "INSERT INTO firings (id, rule_key, document_id, step, episode, due_at,"
                " fired_at, playbook_hash, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(i, *row) for i, row in zip(ids, rows, strict=True)],
            )
            return ids
        columns = [list(c) for c in zip(*rows, strict=True)]
        returned = conn.execute(
            "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
            " playbook_hash, skipped) SELECT * FROM unnest(%s::text[], %s::text[], %s::text[],"
            " %s::text[], %s::text[], %s::text[], %s::text[], %s::int[])"
            " ON CONFLICT DO NOTHING RETURNING id, rule_key, document_id, step, episode",
            columns,
        ).fetchall()
        by_key = {tuple(r[1:]): r[0] for r in returned}
        return [by_key[tuple(row[:4])] for row in rows]

    def _requests(self, rows: list[tuple[Any, ...]]) -> None:
        fields = (
            "firing_id, action, params, idempotency_key, document_id, rule_key, created_at,"
            " state, attempts, next_attempt_at, last_error, due_at"
        )
        if self.sql.ph == "?":
            marks = ", ".join("?" for _ in range(12))
            self.sql.conn.executemany(
                f"INSERT INTO action_requests ({fields}) VALUES ({marks})", rows
            )
            return
        with self.sql.conn.cursor().copy(f"COPY action_requests ({fields}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


@contextmanager
def _transaction(conn: Any, ph: str) -> Iterator[None]:
    if ph == "?":
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return
    with conn.transaction():
        yield
