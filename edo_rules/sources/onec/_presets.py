"""Mapping presets: 1C states → canonical statuses, and how to tell a document's kind.

The presets are data (``presets/*.json``), organised by 1C's own summary
groups of states; a config can override single states. A state no preset
knows maps to :attr:`Status.UNKNOWN` and is reported, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from edo_rules._messages import msg
from edo_rules.errors import SourceError
from edo_rules.model import Kind, Status

#: Preset name → its data file in ``edo_rules/sources/onec/presets``.
PRESETS = {"bp30": "bp30.json", "bp30-legacy": "bp30-legacy.json"}


@dataclass(frozen=True, slots=True)
class Register:
    """Where the preset's state register keeps the fields the sync needs."""

    set: str
    document: str
    state: str
    changed_at: str | None  # None: no change date, the register is re-read whole
    comment: str | None
    basis: str | None  # the accounting document, when the register names it


@dataclass(frozen=True, slots=True)
class KindRules:
    """Document kind from the regulation type, then the basis document."""

    regulation: Mapping[str, Kind]
    basis: Mapping[str, Kind]
    sales_universal: Kind
    sales_operations: Mapping[str, Kind]
    sales_otherwise: Kind
    otherwise: Kind
    #: The EDO library's document kind (Catalog_ВидыДокументовЭДО by name) → our kind.
    edo_kinds: Mapping[str, Kind] = field(default_factory=dict)

    def of_basis(self, basis_set: str, sales: tuple[bool, str] | None) -> Kind:
        """The kind told by the basis document (``sales``: a sales document's flags)."""
        if basis_set == "Document_РеализацияТоваровУслуг":
            universal, operation = sales or (False, "")
            if universal:
                return self.sales_universal
            return self.sales_operations.get(operation, self.sales_otherwise)
        return self.basis.get(basis_set, self.otherwise)


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    register: Register
    states: Mapping[str, Status]
    groups: Mapping[str, str]
    missing_state: Status
    kinds: KindRules
    overridden: frozenset[str] = field(default_factory=frozenset)

    def status(self, state: str | None) -> Status:
        """The canonical status of a 1C state (UNKNOWN when no table has it)."""
        if not state:
            return self.missing_state
        return self.states.get(state, Status.UNKNOWN)


def load_preset(name: str, overrides: Mapping[str, Status] | None = None) -> Preset:
    """Load a bundled preset and apply per-state overrides from the config."""
    if name not in PRESETS:
        raise SourceError(
            msg("onec_unknown_preset", name=name),
            hint=msg("onec_hint_presets", names=", ".join(sorted(PRESETS))),
        )
    text = (
        resources.files("edo_rules.sources.onec")
        .joinpath("presets", PRESETS[name])
        .read_text("utf-8")
    )
    return _build(json.loads(text), overrides or {})


def _build(data: Mapping[str, Any], overrides: Mapping[str, Status]) -> Preset:
    states: dict[str, Status] = {}
    groups: dict[str, str] = {}
    for group in data["groups"]:
        for state in group["states"]:
            states[state] = Status(group["status"])
            groups[state] = group["group"]
        for state, status in group.get("exceptions", {}).items():
            states[state] = Status(status)
            groups[state] = group["group"]
    states.update(overrides)
    return Preset(
        name=data["name"],
        register=Register(**data["register"]),
        states=states,
        groups=groups,
        missing_state=Status(data["missing_state"]),
        kinds=_kinds(data["kinds"]),
        overridden=frozenset(overrides),
    )


def _kinds(data: Mapping[str, Any]) -> KindRules:
    sales = data["sales"]
    return KindRules(
        regulation={k: Kind(v) for k, v in data["regulation"].items()},
        basis={k: Kind(v) for k, v in data["basis"].items()},
        sales_universal=Kind(sales["universal"]),
        sales_operations={k: Kind(v) for k, v in sales["operations"].items()},
        sales_otherwise=Kind(sales["otherwise"]),
        otherwise=Kind(data["otherwise"]),
        edo_kinds={k: Kind(v) for k, v in data.get("edo_kinds", {}).items()},
    )
