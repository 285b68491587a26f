"""Value encodings exactly as the 1C OData interface writes them."""

from __future__ import annotations

import base64
import random
import uuid
from datetime import datetime

#: 1C's "no reference" value.
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
#: 1C's "no date" value.
EMPTY_DATE = "0001-01-01T00:00:00"
#: The namespace some platform versions put before a composite reference's type.
TYPE_PREFIX = "StandardODATA."


def fmt_dt(value: datetime | None) -> str:
    """A naive server-local time as 1C writes it (no zone), or the empty date."""
    if value is None:
        return EMPTY_DATE
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def new_guid(rng: random.Random) -> str:
    """A deterministic (seeded) GUID in 1C's lower-case form."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def data_version(counter: int) -> str:
    """An opaque base64 DataVersion, as 1C sends it (only equality is meaningful)."""
    return base64.b64encode(counter.to_bytes(8, "big")).decode("ascii")


def composite_type(set_name: str, *, prefixed: bool) -> str:
    """The ``Поле_Type`` value of a composite reference, with or without the prefix."""
    return f"{TYPE_PREFIX}{set_name}" if prefixed else set_name


def nav_link(set_name: str, key: str, field: str) -> str:
    """The ``Поле@navigationLinkUrl`` value of a reference field."""
    return f"{set_name}(guid'{key}')/{field}"
