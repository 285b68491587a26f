"""``edo-rules validate PATH...``: check playbooks and list every problem.

Exit status: 0 when every file is valid, 1 when any problem was found.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a playbook file or a folder")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
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
