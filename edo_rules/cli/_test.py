"""``edo-rules test FILE...``: run playbook tests (scenarios in YAML) and report failures.

Each failure is printed as ``file:line: на 2024-05-06 09:00: ожидалось … получено …``
(in the admin's language) followed by the explain of the documents involved. Exit status: 0
when every expectation holds, 1 when any fails or a test file is invalid.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from edo_rules._messages import error_text, t
from edo_rules.cli._explain_text import render
from edo_rules.errors import EdoRulesError, PlaybookError
from edo_rules.testing import TestResult, load_test, run_test


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "test",
        help="run playbook tests: scenarios in YAML with expected firings and actions",
        description="Run playbook tests (see docs/playbooks.md, «Тесты плейбуков»): each file"
        " gives documents, status changes and what must fire at given moments; the engine"
        " runs on a scratch store with no network. Folders are searched for *.yaml/*.yml.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a test file or a folder")
    parser.set_defaults(func=_run)


def test_files(paths: list[str]) -> list[Path]:
    """The files named, and the *.yaml/*.yml files of the folders named, sorted."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return found


def _run(args: argparse.Namespace) -> int:
    files = test_files(args.paths)
    if not files:
        print(t("test_no_files"))
        return 1
    passed = failed = 0
    for path in files:
        ok = _run_one(path)
        passed, failed = passed + ok, failed + (not ok)
    print(t("test_summary", passed=passed, failed=failed))
    return 0 if failed == 0 else 1


def _run_one(path: Path) -> bool:
    try:
        result = run_test(load_test(path))
    except PlaybookError as exc:
        for problem in exc.problems:
            print(problem)
        print(t("test_not_loading", file=path))
        return False
    except EdoRulesError as exc:
        print(t("test_error", file=path, message=error_text(str(exc))))
        return False
    _report(result)
    return result.passed


def _report(result: TestResult) -> None:
    for failure in result.failures:
        print(failure.render(lambda explanation: render(explanation, result.zone)))
    key = "test_ok" if result.passed else "test_fail"
    print(t(key, file=result.file, count=result.expectations))
