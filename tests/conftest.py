"""Fixtures shared by many test files: the PostgreSQL database, the default language."""

import os
from collections.abc import Iterator

import pytest
from _pg_helpers import pg_database, pg_schema

from edo_rules._messages import set_language

__all__ = ["pg_database", "pg_schema"]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores. Most tests wait on emulators, runners
    and databases in processes of their own, so a third worker on two cores kept them busy
    (measured: the suite in 369 s instead of 521 s)."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files holding a ``slow`` test first, the rest in their order.

    Each file runs on one worker (``--dist loadfile``) and xdist hands the files out in
    collection order (``--no-loadscope-reorder``; its default puts the files with the most
    tests first, which left the few minute-long ones to the end, one worker busy with
    them while the other idled). Started first, they run beside the short files.
    """
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: the rest keep their order


@pytest.fixture(autouse=True)
def _default_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts in the default language (Russian): `main([..., "--lang", "en"])`
    sets the process's language, and errors render in the language in force."""
    monkeypatch.delenv("EDO_RULES_LANG", raising=False)
    set_language(None)
    yield
    set_language(None)
