"""``edo-rules emulate 1c``: serve an emulated 1C base in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from edo_rules.cli._parser import Parser
from edo_rules.emulators.onec._base import OneCBase
from edo_rules.emulators.onec._faults import Faults
from edo_rules.emulators.onec._generator import populate
from edo_rules.emulators.onec._publication import Publication
from edo_rules.emulators.onec._schema import BP30_SETS, LEGACY_SETS, SIGNATURES
from edo_rules.emulators.onec._server import OneCEmulator


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="edo-rules emulate 1c",
        description="Serve an emulated 1С:Бухгалтерия 3.0 OData publication on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--base", default="buh", help="publication name (default: buh)")
    parser.add_argument("--documents", type=int, default=300, help="EDO documents to generate")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generated data")
    parser.add_argument("--user", default="odata", help="login of the OData user (UTF-8 is fine)")
    parser.add_argument("--password", default="odata", help="password of the OData user")
    parser.add_argument(
        "--legacy", action="store_true", help="an older base: register СостоянияЭД, no journal"
    )
    parser.add_argument(
        "--no-number",
        action="store_true",
        help="publication variant: EDO documents without the standard Number (numbering off)",
    )
    parser.add_argument(
        "--current-flag",
        action="store_true",
        help="publication variant: several accounting-object rows per document, flag Актуальный",
    )
    parser.add_argument(
        "--signatures",
        action="store_true",
        help="publish the register ЭлектронныеПодписи (signer names of the counterparty)",
    )
    parser.add_argument(
        "--slow-first",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="delay the first data request (a cold 1C server)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="add this delay to every data request (a real 1C answers in 0.1-2 s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator; prints the service URL and serves until interrupted."""
    args = build_parser().parse_args(argv)
    generation = "legacy" if args.legacy else "bp30"
    default = LEGACY_SETS if args.legacy else BP30_SETS
    base = OneCBase(
        generation=generation,
        seed=args.seed,
        publication=Publication(numbered=not args.no_number, current_flag=args.current_flag),
        published=(*default, SIGNATURES) if args.signatures else None,
    )
    base.add_login(args.user, args.password)
    populate(base, args.documents)
    emulator = OneCEmulator(
        base,
        publication=args.base,
        port=args.port,
        faults=Faults(first_request_delay=args.slow_first, latency=args.latency),
    )
    print(emulator.service_url, flush=True)
    print(f"{args.documents} documents, user {args.user!r}; Ctrl-C to stop", file=sys.stderr)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
