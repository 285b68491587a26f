"""Simulation over a date range: real playbooks, a real SQLite file, a scratch copy."""

from __future__ import annotations

import sqlite3
from datetime import date, time
from pathlib import Path

import pytest
from _engine_helpers import CALENDAR, World, msk, playbook
from store_contract import make_document

from edo_rules.cli import main
from edo_rules.engine import Engine, Simulation, SimulationError
from edo_rules.engine._simulate import MAX_MOMENTS, moments, step_of

SENT = msk("2024-04-26 15:30")  # Friday before the May holidays of 2024

LADDER = """
- id: remind
  match: {status: sent}
  when: {after: 3 working days, since: sent_at}
  do:
    - log: {message: "{{ doc.number }}: {{ elapsed.working_days }} раб. дн."}
  escalate:
    - after: 5 working days
      do:
        - log: {message: "эскалация"}
  repeat: {every: 2 working days, times: 2}
"""


def _world(tmp_path: Path, *doc_ids: str) -> World:
    world = World(tmp_path / "store.sqlite3", (playbook(LADDER),))
    with world.store() as store:
        store.upsert_documents(make_document(i, sent_at=SENT) for i in doc_ids)
    return world


def _simulate(world: World, start: date, end: date, every: str = "1 day") -> Simulation:
    engine = world.engine()
    try:
        return engine.simulate(start, end, every=every)
    finally:
        engine.store.close()


def _timeline(simulation: Simulation) -> list[tuple[str, str, str]]:
    return [
        (f"{tick.now:%Y-%m-%d %H:%M}", p.firing.document_id, p.firing.step)
        for tick in simulation.ticks
        for p in tick.fired
    ]


def _counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        tables = ("documents", "firings", "action_requests", "rule_progress", "event_cursors")
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()


def test_a_ladder_over_the_may_holidays_fires_on_the_right_working_days(tmp_path: Path) -> None:
    world = _world(tmp_path, "a")
    simulation = _simulate(world, date(2024, 4, 26), date(2024, 5, 31))
    # 3 wd: 27.04 (working Sat), 02.05, 03.05 → Mon 06.05; 5 wd → Wed 08.05;
    # repeats every 2 wd after 08.05 (09–10.05 are days off): 14.05, 16.05.
    assert _timeline(simulation) == [
        ("2024-05-06 09:00", "a", "do"),
        ("2024-05-08 09:00", "a", "escalate[1]"),
        ("2024-05-14 09:00", "a", "repeat[1]"),
        ("2024-05-16 09:00", "a", "repeat[2]"),
    ]
    assert len(simulation.ticks) == 36
    first = next(tick for tick in simulation.ticks if tick.fired)
    assert first.fired[0].firing.due_at == msk("2024-05-06 00:00")
    assert first.fired[0].requests[0].params == {"message": "17: 3 раб. дн."}
    assert simulation.fired_count == 4


def test_the_real_store_is_unchanged(tmp_path: Path) -> None:
    world = _world(tmp_path, "a", "b")
    world.evaluate(msk("2024-05-06 10:00"))  # the real ledger: "do" fired for both
    before_bytes, before_counts = world.path.read_bytes(), _counts(world.path)
    simulation = _simulate(world, date(2024, 5, 6), date(2024, 5, 20))
    assert simulation.fired_count == 6  # escalate and two repeats each; "do" was already fired
    assert world.path.read_bytes() == before_bytes
    assert _counts(world.path) == before_counts
    assert [f.step for f in world.ledger("a")] == ["do"]


def test_catch_up_applies_when_the_range_starts_late(tmp_path: Path) -> None:
    world = _world(tmp_path, "a")
    simulation = _simulate(world, date(2024, 5, 15), date(2024, 5, 17))
    first = simulation.ticks[0]
    assert [p.firing.step for p in first.fired] == ["repeat[1]"]  # catch_up: latest
    assert sorted(f.step for f in first.skipped) == ["do", "escalate[1]"]
    assert _timeline(simulation)[1:] == [("2024-05-16 09:00", "a", "repeat[2]")]


def test_a_step_in_hours_finds_the_due_moment(tmp_path: Path) -> None:
    world = _world(tmp_path, "a")
    simulation = _simulate(world, date(2024, 5, 5), date(2024, 5, 6), every="6 hours")
    assert len(simulation.ticks) == 8
    assert _timeline(simulation) == [("2024-05-06 00:00", "a", "do")]


def test_moments_by_working_days_skip_days_off() -> None:
    found = moments(date(2024, 5, 8), date(2024, 5, 14), step_of("1 working day"), CALENDAR)
    assert [m.day for m in found] == [8, 13, 14]
    assert all(m.time() == time(9) for m in found)


