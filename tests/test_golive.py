"""Go-live: a base with months of history sends nothing for what started before go-live."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _engine_helpers import CALENDAR, MSK, World, fired_steps, msk, playbook, skipped_steps
from _onec_helpers import make_base, open_store, serving, sync
from store_contract import make_document, make_event

from edo_rules.engine import Engine
from edo_rules.errors import PlaybookError
from edo_rules.model import Status
from edo_rules.playbook.loader import load_playbook_text, load_playbooks

BUNDLED = Path(__file__).resolve().parent.parent / "playbooks"

LADDER = """
- id: remind
  match: {status: sent}
  when: {after: 3 working days, since: sent_at}
  do: [{notify: {to: responsible, text: "{{ doc.title }}"}}]
  escalate:
    - after: 5 working days
      do: [{task: {responsible: responsible, title: "{{ doc.title }}"}}]
- id: signed
  when: {status_changed: {to: signed}}
  do: [{log: {message: "подписан"}}]
"""


def _engine(store: object, *, go_live: datetime | None) -> Engine:
    return Engine(store, load_playbooks([BUNDLED]), CALENDAR, go_live=go_live)  # type: ignore[arg-type]


def test_six_months_of_history_send_nothing_after_go_live(tmp_path: Path) -> None:
    base = make_base(300)
    go_live = base.now.replace(tzinfo=MSK)
    with serving(base) as emulator, open_store(tmp_path) as store:
        sync(emulator, store)
        without = _engine(store, go_live=None).evaluate(go_live + timedelta(hours=1), dry_run=True)
        assert len(without.fired) > 20  # the flood the go-live moment prevents
        result = _engine(store, go_live=go_live).evaluate(go_live + timedelta(hours=1))
        assert result.fired == ()
        assert {f.document_id for f in result.skipped} >= {
            p.firing.document_id for p in without.fired if p.firing.step != "event"
        }
        # A week later the old ladders have moved on: still nothing for them.
        base.advance(days=7)
        sync(emulator, store)
        later = _engine(store, go_live=go_live).evaluate(go_live + timedelta(days=7))
        assert later.fired == ()
        assert later.skipped  # the new rungs of the old ladders are recorded as skipped


def test_a_document_sent_after_go_live_fires_and_old_signatures_after_it_act(
    tmp_path: Path,
) -> None:
    base = make_base(60)
    go_live = base.now.replace(tzinfo=MSK)
    with serving(base) as emulator, open_store(tmp_path) as store:
        sync(emulator, store)
        engine = Engine(store, (playbook(LADDER),), CALENDAR, go_live=go_live)
        engine.evaluate(go_live)  # the event rule starts here
        old_sent = next(d for d in store.iter_documents() if d.status is Status.SENT)
        doc = old_sent
        key = base.create_document(
            counterparty=_ref(base, "Catalog_Контрагенты"),
            responsible=_ref(base, "Catalog_Пользователи"),
            organization=_ref(base, "Catalog_Организации"),
            kind="contract",
            at=base.now + timedelta(hours=1),
        )
        base.send(key, at=base.now + timedelta(hours=2))
        base.advance(days=14)
        base.sign(doc.id, at=base.now)
        sync(emulator, store)
        result = engine.evaluate(base.now.replace(tzinfo=MSK))
        fired = fired_steps(result)
        assert (key, "escalate[1]") in fired  # the new document's ladder acts
        assert (doc.id, "event") in fired  # an old document signed after go-live acts
        assert all(doc_id in (key, doc.id) for doc_id, _ in fired)


def _ref(base: object, name: str) -> str:
    rows = base.sets[name].rows  # type: ignore[attr-defined]
    return str(next(r for r in rows if not r.get("IsFolder"))["Ref_Key"])


def test_events_before_go_live_are_recorded_as_skipped(tmp_path: Path) -> None:
    world = World(tmp_path / "s.db", (playbook(LADDER),))
    with world.store() as store:
        store.upsert_documents([make_document("a"), make_document("b")])
    go_live = msk("2024-05-06 00:00")
    engine = Engine(world.store(), world.playbooks, CALENDAR, go_live=go_live)
    engine.evaluate(msk("2024-05-06 09:00"))
    with world.store() as store:
        store.write_sync_page(
            [],
            [
                make_event("a", msk("2024-05-03 10:00"), Status.SIGNED),  # entered late
                make_event("b", msk("2024-05-06 10:00"), Status.SIGNED),
            ],
        )
    result = engine.evaluate(msk("2024-05-06 11:00"))
    assert fired_steps(result) == [("b", "event")]
    assert ("a", "event") in skipped_steps(result)
    text = engine.explain("a", msk("2024-05-06 11:00")).render()
    assert "skipped (before go-live)" in text


def test_explain_and_time_ladder_show_go_live(tmp_path: Path) -> None:
    world = World(tmp_path / "s.db", (playbook(LADDER),))
    with world.store() as store:
        store.upsert_documents([make_document("a")])  # sent 26.04.2024
    engine = Engine(world.store(), world.playbooks, CALENDAR, go_live=msk("2024-05-01 00:00"))
    now = msk("2024-05-13 10:00")
    text = engine.explain("a", now).render()
    assert "is before go-live 01.05.2024 00:00" in text
    assert "episode started before go-live: recorded as skipped" in text
    result = engine.evaluate(now)
    assert result.fired == () and skipped_steps(result) == [("a", "do"), ("a", "escalate[1]")]
    assert "skipped (before go-live)" in engine.explain("a", now).render()


def test_playbook_go_live_wins_over_the_config(tmp_path: Path) -> None:
    text = "version: 1\nname: pb\ngo_live: 2024-04-01\nrules:\n" + "\n".join(
        "  " + line for line in LADDER.strip().splitlines()
    )
    book = load_playbook_text(text, "pb.yaml")
    assert book.go_live == msk("2024-04-01 00:00")
    world = World(tmp_path / "s.db", (book,))
    with world.store() as store:
        store.upsert_documents([make_document("a")])  # sent 26.04.2024, after 01.04
    engine = Engine(world.store(), (book,), CALENDAR, go_live=msk("2024-06-01 00:00"))
    assert fired_steps(engine.evaluate(msk("2024-05-13 10:00"))) == [("a", "escalate[1]")]


def test_a_bad_go_live_is_reported_with_its_line() -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(
            "version: 1\nname: pb\ngo_live: вчера\nrules:\n"
            + "\n".join("  " + line for line in LADDER.strip().splitlines()),
            "pb.yaml",
        )
    assert "pb.yaml:3" in str(caught.value) and "go_live" in str(caught.value)
    with pytest.raises(PlaybookError) as typo:
        load_playbook_text(
            "version: 1\nname: pb\ngo_lve: 2024-01-01\nrules:\n"
            + "\n".join("  " + line for line in LADDER.strip().splitlines()),
            "pb.yaml",
        )
    assert "неизвестный ключ 'go_lve' (возможно, 'go_live'?)" in str(typo.value)


def test_preview_counts_recipients_rules_and_held_back(tmp_path: Path) -> None:
    world = World(tmp_path / "s.db", (playbook(LADDER),))
    fresh = msk("2024-05-06 10:00")
    with world.store() as store:
        store.upsert_documents(
            [
                make_document("old"),
                make_document("new", sent_at=fresh, responsible="Сидорова А. А."),
            ]
        )
    engine = Engine(world.store(), world.playbooks, CALENDAR, go_live=msk("2024-05-01 00:00"))
    preview = engine.preview(msk("2024-05-15 10:00"))
    assert preview.by_recipient == {"ответственный: Сидорова А. А.": 1}
    assert preview.by_rule == {"pb/remind": 1}
    assert preview.held_back_documents == 1 and preview.held_back[0].document_id == "old"
    text = preview.render()
    assert "ответственный: Сидорова А. А.: 1" in text and "(old)" in text
    with world.store() as store:
        assert store.firings_for("old") == []  # a preview records nothing
