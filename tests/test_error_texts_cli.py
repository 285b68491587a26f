"""What an admin reads from the real CLI for one bad input of each error family.

Russian by default, the same error in English with ``--lang en``; the texts are
the catalogue's (edo_rules/_messages_errors.py), so a changed entry shows here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edo_rules.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_store_a_foreign_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    code, text = _run(["outbox", "--store", str(path)], capsys)
    assert code == 1
    assert text == (
        f"edo-rules: ошибка: {path} — база SQLite, но не хранилище edo-rules (в ней таблицы"
        " customers).\nЧто сделать: укажите в --store другой файл; если файла нет, edo-rules"
        " создаст новое хранилище.\n"
    )
    code, text = _run(["outbox", "--store", str(path), "--lang", "en"], capsys)
    assert code == 1
    assert text == (
        f"edo-rules: error: {path} is a SQLite database but not an edo-rules store (it has the"
        " tables customers).\nWhat to do: point --store at another file; edo-rules creates a"
        " new store when the file does not exist.\n"
    )
