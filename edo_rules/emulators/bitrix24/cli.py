"""``edo-rules emulate bitrix24 --port … --plan ordinary|enterprise --seed …``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from edo_rules.emulators.bitrix24.server import Bitrix24Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C; returns the exit code."""
    args = _parser().parse_args(argv)
    emulator = Bitrix24Emulator(
        plan=args.plan, seed=args.seed, operating_limit=args.operating_limit
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

    threading.Event().wait()
