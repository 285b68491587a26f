"""A dashboard over a real SQLite store file, served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from store_contract import make_document

from edo_rules.calendar import ProductionCalendar
from edo_rules.model import Counterparty, CrmBinding, Document, Kind, Status
from edo_rules.runner.metrics import Metrics
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web import Access, Control, Dashboard, DocumentSource, Endpoint, WebServer, build_app
from edo_rules.web._agenda import AgendaCache, sqlite_version
from edo_rules.web._sql import SQLiteReader, dialect_for

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2024, 5, 20, 12, 0, tzinfo=MSK)
MANAGERS = ("Петров П. П.", "Сидорова А. В.", "Кузнецов Е. Н.")
#: One rule on sent documents (a playbook folder's waiting.yaml in the agenda's tests).
PLAYBOOK = """version: 1
name: waiting
rules:
  - id: remind
    match: {status: sent}
    when: {after: 3 working days, since: sent_at}
    do:
      - log: {message: "{{ doc.title }}"}
"""
COUNTERPARTIES = (
    ("ООО «Ромашка»", "7701234567"),
    ("АО «Вектор»", "7702345678"),
    ("ИП Лебедев", "770312345678"),
)


#: Document dates at the ends and inside of three months, and none.
DATES = (
    "2024-03-01",
    "2024-03-15",
    "2024-03-31",
    "2024-04-01",
    "2024-04-17",
    "2024-04-20",
    "2024-04-30",
    "2024-05-02",
    None,
)
#: Periods: whole months, partial ones at either end or both (their days read, or their
#: month's counts minus the days outside), open on a side, empty.
PERIODS = (
    (date(2024, 3, 2), None),
    (None, date(2024, 4, 28)),
    (date(2024, 3, 2), date(2024, 4, 17)),
    (date(2024, 4, 1), date(2024, 4, 30)),
    (date(2024, 3, 1), date(2024, 4, 30)),
    (date(2024, 3, 20), date(2024, 5, 1)),
    (date(2024, 4, 2), date(2024, 4, 29)),
    (date(2024, 4, 1), date(2024, 4, 17)),
    (date(2024, 3, 31), date(2024, 4, 30)),
    (None, date(2024, 4, 30)),
    (None, date(2024, 4, 10)),
    (date(2024, 4, 1), None),
    (date(2024, 3, 31), None),
    (date(2024, 5, 1), date(2024, 4, 1)),
)


def fill_store(path: Path, count: int = 60, seed: int = 7) -> None:
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        sent = NOW - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 8))
        status = rng.choice(
            [
                Status.SENT,
                Status.SENT,
                Status.SIGNED,
                Status.REJECTED,
                Status.AWAITING_OUR_SIGNATURE,
                Status.ERROR,
            ]
        )
        name, inn = rng.choice(COUNTERPARTIES)
        signed = sent + timedelta(days=rng.randint(0, 9)) if status is Status.SIGNED else None
        docs.append(
            make_document(
                f"doc-{i:03d}",
                number=f"{100 + i}",
                date=sent.date(),
                status=status,
                kind=rng.choice([Kind.CONTRACT, Kind.ACT, Kind.UPD]),
                counterparty=Counterparty(name, inn=inn),
                responsible=rng.choice(MANAGERS),
                sent_at=sent.astimezone(UTC),
                status_changed_at=(signed or sent).astimezone(UTC),
                counterparty_signed_at=signed.astimezone(UTC) if signed else None,
                rejected_at=sent + timedelta(days=1) if status is Status.REJECTED else None,
                crm=CrmBinding(company_id=10 + i % 3, deal_id=20 + i % 5),
                organization="ООО «Наша фирма»" if i % 4 else "ООО «Филиал»",
            )
        )
    with SQLiteStore(path) as store:
        store.upsert_documents(docs)


def sql(path: Path, query: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query, params).fetchall()


class Ticks:
    def __init__(self) -> None:
        self.count = 0

    def trigger(self, wait: bool, timeout: float) -> dict[str, object] | None:
        self.count += 1
        return {"ok": True, "fired": 0} if wait else None

    def health(self) -> tuple[bool, dict[str, object]]:
        return True, {"status": "ok", "ticks": self.count}


@contextmanager
def served(
    path: Path,
    access: Access | None = None,
    *,
    ticks: Ticks | None = None,
    hook_token: str | None = None,
    control_token: str | None = None,
    frame_ancestors: tuple[str, ...] = (),
    playbooks: Path | None = None,
) -> Iterator[str]:
    """The dashboard over ``path`` at NOW; with ``playbooks`` (a folder) the agenda too,
    its plans recomputed at most every half second (the service waits a minute)."""
    calendar = ProductionCalendar.russia()

    dashboard = Dashboard(
        reader=SQLiteReader(path, calendar),
        dialect=dialect_for(MSK, NOW),
        calendar=calendar,
        zone=MSK,
        clock=lambda: NOW,
        access=access or Access(),
        documents=DocumentSource(lambda: SQLiteStore(path)),
        frame_ancestors=frame_ancestors,
        agenda=None if playbooks is None else agenda_over(path, playbooks, 0.5),
    )
    ticks = ticks or Ticks()
    control = Control(
        trigger=ticks.trigger,
        health=ticks.health,
        metrics=Metrics(),
        hook_token=hook_token,
        token=control_token,
        deal_documents=lambda deal: [
            str(r[0]) for r in sql(path, "SELECT id FROM documents WHERE deal_id = ?", deal)
        ],
    )
    server = WebServer(
        build_app(control, dashboard), Endpoint("127.0.0.1", 0), on_stop=dashboard.close
    )
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def agenda_over(path: Path, playbooks: Path, min_interval: float) -> AgendaCache:
    """The agenda as ``web._wiring`` builds it, over a store file and a playbook folder:
    simulated by a child process."""
    from edo_rules.web._agenda_process import SimulationJob, agenda_in_process

    return agenda_in_process(
        sqlite_version(path),
        lambda days: SimulationJob((playbooks,), MSK.key, NOW, days, store_path=path),
        min_interval=min_interval,
    )


def replace_doc(path: Path, doc_id: str, **changes: object) -> None:
    with SQLiteStore(path) as store:
        doc = store.get_document(doc_id)
        assert doc is not None
        store.upsert_documents([replace(doc, **changes)])


#: The summaries' and the totals' non-empty rows as (table, dim, known, key, sign_days,
#: status, rejected, kind, organization, n); a totals row has its waiting and signed
#: counts as its status, a scoped totals row its scope's value as its kind or organisation.
SUMMARY_ROWS = (
    "SELECT 'groups', dim, known, key, sign_days, status, rejected, '', organization, n"
    " FROM dashboard_groups WHERE n != 0 UNION ALL SELECT 'kinds', dim, known, key,"
    " sign_days, status, rejected, kind, organization, n FROM dashboard_kind_groups"
    " WHERE n != 0 UNION ALL SELECT 'totals', dim, known, key, sign_days,"
    " 'waiting ' || waiting || ', signed ' || signed, rejected, '', '', n"
    " FROM dashboard_totals WHERE n != 0 UNION ALL SELECT 'scoped ' || scope, dim, known,"
    " key, sign_days, 'waiting ' || waiting || ', signed ' || signed, rejected,"
    " CASE WHEN scope = 'kind' THEN value ELSE '' END,"
    " CASE WHEN scope = 'organization' THEN value ELSE '' END, n"
    " FROM dashboard_scoped_totals WHERE n != 0"
)


def summary_rows(path: Path) -> list[tuple[Any, ...]]:
    """The dashboard summaries' non-empty rows, as the triggers (or a bulk load) left them."""
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute(SUMMARY_ROWS).fetchall())


