"""``edo-rules emulate all``: both emulators wired to each other, and a ready config.

The 1C base is generated (documents over the last months); the Bitrix24 portal
is seeded from it (:func:`edo_rules.emulators.wired.wire`): the 1C users are
Bitrix24 users in departments with heads, the 1C counterparties are companies
with their ИНН and an open deal. The config written (``./edo-rules.yaml`` by
default) points at both and at ``./playbooks`` (a copy of the bundled playbooks
unless the folder exists), so ``sync``, ``tick``, ``agenda``… work at once.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from edo_rules._messages import t
from edo_rules._signals import wait_in_slices
from edo_rules.emulators.bitrix24._portal import DEMO_LIST_FIELDS
from edo_rules.errors import EdoRulesError

MARK = "# written by `edo-rules emulate all`: the emulators' addresses change at every start"
_LOGIN = "edo-rules"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--documents", type=int, default=300, help="1C documents to generate")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the 1C data")
    parser.add_argument(
        "--write",
        type=Path,
        default=Path("edo-rules.yaml"),
        metavar="FILE",
        help="where to write the config (default: ./edo-rules.yaml; a file this command"
        " wrote before is replaced, any other is left alone)",
    )
    parser.add_argument("--onec-port", type=int, default=0, help="1C port (default: a free one)")
    parser.add_argument(
        "--bitrix24-port", type=int, default=0, help="Bitrix24 port (default: a free one)"
    )


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Start, wire, write the config, print it, and serve until Ctrl-C (or ``stop``)."""
    from edo_rules.emulators.bitrix24 import Bitrix24Emulator
    from edo_rules.emulators.onec import OneCBase, OneCEmulator
    from edo_rules.emulators.onec._generator import populate
    from edo_rules.emulators.wired import wire

    _check_writable(args.write)
    base = OneCBase(seed=args.seed)
    password = secrets.token_urlsafe(12)
    base.add_login(_LOGIN, password)
    populate(base, args.documents)
    onec = OneCEmulator(base, port=args.onec_port).start()
    bitrix24 = Bitrix24Emulator(plan="enterprise", seed=None).start(port=args.bitrix24_port)
    try:
        wiring = wire(base, bitrix24.portal)
        text = config_text(onec, password, bitrix24.add_webhook(user_id=1), wiring)
        args.write.write_text(text, encoding="utf-8")
        _copy_playbooks(args.write.parent / "playbooks")
        print(t("emulate_ready", onec=onec.url, b24=bitrix24.url, config=args.write))
        print(text, flush=True)
        print(t("emulate_try", config=args.write), file=sys.stderr, flush=True)
        wait_in_slices(stop or threading.Event())  # Ctrl-C: KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        bitrix24.stop()
        onec.stop()
    return 0


def _copy_playbooks(folder: Path) -> None:
    """The bundled playbooks into ``folder``, unless the admin already has playbooks there."""
    from edo_rules.demo._playbooks import bundled_playbooks

    if not folder.exists():
        shutil.copytree(bundled_playbooks(), folder)  # with their tests/


def _check_writable(path: Path) -> None:
    if path.exists() and not path.read_text(encoding="utf-8").startswith(MARK):
        raise EdoRulesError(t("init_exists", path=path))


def config_text(onec: Any, password: str, webhook: str, wiring: Any) -> str:
    """The ready ``edo-rules.yaml`` for the running emulators."""
    data = {
        "version": 1,
        "timezone": "Europe/Moscow",
        "store": {"path": "edo-rules.db"},
        "playbooks": "playbooks/",
        "onec": {"url": onec.url, "base": onec.publication, "user": _LOGIN, "password": password},
        "bitrix24": {
            "webhook_url": webhook,
            "plan": "enterprise",
            "users": wiring.users,
            "fallback_user": 1,
            "deal": {"strategy": "latest_open"},
            "mirror": {"target": "list", "iblock_id": 42, "fields": DEMO_LIST_FIELDS},
            "accounting": {"department": wiring.accounting_department},
        },
    }
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return f"{MARK}\n{body}"
