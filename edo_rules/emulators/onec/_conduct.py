"""Where public sources do not settle what a real 1C server does, both answers are selectable.

The defaults are the stricter reading; tests run the project's client against
both (docs/development.md, "Emulator facts and sources").
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

#: Whether the request being answered may compare references with gt/ge/lt/le.
KEY_RANGE: ContextVar[bool] = ContextVar("onec_key_range", default=False)


@dataclass(frozen=True, slots=True)
class Conduct:
    """The unverified behaviours of the emulated server.

    ``accept_json``: answer JSON when only ``Accept: application/json`` asks for
    it (no ``$format``). Two clients written against real bases rely on it and
    OData v3 allows it; 1C's documentation speaks only of ``$format``.

    ``key_range``: the answer to ``Ref_Key gt guid'…'`` — ``"error"`` (a platform
    failure, «Нельзя сравнивать поля неограниченной длины», seen in the field)
    or ``"compare"`` (the references compared as strings).

    ``expand``: ``$expand`` on a collection — ``"expand"`` (nested objects, as the
    platform documents it), ``"refuse"`` (400 code 14, the answer to an option
    the server does not know) or ``"ignore"`` (the rows come back as if
    ``$expand`` had not been asked, as an older publication may). Which
    versions or web-server setups refuse it, and how, no public source says.
    """

    accept_json: bool = False
    key_range: Literal["error", "compare"] = "error"
    expand: Literal["expand", "refuse", "ignore"] = "expand"
