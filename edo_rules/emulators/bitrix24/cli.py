"""``edo-rules emulate bitrix24 --port … --plan ordinary|enterprise --seed …``."""

from __future__ import annotations

import argparse
import ssl
from collections.abc import Sequence

from edo_rules.cli._parser import Parser
from edo_rules.emulators.bitrix24.server import Bitrix24Emulator


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="edo-rules emulate bitrix24",
        description="Run the Bitrix24 REST emulator on 127.0.0.1 and print its webhook URL.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument(
        "--plan",
        choices=["ordinary", "enterprise"],
        default="ordinary",
        help="request limits: ordinary 50 + 2/s, enterprise 250 + 5/s",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo portal data")
    parser.add_argument(
        "--operating-limit",
        type=float,
        default=480.0,
        help="seconds of processing per method per 10 minutes (default 480)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds each REST request takes end to end, like a portal across the internet",
    )
    parser.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="serve https:// with this certificate (chain) file; the official SDK needs it",
    )
    parser.add_argument("--tls-key", metavar="PEM", help="the certificate's private key file")
    return parser


def _tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    """A server TLS context from ``--tls-cert``/``--tls-key``; SystemExit with the reason."""
    if not args.tls_cert and not args.tls_key:
        return None
    if not args.tls_cert:
        raise SystemExit("edo-rules emulate bitrix24: --tls-key needs --tls-cert as well")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise SystemExit(
            f"edo-rules emulate bitrix24: cannot load the TLS certificate {args.tls_cert!r}: "
            f"{exc}; give a PEM certificate and its key (--tls-key when it is a separate file)"
        ) from None
    return context


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.latency < 0:
        raise SystemExit("edo-rules emulate bitrix24: --latency must be 0 or more seconds")
    emulator = Bitrix24Emulator(
        plan=args.plan,
        seed=args.seed,
        operating_limit=args.operating_limit,
        tls=_tls(args),
        latency=args.latency,
    )
    emulator.start(port=args.port)
    try:
        print(f"Bitrix24 emulator ({args.plan} plan) on {emulator.url}", flush=True)
        print(f"Webhook URL: {emulator.add_webhook()}", flush=True)
        print(
            "Mirror list: IBLOCK_ID 42; smart process: entityTypeId 1046; Ctrl-C to stop",
            flush=True,
        )
        _wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


def _wait() -> None:
    import threading

    from edo_rules._signals import wait_in_slices

    wait_in_slices(threading.Event())  # Ctrl-C: KeyboardInterrupt
