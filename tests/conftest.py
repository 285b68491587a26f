"""Fixtures shared by many test files: the PostgreSQL database, the default language."""

from collections.abc import Iterator

import pytest
from _pg_helpers import pg_database, pg_schema

from edo_rules._messages import set_language

__all__ = ["pg_database", "pg_schema"]


@pytest.fixture(autouse=True)
def _default_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts in the default language (Russian): `main([..., "--lang", "en"])`
    sets the process's language, and errors render in the language in force."""
    monkeypatch.delenv("EDO_RULES_LANG", raising=False)
    set_language(None)
    yield
    set_language(None)
