"""``edo-rules test FILE...``: run playbook tests (scenarios in YAML) and report failures.

Each failure is printed as ``file:line: at 2024-05-06 09:00: expected … got …``
followed by the engine's explain for the documents involved. Exit status: 0
when every expectation holds, 1 when any fails or a test file is invalid.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
        print("no test files found (expected *.yaml or *.yml)")
        return 1
    passed = failed = 0
    for path in files:
        ok = _run_one(path)
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def _run_one(path: Path) -> bool:
    try:
        result = run_test(load_test(path))
    except PlaybookError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"FAIL {path}: the test or its playbooks do not load")
        return False
    except EdoRulesError as exc:
        print(f"FAIL {path}: {exc}")
        return False
    _report(result)
    return result.passed


def _report(result: TestResult) -> None:
    for failure in result.failures:
        print(failure.render())
    verdict = "ok  " if result.passed else "FAIL"
    print(f"{verdict} {result.file}: {result.expectations} expectation(s)")
