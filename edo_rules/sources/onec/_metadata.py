"""What the publication really has: the properties, types and keys read from ``$metadata``.

Publications differ (an EDO document with numbering off has no ``Number``,
library versions add or drop fields, an admin publishes some registers and
not others), so every ``$select``, ``$orderby`` and ``$filter`` is built only
from properties found here. The document is read once and cached in the
store's sync state with its hash (only the sets the sync reads, so a base with
thousands of objects costs a few kilobytes); it is read again after 1C names
an unknown property (the publication changed).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from xml.etree import ElementTree

from edo_rules._messages import msg
from edo_rules.errors import SourceError

log = logging.getLogger("edo_rules.sources.onec")

METADATA = "onec.metadata"
METADATA_HASH = "onec.metadata_hash"
METADATA_AT = "onec.metadata_at"  # when it was read: read again after heal_every


@dataclass(frozen=True, slots=True)
class Published:
    """Set → {property: EDM type}, set → key properties, and the hash of the document.

    ``navigations``: set → {navigation property: the set it leads to}, for the
    navigation properties whose target is one of the sets looked for.
    """

    types: Mapping[str, Mapping[str, str]]
    keys: Mapping[str, tuple[str, ...]]
    digest: str
    asked: tuple[str, ...] = ()  # the sets looked for (published or not)
    navigations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def published(self, entity_set: str) -> bool:
        return entity_set in self.types

    def has(self, entity_set: str, name: str) -> bool:
        return name in self.types.get(entity_set, {})

    def select(self, entity_set: str, wanted: Iterable[str]) -> tuple[str, ...]:
        """``wanted`` without the properties the set does not have (order kept)."""
        known = self.types.get(entity_set, {})
        return tuple(name for name in wanted if name in known)

    def missing(self, entity_set: str, wanted: Iterable[str]) -> list[str]:
        known = self.types.get(entity_set, {})
        return [name for name in wanted if name not in known]

    def target(self, entity_set: str, navigation: str) -> str | None:
        """The set the navigation property leads to, when ``$metadata`` declares it."""
        return self.navigations.get(entity_set, {}).get(navigation)

    def literal(self, entity_set: str, name: str, value: str) -> str:
        """A ``$filter`` literal of the property's type (``guid'…'``, ``datetime'…'``, ``'…'``).

        A composite reference is ``Edm.String`` with a sibling ``X_Type``; its
        value is a GUID, compared as a reference (``guid'…'``).
        """
        types = self.types.get(entity_set, {})
        edm = types.get(name, "Edm.Guid")
        if edm == "Edm.Guid" or f"{name}_Type" in types:
            return f"guid'{value}'"
        if edm == "Edm.DateTime":
            return f"datetime'{value}'"
        escaped = value.replace("'", "''")
        return f"'{escaped}'"

    def state(self) -> dict[str, str]:
        """The cache entry written to the store's sync state."""
        data = {
            "types": self.types,
            "keys": self.keys,
            "asked": self.asked,
            "navigations": self.navigations,
        }
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return {METADATA: text, METADATA_HASH: self.digest}

    @classmethod
    def from_state(cls, state: Mapping[str, str], wanted: Iterable[str]) -> Published | None:
        """The cached metadata, or None when there is none, it is damaged or lacks a set."""
        text, digest = state.get(METADATA), state.get(METADATA_HASH)
        if not text or not digest:
            return None
        try:
            data = json.loads(text)
            types = {
                str(k): {str(n): str(t) for n, t in v.items()} for k, v in data["types"].items()
            }
            keys = {str(k): tuple(str(n) for n in v) for k, v in data["keys"].items()}
            asked = tuple(str(name) for name in data["asked"])
            navigations = {
                str(k): {str(n): str(t) for n, t in v.items()}
                for k, v in data["navigations"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # damaged, or cached by a version that kept no navigation properties
        # A set wanted now but not looked for when cached: read the document again.
        if not set(wanted) <= set(asked):
            return None
        return cls(types, keys, digest, asked, navigations)


_EDMX = "{http://schemas.microsoft.com/ado/2007/06/edmx}"


def parse_metadata(body: bytes, wanted: Iterable[str], *, url: str = "") -> Published:
    """The types and keys of the ``wanted`` sets found in an EDMX ``$metadata`` document.

    A set absent from the document is simply not published. Entity types are
    found through the entity container, so a type named unlike its set works.
    """
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise SourceError(
            msg("onec_metadata_not_xml", error=str(exc)),
            url=url,
            retryable=True,
            hint=msg("onec_hint_check_url"),
        ) from exc
    schemas = [el for el in root.iter() if _local(el.tag) == "Schema"]
    if root.find(f"{_EDMX}DataServices") is None or not schemas:
        raise SourceError(msg("onec_metadata_no_schema"), url=url, hint=msg("onec_hint_check_url"))
    entity_types = {
        f"{schema.get('Namespace', '')}.{el.get('Name', '')}": el
        for schema in schemas
        for el in schema
        if _local(el.tag) == "EntityType"
    }
    containers = {
        el.get("Name", ""): el.get("EntityType", "")
        for el in root.iter()
        if _local(el.tag) == "EntitySet"
    }
    types: dict[str, dict[str, str]] = {}
    keys: dict[str, tuple[str, ...]] = {}
    asked = tuple(wanted)
    for name in asked:
        node = entity_types.get(containers.get(name, ""))
        if node is None:
            continue
        types[name], keys[name] = _properties(node)
    navigations = _navigations(schemas, containers, entity_types, types)
    return Published(types, keys, hashlib.sha256(body).hexdigest(), asked, navigations)


def _navigations(
    schemas: list[ElementTree.Element],
    containers: Mapping[str, str],
    entity_types: Mapping[str, ElementTree.Element],
    types: Mapping[str, object],
) -> dict[str, dict[str, str]]:
    """Set → {navigation property: target set}, both sets among those found.

    A navigation property names an association; the association's end with
    the property's ``ToRole`` names the target entity type, and the container
    names the set of that type.
    """
    set_of = {entity_type: name for name, entity_type in containers.items()}
    ends: dict[str, dict[str, str]] = {}
    for schema in schemas:
        namespace = schema.get("Namespace", "")
        for el in schema:
            if _local(el.tag) == "Association":
                roles = {e.get("Role", ""): e.get("Type", "") for e in el if _local(e.tag) == "End"}
                ends[f"{namespace}.{el.get('Name', '')}"] = roles
    result: dict[str, dict[str, str]] = {}
    for name in types:
        node = entity_types[containers[name]]
        for child in node:
            if _local(child.tag) != "NavigationProperty":
                continue
            roles = ends.get(child.get("Relationship", ""), {})
            target = set_of.get(roles.get(child.get("ToRole", ""), ""))
            if target is not None and target in types:
                result.setdefault(name, {})[child.get("Name", "")] = target
    return result


def _properties(node: ElementTree.Element) -> tuple[dict[str, str], tuple[str, ...]]:
    props: dict[str, str] = {}
    key: list[str] = []
    for child in node:
        tag = _local(child.tag)
        if tag == "Property":
            props[child.get("Name", "")] = child.get("Type", "Edm.String")
        elif tag == "Key":
            key.extend(ref.get("Name", "") for ref in child if _local(ref.tag) == "PropertyRef")
    return props, tuple(key)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