def rebuilt_rows(path: Path) -> list[tuple[Any, ...]]:
    """The same rows rebuilt from every document (rolled back: the file is left as it was)."""
    from edo_rules.store._sqlite_dashboard import rebuild

    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("BEGIN")
        rebuild(conn)
        rows = sorted(conn.execute(SUMMARY_ROWS).fetchall())
        conn.execute("ROLLBACK")
    return rows


def regrouped(docs: list[Document], signed_at: datetime) -> list[Document]:
    """The documents moved between statuses, managers, organisations and kinds (some fields
    emptied): an update that changes every group the dashboard summaries keep."""
    return [
        replace(
            doc,
            status=Status.SIGNED if i % 2 else Status.SENT,
            kind=Kind.ACT if i % 5 else Kind.UPD,
            responsible=None if i % 3 == 0 else "Новиков А. А.",
            organization=None if i % 4 == 0 else "ООО «Другая»",
            counterparty_signed_at=None if i % 2 == 0 else signed_at.astimezone(UTC),
            rejected_at=None,
        )
        for i, doc in enumerate(docs)
    ]


def agenda_ready(get: Callable[[str], Any], url: str, timeout: float = 60) -> dict[str, Any]:
    """The agenda's JSON export once no plan is being computed for the first time (a plan,
    or the failure): the page is reloaded, as its meta refresh reloads it, up to ``timeout`` s."""
    import time

    sep = "&" if "?" in url else "?"
    deadline = time.monotonic() + timeout
    while True:
        reply = get(f"{url}{sep}format=json")
        assert reply.status_code == 200, reply.text[:300]
        data: dict[str, Any] = reply.json()
        if data["agenda"]["state"] != "computing" or time.monotonic() > deadline:
            return data
        time.sleep(0.1)
