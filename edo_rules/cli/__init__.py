"""The ``edo-rules`` command: a thin shell over the library.

Each sub-command lives in its own module ``edo_rules.cli._<name>`` exposing
``register(subparsers)``; it parses arguments, calls one library function and
prints. This is the only place where errors become exit codes:

* 0 — all done; 1 — actions failed, the thing checked is invalid, or bad
  input (an :class:`~edo_rules.errors.EdoRulesError`: a broken config, an
  unknown document, a missing store); 2 — usage error (the command line);
  3 — partial: some actions wait for a retry (``tick``).

Admin-facing text is Russian by default; ``--lang en`` (before or after the
command) or ``EDO_RULES_LANG=en`` switches to English (see ``edo_rules._messages``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence

from edo_rules._messages import LANGUAGES, Lang, error_text, set_language, t
from edo_rules.cli._context import UsageError
from edo_rules.cli._parser import Parser
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
    "_agenda",
    "_docs",
    "_init",
    "_serve",
    "_report",
    "_store",
    "_runners",
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="edo-rules",
        description="Keep Bitrix24 CRM users on top of EDO signing.",
    )
    from edo_rules import __version__

    parser.add_argument("--version", action="version", version=f"edo-rules {__version__}")
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="the language of the output: ru (default) or en; also EDO_RULES_LANG",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"edo_rules.cli.{name}")
        module.register(subparsers)
    for sub in subparsers.choices.values():
        _add_lang(sub)
    return parser


def _add_lang(parser: argparse.ArgumentParser) -> None:
    """``--lang`` after the command too; ``SUPPRESS`` keeps a ``--lang`` given before it."""
    with contextlib.suppress(argparse.ArgumentError):  # the command defines its own
        parser.add_argument(
            "--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help="ru (default) or en"
        )
    for action in parser._actions:  # nested sub-commands (`outbox retry`) take it too
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_lang(sub)


def _lang_given(argv: Sequence[str]) -> Lang | None:
    """``--lang`` read ahead of the parser (an unknown value: the parser says so later)."""
    for index, word in enumerate(argv):
        if word == "--":
            break
        value = argv[index + 1] if word == "--lang" and index + 1 < len(argv) else None
        if word.startswith("--lang="):
            value = word.partition("=")[2]
        if value in LANGUAGES:
            return "en" if value == "en" else "ru"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    set_language(_lang_given(argv))  # the help and usage errors come from parse_args itself
    parser = build_parser()
    args = parser.parse_args(argv)
    set_language(getattr(args, "lang", None))
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(t("error", message=exc), file=sys.stderr)
        return 2
    except EdoRulesError as exc:
        print(t("error", message=error_text(str(exc))), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(t("interrupted"), file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
