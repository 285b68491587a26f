"""``edo-rules validate PATH...``: check playbooks and list every problem.

``edo-rules validate --config edo-rules.yaml`` checks the config file and the
playbooks it names together (and any PATH given too).

Exit status: 0 when every file is valid, 1 when any problem was found.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edo_rules._messages import msg, t
from edo_rules.cli._context import DEFAULT_CONFIG
from edo_rules.errors import PlaybookError, Problem
from edo_rules.playbook.loader import is_test_file, validate_paths
from edo_rules.testing import load_test


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check playbooks (files or folders of *.yaml/*.yml) and list every problem",
        description="Check playbooks without running them: YAML syntax, the schema, durations, "
        "expressions, templates, actions and their parameters, duplicate rule ids. "
        "Every problem is printed as file:line:col: path: message.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="a playbook file or a folder")
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        metavar="FILE",
        help="also check this config file, with the playbooks it names (without PATHs:"
        " ./edo-rules.yaml when present)",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="with --config: also check the Bitrix24 portal has the fields and the smart "
        "process the config needs (reads only; see `edo-rules bitrix24 setup`)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.config is None and not args.paths and Path(DEFAULT_CONFIG).is_file():
        args.config = Path(DEFAULT_CONFIG)  # the same default as every other command
    if args.config is not None:
        return _run_config(args)
    if not args.paths:
        print(t("validate_usage"), file=sys.stderr)
        raise SystemExit(2)  # a usage error, as argparse reports one
    tests = _test_files(args.paths)
    named_tests = {path.resolve() for path in tests}
    paths = [p for p in args.paths if Path(p).resolve() not in named_tests]
    result = validate_paths(paths) if paths else None
    problems = [*(result.problems if result else ()), *_test_problems(tests)]
    for problem in problems:
        print(problem)
    files = len(result.files if result else ()) + len(tests)
    if not files:
        print(t("validate_no_files"))
        return 1
    if problems:
        bad = len({p.file for p in problems})
        print(t("validate_problems", problems=len(problems), bad=bad, files=files))
        return 1
    rules = result.rule_count if result else 0
    extra = t("validate_tests", tests=len(tests)) if tests else ""
    print(t("validate_ok", files=files, rules=rules) + extra)
    return 0


def _test_files(paths: list[str]) -> list[Path]:
    """Playbook tests among the paths: named directly, or found in a folder."""
    found: list[Path] = []
    for path in map(Path, paths):
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        found += [
            p
            for p in candidates
            if p.suffix in (".yaml", ".yml") and p.is_file() and is_test_file(p)
        ]
    return found


def _test_problems(tests: list[Path]) -> list[Problem]:
    problems: list[Problem] = []
    for path in tests:
        try:
            spec = load_test(path)
        except PlaybookError as exc:
            problems.extend(exc.problems)
            continue
        problems += [
            Problem(str(path), 1, 1, "playbooks", msg("test_no_playbooks", path=p))
            for p in spec.playbooks
            if not p.exists()
        ]
    return problems


def _run_config(args: argparse.Namespace) -> int:
    from edo_rules._config_check import check_config

    checked = check_config(args.config, [Path(p) for p in args.paths])
    for warning in checked.warnings:
        print(t("validate_warning", warning=warning))
    for problem in checked.problems:
        print(problem)
    if checked.problems:
        bad = len({p.file for p in checked.problems})
        print(t("validate_problems_config", problems=len(checked.problems), bad=bad))
        return 1
    print(t("validate_ok_config", config=args.config, files=checked.files, rules=checked.rules))
    return _check_portal(args.config) if args.online else 0


def _check_portal(config: Path) -> int:
    from edo_rules.cli._bitrix24 import run_setup

    report = run_setup(config, "check")
    for step in report.problems:
        print(f"{config}: bitrix24: {step}")
    for note in report.notes:
        print(f"{config}: bitrix24: {t('b24_note', note=note)}")
    if report.problems:
        # Setup cannot add a universal list's fields: sending the admin there would mislead.
        by_setup = any(not step.by_hand for step in report.problems)
        key = "b24_portal_problems" if by_setup else "b24_portal_problems_by_hand"
        print(t(key, count=len(report.problems)))
        return 1
    print(t("b24_portal_ok"))
    return 0
