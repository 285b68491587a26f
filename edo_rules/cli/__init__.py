"""The ``edo-rules`` command: a thin shell over the library.

Each sub-command lives in its own module ``edo_rules.cli._<name>`` exposing
``register(subparsers)``; it parses arguments, calls one library function and
prints. This is the only place where errors become exit codes:

* 0 — success; 1 — the thing checked is invalid (``validate``) or a check
  failed; 2 — usage error or an :class:`~edo_rules.errors.EdoRulesError`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from edo_rules.errors import EdoRulesError

#: Sub-command modules, in the order shown by ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "_demo",
    "_run",
    "_tick",
    "_simulate",
    "_diff",
    "_sync",
    "_validate",
    "_test",
    "_explain",
    "_history",
    "_snooze",
    "_unsnooze",
    "_outbox",
    "_calendar",
    "_emulate",
    "_bitrix24",
    "_golive",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edo-rules",
        description="Keep Bitrix24 CRM users on top of EDO signing.",
    )
    from edo_rules import __version__

    parser.add_argument("--version", action="version", version=f"edo-rules {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"edo_rules.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except EdoRulesError as exc:
        print(f"edo-rules: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("edo-rules: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
