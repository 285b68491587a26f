"""Fixtures of the conformance tests: the bundled emulators driven by clients others wrote.

Each test names the public fact it checks in its docstring, with the source;
docs/development.md ("Emulator facts and sources") lists them all.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from edo_rules.emulators.bitrix24 import Bitrix24Emulator, PlanLimits

# The shared helpers of the project's tests live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: Conformance runs check answers, not pacing: a bucket that never refuses.
FAST = PlanLimits(capacity=10_000, rate=10_000.0)


@pytest.fixture
def portal() -> Iterator[Bitrix24Emulator]:
    """The seeded demo portal over plain HTTP."""
    emulator = Bitrix24Emulator(seed=1, plan=FAST).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@dataclass(frozen=True)
class TlsPortal:
    emulator: Bitrix24Emulator
    ca_file: Path  # the throwaway CA that signed the emulator's certificate


@pytest.fixture
def tls_portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsPortal]:
    """The seeded portal over HTTPS with a certificate from a CA made for this test only.

    ``requests`` (the official SDK's transport) trusts the CA through
    ``REQUESTS_CA_BUNDLE``; httpx is given it explicitly.
    """
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    emulator = Bitrix24Emulator(seed=1, plan=FAST, tls=context).start()
    try:
        yield TlsPortal(emulator, ca_file)
    finally:
        emulator.stop()
