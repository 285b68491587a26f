"""``counterparty.stats``: signing history per counterparty, kept up to date incrementally."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _engine_helpers import CALENDAR, MSK, World, msk, playbook

from edo_rules.engine import Engine
from edo_rules.engine._stats import refresh, stats_from
from edo_rules.errors import PlaybookError
from edo_rules.model import Counterparty, CounterpartyStats, Direction, Document, Kind, Status
from edo_rules.store.sqlite import SQLiteStore

SLOW, FAST = "7700000001", "7700000002"
NOW = msk("2024-06-03 10:00")


def _doc(
    doc_id: str, inn: str, sent: datetime, signed_after: int | None = None, **kw: object
) -> Document:
    signed = None
    if signed_after is not None:
        day = CALENDAR.add_working_days(sent.date(), signed_after)
        signed = datetime.combine(day, sent.timetz()).replace(tzinfo=MSK)
    status = Status.SIGNED if signed else Status.SENT
    base = Document(
        id=doc_id,
        kind=Kind.ACT,
        number=doc_id,
        date=None,
        direction=Direction.OUTGOING,
        status=status,
        status_1c=status.value,
        counterparty=Counterparty(f"ООО {inn}", inn),
        sent_at=sent,
        counterparty_signed_at=signed,
        responsible="7",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _history() -> list[Document]:
    sent = msk("2024-04-01 10:00")
    return [
        *(_doc(f"s{n}", SLOW, sent, n) for n in (1, 2, 3, 5, 8)),
        _doc("s-rej", SLOW, sent, status=Status.REJECTED, rejected_at=msk("2024-04-03 12:00")),
        _doc("s-in", SLOW, sent, 30, direction=Direction.INCOMING),  # ours to sign: not counted
        _doc("s-old", SLOW, msk("2023-01-10 10:00"), 40),  # decided 13+ months ago
        *(_doc(f"f{n}", FAST, sent, 1) for n in range(3)),
        _doc("slow-new", SLOW, msk("2024-05-27 10:00")),
        _doc("fast-new", FAST, msk("2024-05-27 10:00")),
    ]


RULE = """\
- id: nudge-slow
  match:
    status: sent
    where: >-
      counterparty.stats.median_working_days
      and counterparty.stats.median_working_days > 2
  when: {after: 2 рабочих дня, since: sent_at}
  do:
    - log:
        message: >-
          {{ doc.title }}: обычно подписывает за
          {{ counterparty.stats.median_working_days }} раб. дн.,
          90% за {{ counterparty.stats.p90_working_days }};
          отказов {{ counterparty.stats.rejections }}
"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    path = tmp_path / "edo.sqlite3"
    with SQLiteStore(path) as store:
        store.upsert_documents(_history())
    return World(path, (playbook(RULE),))


def test_histogram_median_and_p90() -> None:
    rows = [
        ("signed", 1, 1),
        ("signed", 2, 1),
        ("signed", 3, 1),
        ("signed", 5, 1),
        ("signed", 8, 1),
    ]
    assert stats_from("1", [*rows, ("rejected", 0, 2)]) == CounterpartyStats("1", 5, 3.0, 8, 2)
    assert stats_from("1", rows[:4]) == CounterpartyStats("1", 4, 2.5, 5, 0)
    assert stats_from("1", [("signed", 4, 10)]) == CounterpartyStats("1", 10, 4.0, 4, 0)
    assert stats_from("1", [("rejected", 0, 1)]) == CounterpartyStats("1", 0, None, None, 1)


def test_a_rule_uses_the_counterpartys_history(world: World) -> None:
    result = world.evaluate(NOW)
    fired = [(p.firing.document_id, p.firing.rule_key) for p in result.fired]
    assert fired == [("slow-new", "pb/nudge-slow")]  # the fast signer is left alone
    message = result.fired[0].requests[0].params["message"]
    assert message == "Акт № slow-new: обычно подписывает за 3.0 раб. дн., 90% за 8; отказов 1"


def test_explain_shows_the_statistics(world: World) -> None:
    world.evaluate(NOW)
    with world.store() as store:
        text = Engine(store, world.playbooks, CALENDAR).explain("slow-new", NOW).render()
    assert (
        f"counterparty.stats (ИНН {SLOW}): signed 5 in 12 months, median 3 working days,"
        " 90% within 8, rejections 1"
    ) in text


