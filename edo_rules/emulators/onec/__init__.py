"""An emulated 1С:Бухгалтерия 3.0 standard OData interface (a real HTTP server on loopback).

Reproduces the documented behaviour of a real 1C server: the BP 3.0 EDO sets
with their Cyrillic names, the wire format, query options and their quirks,
the 1C error bodies, HTTP Basic auth with UTF-8 logins, and fault knobs.

>>> base = OneCBase(seed=1)
>>> refs = populate(base, documents=100)
>>> base.add_login("Администратор", "secret")
>>> with OneCEmulator(base) as emulator:
...     print(emulator.service_url)  # doctest: +SKIP
"""

from edo_rules.emulators.onec._base import OneCBase
from edo_rules.emulators.onec._conduct import Conduct
from edo_rules.emulators.onec._errors import ODataError
from edo_rules.emulators.onec._faults import Fault, Faults
from edo_rules.emulators.onec._generator import populate
from edo_rules.emulators.onec._publication import Publication
from edo_rules.emulators.onec._schema import (
    BP30_SETS,
    COUNTERPARTIES,
    INCOMING,
    JOURNAL,
    LEGACY_SETS,
    LEGACY_STATES,
    OBJECTS,
    OUTGOING,
    SALES,
    SIGNATURES,
    STATES,
)
from edo_rules.emulators.onec._server import OneCEmulator

__all__ = [
    "BP30_SETS",
    "COUNTERPARTIES",
    "INCOMING",
    "JOURNAL",
    "LEGACY_SETS",
    "LEGACY_STATES",
    "OBJECTS",
    "OUTGOING",
    "SALES",
    "SIGNATURES",
    "STATES",
    "Conduct",
    "Fault",
    "Faults",
    "ODataError",
    "OneCBase",
    "OneCEmulator",
    "Publication",
    "populate",
]
