"""Queries built from what the publication has: required and optional properties.

Every ``$select``, ``$orderby`` and ``$filter`` of the sync goes through a
:class:`Reading`, which keeps only the properties ``$metadata`` lists. A
missing required property (or set) stops the sync with one error naming all
of them and what to publish; a missing optional one leaves that part of the
model empty and is reported once in the sync summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from edo_rules._messages import Joined, Text, msg
from edo_rules.errors import SourceError
from edo_rules.sources.onec import _sets as sets
from edo_rules.sources.onec._errors import describe_set
from edo_rules.sources.onec._metadata import Published
from edo_rules.sources.onec._presets import Preset

#: Properties without which a set cannot be read at all.
REQUIRED: dict[str, tuple[str, ...]] = {
    sets.OUTGOING: ("Ref_Key", "DataVersion", "Date"),
    sets.INCOMING: ("Ref_Key", "DataVersion", "Date"),
    sets.COUNTERPARTIES: ("Ref_Key", "Description"),
}
#: The state registers of each preset generation (to tell which one a base has).
REGISTERS = {"bp30": sets.STATES, "bp30-legacy": sets.LEGACY_STATES}
#: Every set the sync may read: the ``$metadata`` cache covers these.
WANTED: tuple[str, ...] = (
    sets.OUTGOING,
    sets.INCOMING,
    sets.STATES,
    sets.LEGACY_STATES,
    sets.OBJECTS,
    sets.JOURNAL,
    sets.SIGNATURES,
    sets.COUNTERPARTIES,
    sets.CONTRACTS,
    sets.USERS,
    sets.ORGANIZATIONS,
    sets.SALES,
    sets.EDO_KINDS,
)


class Reading:
    """Select lists, orders and literals of one sync, from the publication's metadata."""

    def __init__(self, published: Published):
        self.published = published
        #: Optional properties the publication lacks, by set (for the summary, once).
        self.missing: dict[str, set[str]] = {}

    def select(self, entity_set: str, wanted: Iterable[str]) -> tuple[str, ...]:
        wanted = tuple(wanted)
        found = self.published.select(entity_set, wanted)
        if len(found) != len(wanted) and self.published.published(entity_set):
            absent = set(wanted) - set(found)
            self.missing.setdefault(entity_set, set()).update(absent)
        return found

    def order(self, entity_set: str, *names: str) -> str | None:
        """``A asc,B asc`` over the ``names`` the set has (never an absent property)."""
        present = [name for name in names if self.published.has(entity_set, name)]
        return ",".join(f"{name} asc" for name in present) or None

    def literal(self, entity_set: str, field: str) -> Callable[[str], str]:
        return lambda value: self.published.literal(entity_set, field, value)

    def published_set(self, entity_set: str) -> bool:
        return self.published.published(entity_set)

    def missing_report(self) -> list[str]:
        """``Set.Property`` of every optional property that was absent."""
        return sorted(
            f"{name}.{field}" for name, fields in self.missing.items() for field in fields
        )

    def check(self, preset: Preset) -> None:
        """Raise one SourceError naming every required set or property the publication lacks."""
        register = preset.register
        self._check_generation(preset)
        problems: list[Text | str] = []
        required = {**REQUIRED, register.set: (register.document, register.state)}
        if register.changed_at:
            required[register.set] += (register.changed_at,)
        for entity_set, fields in required.items():
            if not self.published.published(entity_set):
                problems.append(msg("onec_set_not_published", set=describe_set(entity_set)))
                continue
            for field in self.published.missing(entity_set, fields):
                problems.append(msg("onec_no_property", set=entity_set, field=field))
        if problems:
            raise SourceError(
                msg("onec_publication_lacks", problems=Joined(tuple(problems), "; ")),
                hint=msg("onec_hint_publish_sets"),
            )

    def _check_generation(self, preset: Preset) -> None:
        """A preset for the other library generation: say which preset the base needs."""
        own = preset.register.set
        if self.published.published(own):
            return
        for name, register in REGISTERS.items():
            if register != own and self.published.published(register):
                raise SourceError(
                    msg("onec_wrong_generation", preset=preset.name, own=own, register=register),
                    hint=msg("onec_hint_use_preset", name=name),
                )
