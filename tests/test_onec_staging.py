"""The initial load's staging file: rows read back per page as dictionaries would give them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from _onec_helpers import make_base, open_store, serving, sync

from edo_rules.sources.onec._lookups import StateRow
from edo_rules.sources.onec._staging import Staging


def test_rows_come_back_by_document_in_the_order_sent_and_a_later_state_wins() -> None:
    staging = Staging()
    try:
        staging.state(StateRow("a", "Set", "Первое", "2026-01-01T00:00:00", "", None))
        staging.state(StateRow("a", "Set", "Второе", "2026-01-02T00:00:00", "", ("K", "r")))
        staging.state(StateRow("b", None, "Третье", None, "x", None))
        for number in range(3):
            staging.action("a", f"2026-01-0{number + 1}T00:00:00", f"s{number}", None)
        staging.link("a", "Catalog_ДоговорыКонтрагентов", "c", None)
        staging.link("a", "Document_РеализацияТоваровУслуг", "s", True)
        staging.sale("s", True, "Услуги")
        staging.finish()
        states = staging.states(["a", "b", "missing"])
        assert states["a"].state == "Второе" and states["a"].basis == ("K", "r")
        assert states["b"].basis is None and set(states) == {"a", "b"}
        assert [row[2] for row in staging.actions(["a"])] == ["s0", "s1", "s2"]
        assert [row[2] for row in staging.links(["a"])] == ["c", "s"]
        assert staging.links(["a"])[1][3] is True and staging.links(["a"])[0][3] is None
        assert staging.sales(["s"]) == {"s": (True, "Услуги")}
        assert staging.count() == 2 and staging.latest() == "2026-01-02T00:00:00"
    finally:
        staging.close()


def test_a_full_sync_leaves_no_staging_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    base = make_base(50)
    store = open_store(tmp_path)
    with serving(base) as emulator:
        report = sync(emulator, store)
    assert report.documents == 50
    assert not list(scratch.iterdir())
