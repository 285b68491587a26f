"""End to end: the 1C source against the emulated 1C over HTTP, into a real SQLite file."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from _onec_helpers import (
    MOSCOW,
    clock_of,
    emulated_states,
    make_base,
    open_store,
    serving,
    settings_for,
    snapshot,
    sync,
)

from edo_rules.emulators.onec import JOURNAL, OUTGOING, SIGNATURES, STATES
from edo_rules.model import CrmBinding, Direction, Kind, Side, Status
from edo_rules.sources.onec import WATERMARK, OneCSource, run_sync


def test_initial_sync_loads_every_document_with_its_history_as_history(tmp_path: Path) -> None:
    base = make_base(120)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        report = sync(emulator, store)
    assert report.mode == "full" and report.documents == 120
    # The signatures register is not published by default: the summary says so.
    assert not report.unknown_states and report.unpublished == [SIGNATURES]
    documents = {doc.id: doc for doc in store.iter_documents()}
    assert {doc: d.status_1c for doc, d in documents.items()} == emulated_states(base)
    for doc in documents.values():
        history = store.history(doc.id)
        assert history and all(event.historical for event in history)
        assert history[-1].to_raw == doc.status_1c
        assert [e.at for e in history] == sorted(e.at for e in history)
    assert report.events_added == sum(len(store.history(doc)) for doc in documents)
    assert store.get_sync_state()[WATERMARK] == max(
        row["ДатаИзменения"] for row in base.sets[STATES].rows
    )


def test_kinds_directions_and_counterparties_come_from_1c(tmp_path: Path) -> None:
    base = make_base(150)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
    documents = list(store.iter_documents())
    assert {doc.kind for doc in documents} == set(Kind)
    assert {doc.direction for doc in documents} == set(Direction)
    sample = documents[0]
    names = {row["Description"] for row in base.sets["Catalog_Контрагенты"].rows}
    assert sample.counterparty.name in names and sample.counterparty.inn
    upd = next(doc for doc in documents if doc.kind is Kind.UPD)
    row = base.document(upd.id)
    assert row["ТипРегламента"] == "УПД"
    assert upd.amount is not None and float(upd.amount) == pytest.approx(row["СуммаДокумента"])


def test_the_counterparty_signature_is_from_the_state_not_our_signing_date(
    tmp_path: Path,
) -> None:
    base = make_base(80)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
    signed = next(
        doc
        for doc in store.iter_documents()
        if doc.status is Status.SIGNED and doc.direction is Direction.OUTGOING
    )
    row = base.document(signed.id)
    state = base.sets[STATES].get(signed.id)
    assert state is not None
    ours = signed.our_signed_at
    assert ours is not None and ours.replace(tzinfo=None).isoformat() == row["ДатаПодписания"]
    theirs = signed.counterparty_signed_at
    assert theirs is not None and theirs.replace(tzinfo=None).isoformat() == state["ДатаИзменения"]
    assert theirs > ours
    assert theirs.utcoffset() == timedelta(hours=3)  # Moscow, from the zone-less 1C time
    sides = {signer.side: signer for signer in signed.signers}
    # The signatures register is not published here: the organisation stands for its signer.
    assert sides[Side.COUNTERPARTY].name == signed.counterparty.name
    assert sides[Side.COUNTERPARTY].organization
    assert sides[Side.OURS].signed_at == ours
    assert signed.revoked_at is None  # the empty date 0001-01-01 means no value


def test_incremental_sync_records_new_events_that_are_not_history(tmp_path: Path) -> None:
    base = make_base(100)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        waiting = [d.id for d in store.iter_documents() if d.status_1c == "ОжидаетсяПодтверждение"]
        to_sign, to_reject, to_annul = waiting[:3]
        refs = base.sets["Catalog_Контрагенты"].rows[0]["Ref_Key"]
        user = base.sets["Catalog_Пользователи"].rows[0]["Ref_Key"]
        org = base.sets["Catalog_Организации"].rows[0]["Ref_Key"]
        base.advance(hours=2)
        new = base.create_document(counterparty=refs, responsible=user, organization=org)
        base.advance(minutes=30)
        base.send(new)
        base.sign(to_sign)
        base.reject(to_reject, "Неверная сумма в акте")
        base.annul(to_annul)
        report = sync(emulator, store)
    assert report.mode == "incremental" and report.documents == 4
    # states, journal, users, documents, and for the new one its link, sales document,
    # counterparty, contract and EDO kind
    assert report.requests <= 9
    signed = store.get_document(to_sign)
    assert signed is not None and signed.status is Status.SIGNED
    last = store.history(to_sign)[-1]
    assert (last.from_status, last.to_status, last.historical) == (
        Status.SENT,
        Status.SIGNED,
        False,
    )
    rejected = store.get_document(to_reject)
    assert rejected is not None and rejected.status is Status.REJECTED
    assert rejected.rejection_comment == "Неверная сумма в акте"
    assert store.history(to_reject)[-1].comment == "Неверная сумма в акте"
    revoked = store.get_document(to_annul)
    assert revoked is not None and revoked.status is Status.REVOKED and revoked.revoked_at
    created = store.get_document(new)
    assert created is not None and created.kind is Kind.ACT and created.status is Status.SENT
    new_history = store.history(new)
    assert [e.to_raw for e in new_history] == [
        "ТребуетсяПодписание",
        "ТребуетсяОтправка",
        "ОжидаетсяПодтверждение",
    ]
    assert not any(event.historical for event in new_history)
    assert new_history[-1].actor == created.responsible


def test_running_the_same_sync_again_changes_nothing(tmp_path: Path) -> None:
    base = make_base(60)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        doc = next(d.id for d in store.iter_documents() if d.status is Status.SENT)
        base.advance(hours=1)
        base.sign(doc)
        first = sync(emulator, store)
        before = snapshot(store)
        again = sync(emulator, store)
        forced = sync(emulator, store, full=True)
    assert first.events_added == 1
    assert again.documents == 0 and again.events_added == 0
    assert snapshot(store)[1] == before[1]  # no event added or changed, even by a full re-read
    assert forced.events_added == 0


def test_a_document_signed_before_its_sent_period_is_not_re_read_at_every_sync(
    tmp_path: Path,
) -> None:
    """1C dates the sending a minute ahead; a signature in that minute came before it.

    The stored time of the latest step is then later than the register's period:
    the incremental sync used to take that difference for a change and re-read
    the document at each sync while it stayed in the overlap window.
    """
    base = make_base(30)
    store = open_store(tmp_path)
    template = base.sets[OUTGOING].rows[0]
    with serving(base) as emulator:
        sync(emulator, store)
        base.advance(minutes=1)
        doc = base.create_document(
            counterparty=str(template["Контрагент_Key"]),
            responsible=str(template["Ответственный_Key"]),
            organization=str(template["Организация_Key"]),
        )
        base.send(doc)
        base.sign(doc)
        first = sync(emulator, store)
        later = []
        for _ in range(3):
            base.advance(seconds=30)
            later.append(sync(emulator, store))
        base.advance(seconds=30)
        base.reject(doc, "исправьте сумму")
        changed = sync(emulator, store)
    assert (first.documents, first.events_added) == (1, 5)
    assert [(r.documents, r.events_added) for r in later] == [(0, 0)] * 3
    assert (changed.documents, changed.events_added) == (1, 1)
    assert store.get_document(doc).status is Status.REJECTED  # type: ignore[union-attr]


def test_the_overlap_window_and_the_healing_reread_catch_late_writes(tmp_path: Path) -> None:
    base = make_base(60)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        late, later = [d.id for d in store.iter_documents() if d.status is Status.SENT][:2]
        watermark = max(row["ДатаИзменения"] for row in base.sets[STATES].rows)
        mark = base.now.fromisoformat(watermark)
        base.set_state(late, "ОбменЗавершен", at=mark - timedelta(minutes=5))
        base.set_state(later, "ОбменЗавершен", at=mark - timedelta(hours=3))
        sync(emulator, store)
        found_late = store.get_document(late)
        missed = store.get_document(later)
        base.advance(hours=25)  # the healing re-read is due once a day
        healed = sync(emulator, store)
    assert found_late is not None and found_late.status is Status.SIGNED
    assert missed is not None and missed.status is Status.SENT
    assert healed.mode == "heal"
    repaired = store.get_document(later)
    assert repaired is not None and repaired.status is Status.SIGNED


def test_the_legacy_preset_reads_the_old_register(tmp_path: Path) -> None:
    base = make_base(60, generation="legacy")
    store = open_store(tmp_path)
    with serving(base) as emulator:
        report = sync(emulator, store, preset="bp30-legacy")
        # Older bases have no action journal; the signatures register is not published.
        # and neither the EDO library's kinds catalog.
        assert report.unpublished == sorted([JOURNAL, SIGNATURES, "Catalog_ВидыДокументовЭДО"])
        docs = {doc.id: doc for doc in store.iter_documents()}
        assert {doc.status_1c for doc in docs.values()} >= {
            "ОбменЗавершен",
            "ОжидаетсяПодтверждение",
        }
        assert Status.UNKNOWN not in {doc.status for doc in docs.values()}
        waiting = next(d for d in docs.values() if d.status_1c == "ОжидаетсяПодтверждение")
        base.advance(hours=1)
        base.reject(waiting.id)
        again = sync(emulator, store, preset="bp30-legacy")
    assert again.documents == 1
    rejected = store.get_document(waiting.id)
    assert rejected is not None and rejected.status_1c == "Отклонен"
    assert rejected.status is Status.REJECTED
    event = store.history(waiting.id)[-1]
    assert not event.historical and event.at == base.now.replace(tzinfo=MOSCOW)
    kinds = {doc.kind for doc in docs.values()}
    assert Kind.ACT in kinds and Kind.UPD in kinds  # the basis comes from СсылкаНаОбъект


def test_an_unknown_state_is_kept_raw_and_reported(tmp_path: Path) -> None:
    base = make_base(40)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        doc = next(d.id for d in store.iter_documents())
        base.advance(hours=1)
        base.set_state(doc, "ОжидаетсяРешенияСуда")
        report = sync(emulator, store)
    assert report.unknown_states == {"ОжидаетсяРешенияСуда": 1}
    assert report.unknown_documents == [doc]
    stored = store.get_document(doc)
    assert stored is not None and stored.status is Status.UNKNOWN
    assert stored.status_1c == "ОжидаетсяРешенияСуда"
    assert store.history(doc)[-1].to_status is Status.UNKNOWN


def test_state_overrides_from_the_config_win_over_the_preset(tmp_path: Path) -> None:
    base = make_base(40)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store, states={"ОжидаетсяПодтверждение": Status.CLOSED})
    statuses = {d.status for d in store.iter_documents() if d.status_1c == "ОжидаетсяПодтверждение"}
    assert statuses == {Status.CLOSED}


def test_without_the_journal_signers_and_times_come_from_the_state(tmp_path: Path) -> None:
    base = make_base(60, published=set(make_base(1).published) - {JOURNAL})
    store = open_store(tmp_path)
    with serving(base) as emulator:
        report = sync(emulator, store)
    assert report.unpublished == sorted([JOURNAL, SIGNATURES])
    signed = next(
        d
        for d in store.iter_documents()
        if d.status is Status.SIGNED and d.direction is Direction.OUTGOING
    )
    state = base.sets[STATES].get(signed.id)
    assert state is not None
    assert signed.counterparty_signed_at == signed.status_changed_at
    assert signed.status_changed_at is not None
    assert signed.status_changed_at.replace(tzinfo=None).isoformat() == state["ДатаИзменения"]
    assert {s.side for s in signed.signers} == {Side.OURS, Side.COUNTERPARTY}
    assert [e.to_raw for e in store.history(signed.id)] == ["ОбменЗавершен"]


def test_allowed_only_skips_restricted_rows_and_without_it_1c_denies(tmp_path: Path) -> None:
    from edo_rules.errors import SourceError

    base = make_base(80)
    hidden = base.sets["Catalog_Контрагенты"].rows[0]["Ref_Key"]
    base.restrict("Администратор", [hidden])
    visible = [r for r in base.sets[OUTGOING].rows if r["Контрагент_Key"] != hidden]
    store = open_store(tmp_path)
    with serving(base) as emulator:
        with pytest.raises(SourceError) as denied:
            sync(emulator, store, allowed_only=False)
        report = sync(emulator, open_store(tmp_path, "allowed.db"))
    assert denied.value.code == "20" and "allowed_only" in str(denied.value)
    assert not list(store.iter_documents())
    assert report.documents < 80
    assert report.documents >= len(visible)


def test_crm_bindings_survive_a_sync(tmp_path: Path) -> None:
    base = make_base(40)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        doc = next(d for d in store.iter_documents() if d.status is Status.SENT)
        store.upsert_documents([replace(doc, crm=CrmBinding(company_id=7, deal_id=42))])
        base.advance(hours=1)
        base.sign(doc.id)
        sync(emulator, store)
    stored = store.get_document(doc.id)
    assert stored is not None and stored.status is Status.SIGNED
    assert stored.crm == CrmBinding(company_id=7, deal_id=42)


def test_the_initial_load_reports_progress(tmp_path: Path) -> None:
    base = make_base(90)
    store = open_store(tmp_path)
    seen: list[tuple[int, int]] = []
    with serving(base) as emulator:
        source = OneCSource(
            settings_for(emulator),
            documents=store.get_documents,
            clock=clock_of(base),
            progress=lambda done, total: seen.append((done, total)),
        )
        pages = list(source.pages({}))
        source.close()
    assert seen[-1] == (90, 90)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert sum(len(page.documents) for page in pages) == 90


def test_run_sync_with_a_cyrillic_login_and_a_wrong_password(tmp_path: Path) -> None:
    from edo_rules.errors import SourceError

    base = make_base(10)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        with pytest.raises(SourceError) as caught:
            run_sync(settings_for(emulator, password="не-тот"), store, clock=clock_of(base))
        ok = sync(emulator, store)
    assert "HTTP 401" in str(caught.value) and "user и password" in str(caught.value)
    assert "не-тот" not in str(caught.value)
    assert not caught.value.retryable
    assert ok.documents == 10


def test_the_healing_reread_picks_up_edits_that_left_the_state_alone(tmp_path: Path) -> None:
    base = make_base(120)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        recent = max(base.sets[OUTGOING].rows, key=lambda row: row["Date"])["Ref_Key"]
        base.edit(recent, СуммаДокумента=12345.67)
        base.advance(hours=1)
        quiet = sync(emulator, store)
        unchanged = store.get_document(recent)
        base.advance(hours=25)
        healed = sync(emulator, store)
    assert quiet.documents == 0 and unchanged is not None and unchanged.amount != 12345
    assert healed.mode == "heal" and healed.events_added == 0
    edited = store.get_document(recent)
    assert edited is not None and str(edited.amount) == "12345.67"
    assert edited.version == base.document(recent)["DataVersion"]


def test_stored_documents_are_written_first_and_the_watermark_goes_with_the_last_page(
    tmp_path: Path,
) -> None:
    """An incremental sync of changed stored documents and documents first seen now.

    The stored ones come in their own pages (written while the new ones' catalogs and
    sales documents are still being read), the new ones last, and the watermark rides
    on the last page. The documents are those a full re-read of the same base finds.
    """
    base = make_base(150)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        sync(emulator, store)
        waiting = [d.id for d in store.iter_documents() if d.status_1c == "ОжидаетсяПодтверждение"]
        base.advance(hours=2)
        for doc in waiting[:25]:
            base.sign(doc)
        counterparty = base.add_counterparty("ООО «Новый»", "7701234567", "770101001")
        user = base.sets["Catalog_Пользователи"].rows[-1]["Ref_Key"]
        org = base.sets["Catalog_Организации"].rows[0]["Ref_Key"]
        new = [
            base.create_document(counterparty=counterparty, responsible=user, organization=org)
            for _ in range(3)
        ]
        # Small key chunks: the stored documents take several requests.
        source = OneCSource(
            settings_for(emulator, chunk_size=5),
            documents=store.get_documents,
            clock=clock_of(base),
        )
        pages = []
        try:
            for page in source.pages(store.get_sync_state()):
                pages.append(page)
                store.write_sync_page(page.documents, page.events, page.state)
        finally:
            source.close()
        again = open_store(tmp_path, "full.db")
        sync(emulator, again)
    ids = [[doc.id for doc in page.documents] for page in pages]
    assert sorted(doc for part in ids for doc in part) == sorted([*waiting[:25], *new])
    assert sorted(ids[-1]) == sorted(new)  # the new documents last, in one page
    assert all(set(part).isdisjoint(new) for part in ids[:-1])
    assert [WATERMARK in page.state for page in pages] == [False] * (len(pages) - 1) + [True]
    for doc in [*waiting[:25], *new]:
        ours, theirs = store.get_document(doc), again.get_document(doc)
        assert ours is not None and theirs is not None
        assert replace(ours, synced_at=theirs.synced_at) == theirs, doc
    assert store.get_document(new[0]).counterparty.name == "ООО «Новый»"  # type: ignore[union-attr]