@pytest.mark.parametrize(
    ("start", "end", "every", "message"),
    [
        (date(2024, 5, 31), date(2024, 5, 1), "1 day", "ends before it starts"),
        (date(2024, 5, 1), date(2024, 5, 2), "0 days", "at least 1"),
        (date(2024, 5, 1), date(2024, 5, 2), "soon", "'soon' — не длительность"),
        (date(2000, 1, 1), date(2024, 1, 1), "1 minute", f"more than {MAX_MOMENTS}"),
    ],
)
def test_a_bad_range_or_step_is_refused(
    tmp_path: Path, start: date, end: date, every: str, message: str
) -> None:
    world = _world(tmp_path, "a")
    engine = world.engine()
    try:
        with pytest.raises(SimulationError, match=message):
            engine.simulate(start, end, every=every)
    finally:
        engine.store.close()


def test_the_engine_layer_needs_only_the_store_protocol(tmp_path: Path) -> None:
    world = _world(tmp_path, "a")
    with world.store() as store, store.scratch_copy() as scratch:
        scratch.upsert_documents([make_document("z", sent_at=SENT)])
        assert scratch.count_documents() == 2
        assert Engine(scratch, world.playbooks, CALENDAR).evaluate(msk("2024-05-06 10:00")).fired
        assert store.count_documents() == 1


# -- the command ---------------------------------------------------------------------------


def _cli(world: World, *extra: str) -> list[str]:
    playbooks = world.path.parent / "playbooks"
    playbooks.mkdir(exist_ok=True)
    text = "version: 1\nname: pb\nrules:\n" + "".join(f"  {line}\n" for line in LADDER.splitlines())
    (playbooks / "pb.yaml").write_text(text, encoding="utf-8")
    return ["simulate", "--store", str(world.path), "--playbooks", str(playbooks), *extra]


def test_the_command_prints_a_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = _world(tmp_path, "a", "b")
    before = world.path.read_bytes()
    argv = _cli(world, "--from", "2024-04-26", "--to", "2024-05-31", "--document", "a")
    assert main([*argv, "--lang", "en"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Mon 06.05.2024 09:00 MSK"
    assert out[1].split("  ") == ["", "fire", "pb/remind", "Договор № 17 от 26.04.2024", "do",
                                  "(due Mon 06.05.2024 00:00 MSK)"]  # fmt: skip
    assert out[2].split(maxsplit=1) == ["log", '{"message": "17: 3 раб. дн."}']
    assert [line for line in out if not line.startswith(" ")][:-1] == [
        "Mon 06.05.2024 09:00 MSK",
        "Wed 08.05.2024 09:00 MSK",
        "Tue 14.05.2024 09:00 MSK",
        "Thu 16.05.2024 09:00 MSK",
    ]
    assert out[-1] == (
        "simulated 36 moment(s) from Fri 26.04.2024 to Fri 31.05.2024 for document"
        " Договор № 17 от 26.04.2024:"
        " 4 firing(s); the store was not changed"
    )
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "пн 06.05.2024 09:00 MSK"
    assert out[1].split("  ")[:5] == ["", "сработает", "pb/remind", "Договор № 17 от 26.04.2024",
                                      "первый шаг (do)"]  # fmt: skip
    assert world.path.read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "2024-05-31", "--to", "2024-05-01"], "ends before it starts"),
        (["--from", "2024-05-01", "--to", "2024-05-02", "--every", "soon"], "not a duration"),
    ],
)
def test_the_command_refuses_a_bad_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    world = _world(tmp_path, "a")
    assert main([*_cli(world, *extra), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("edo-rules: error: ")
    assert message in err


def test_the_command_refuses_a_malformed_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = _world(tmp_path, "a")
    with pytest.raises(SystemExit) as exit_:
        main(_cli(world, "--from", "26.04.2024", "--to", "2024-05-01"))
    assert exit_.value.code == 2
    assert (
        "ошибка: аргумент --from: '26.04.2024' — не дата (ожидается, например, 2024-04-26)"
        in capsys.readouterr().err
    )


def test_a_stop_asked_before_each_tick_ends_the_simulation_and_its_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    world = _world(tmp_path, "d1")
    before = _counts(world.path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the scratch copy goes
    asked: list[int] = []

    def stop() -> bool:
        asked.append(len(asked))
        return len(asked) > 2  # two ticks ran, the third is refused

    engine = world.engine()
    try:
        with pytest.raises(SimulationError, match="stopped before its next tick"):
            engine.simulate(date(2024, 5, 2), date(2024, 5, 31), stop=stop)
        finished = engine.simulate(date(2024, 5, 2), date(2024, 5, 3), stop=lambda: False)
    finally:
        engine.store.close()
    assert len(asked) == 3 and len(finished.ticks) == 2
    assert list(scratch.iterdir()) == [] and _counts(world.path) == before
