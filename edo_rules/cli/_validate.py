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

from edo_rules.playbook.loader import validate_paths


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
        help="also check this config file, with the playbooks it names",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.config is not None:
        return _run_config(args)
    if not args.paths:
        print("edo-rules validate: error: give playbook PATHs, or --config FILE", file=sys.stderr)
        raise SystemExit(2)  # a usage error, as argparse reports one
    result = validate_paths(args.paths)
    for problem in result.problems:
        print(problem)
    if not result.files:
        print("no playbook files found (expected *.yaml or *.yml)")
        return 1
    files = len(result.files)
    if result.problems:
        bad = len({p.file for p in result.problems})
        print(f"{len(result.problems)} problem(s) in {bad} of {files} file(s)")
        return 1
    print(f"OK: {files} file(s), {result.rule_count} rule(s)")
    return 0


def _run_config(args: argparse.Namespace) -> int:
    from edo_rules._config_check import check_config

    checked = check_config(args.config, [Path(p) for p in args.paths])
    for problem in checked.problems:
        print(problem)
    if checked.problems:
        bad = len({p.file for p in checked.problems})
        print(f"{len(checked.problems)} problem(s) in {bad} file(s)")
        return 1
    print(f"OK: {args.config} and {checked.files} playbook file(s), {checked.rules} rule(s)")
    return 0