def test_changes_move_samples_and_equal_a_rebuild(world: World, tmp_path: Path) -> None:
    world.evaluate(NOW)
    with world.store() as store:
        s8 = store.get_document("s8")
        assert s8 is not None
        rejected = replace(s8, status=Status.REJECTED, counterparty_signed_at=None, rejected_at=NOW)
        store.upsert_documents([rejected, _doc("s9", SLOW, msk("2024-05-02 10:00"), 1)])
    world.evaluate(NOW + timedelta(minutes=5))
    with world.store() as store:
        incremental = sorted(store.counterparty_histogram(SLOW, "2023-07"))
        documents = list(store.iter_documents())
    rebuilt_path = tmp_path / "rebuilt.sqlite3"
    with SQLiteStore(rebuilt_path) as rebuilt:
        rebuilt.upsert_documents(documents)
        refresh(rebuilt, CALENDAR, chunk=3)  # several chunks, one write sequence number
        assert sorted(rebuilt.counterparty_histogram(SLOW, "2023-07")) == incremental
        assert rebuilt.stats_seq() == rebuilt.document_seq()
    assert ("rejected", 0, 2) in incremental and ("signed", 8, 1) not in incremental
    assert ("signed", 1, 2) in incremental  # s1 and the new s9


def test_the_window_is_twelve_months(world: World) -> None:
    world.evaluate(NOW)
    with world.store() as store:
        old = sorted(store.counterparty_histogram(SLOW, "2023-01"))
        recent = sorted(store.counterparty_histogram(SLOW, "2023-07"))
    assert ("signed", 40, 1) in old and ("signed", 40, 1) not in recent


def test_a_dry_run_writes_no_statistics(world: World) -> None:
    world.evaluate(NOW, dry_run=True)
    with world.store() as store:
        assert store.stats_seq() == 0
        assert store.counterparty_histogram(SLOW, "2000-01") == []


def test_rules_without_stats_never_build_them(tmp_path: Path) -> None:
    path = tmp_path / "edo.sqlite3"
    with SQLiteStore(path) as store:
        store.upsert_documents(_history())
    plain = World(
        path, (playbook("- id: a\n  when: {after: 1 день, since: sent_at}\n  do: [log: {}]\n"),)
    )
    plain.evaluate(NOW)
    with plain.store() as store:
        assert store.stats_seq() == 0


def test_a_misspelt_statistic_is_refused_at_load() -> None:
    with pytest.raises(
        PlaybookError, match=r"\(возможно, 'counterparty.stats.median_working_days'\?\)"
    ):
        playbook(RULE.replace("median_working_days >", "medan_working_days >"))


def test_the_explain_command_shows_the_statistics_in_russian(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edo_rules.cli import main

    world.evaluate(NOW)
    folder = tmp_path / "playbooks"
    folder.mkdir()
    text = "version: 1\nname: pb\nrules:\n" + "".join(f"  {line}\n" for line in RULE.splitlines())
    (folder / "pb.yaml").write_text(text, encoding="utf-8")
    argv = ["explain", "slow-new", "--store", str(world.path), "--playbooks", str(folder)]
    assert main([*argv, "--at", "2024-06-03T10:00"]) == 0
    assert (
        f"статистика контрагента (ИНН {SLOW}): подписано 5 за 12 месяцев, медиана 3 раб. дн.,"
        " 90% — за 8, отказов 1"
    ) in capsys.readouterr().out
    assert main([*argv, "--at", "2024-06-03T10:00", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)["counterparty_stats"]
    assert stats == {"inn": SLOW, "signed": 5, "median_working_days": 3.0,
                     "p90_working_days": 8, "rejections": 1}  # fmt: skip


def test_updates_read_only_the_documents_written_since(world: World) -> None:
    """Never a scan per tick: once built, an update reads what was written since, or nothing."""
    world.evaluate(NOW)
    with world.store() as store:
        engine = Engine(store, world.playbooks, CALENDAR)
        assert engine.update_stats() == 0
        store.upsert_documents([_doc("s10", SLOW, msk("2024-05-02 10:00"), 2)])
        assert engine.update_stats() == 1
        assert engine.update_stats() == 0
        assert store.stats_seq() == store.document_seq()
        assert ("signed", 2, 2) in store.counterparty_histogram(SLOW, "2023-07")
