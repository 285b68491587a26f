"""``edo-rules emulate 1c|bitrix24 …``: run a bundled emulator in the foreground.

Each emulator parses its own options (``edo_rules.emulators.<name>.cli.main``),
so this module only forwards the rest of the command line.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

_EMULATORS = {
    "1c": "edo_rules.emulators.onec.cli",
    "bitrix24": "edo_rules.emulators.bitrix24.cli",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="run the 1C OData or Bitrix24 REST emulator on 127.0.0.1",
        description="Run a bundled emulator (a real HTTP server on loopback). "
        "Use `edo-rules emulate 1c --help` or `edo-rules emulate bitrix24 --help` for options.",
    )
    parser.add_argument("system", choices=sorted(_EMULATORS), help="which system to emulate")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="options of that emulator")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    module = importlib.import_module(_EMULATORS[args.system])
    return int(module.main(list(args.args)))
