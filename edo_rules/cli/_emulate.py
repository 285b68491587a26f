"""``edo-rules emulate 1c|bitrix24|all …``: run the bundled emulators in the foreground.

Each single emulator parses its own options (``edo_rules.emulators.<name>.cli.main``),
so this module only forwards the rest of the command line; ``all`` starts both,
wired to each other, and writes a ready config (``edo_rules.cli._emulate_all``).
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from edo_rules.cli._parser import Parser

_EMULATORS = {
    "1c": "edo_rules.emulators.onec.cli",
    "bitrix24": "edo_rules.emulators.bitrix24.cli",
    "all": "edo_rules.cli._emulate_all",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="run the 1C OData and/or Bitrix24 REST emulator on 127.0.0.1",
        description="Run a bundled emulator (a real HTTP server on loopback). `all` runs"
        " both, wired to each other, and writes a ready edo-rules.yaml. Use"
        " `edo-rules emulate 1c --help`, `… bitrix24 --help` or `… all --help` for options.",
    )
    parser.add_argument("system", choices=sorted(_EMULATORS), help="which system to emulate")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="options of that emulator")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.system == "all":
        return _run_all(list(args.args))
    module = importlib.import_module(_EMULATORS[args.system])
    return int(module.main(list(args.args)))


def _run_all(argv: list[str]) -> int:
    from edo_rules.cli import _emulate_all

    return _emulate_all.run(all_parser().parse_args(argv))


def all_parser() -> argparse.ArgumentParser:
    """The options of ``edo-rules emulate all``."""
    from edo_rules.cli import _emulate_all

    parser = Parser(
        prog="edo-rules emulate all",
        description="Run the 1C and Bitrix24 emulators wired to each other and write a"
        " ready config for them.",
    )
    _emulate_all.add_arguments(parser)
    return parser
