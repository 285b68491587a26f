"""How the CLI names rules and documents: «key — описание» and «Договор № 183 от 02.11.2026».

Ids stay in ``--json``; people read titles. Built once per command from the
playbooks and the store (one ``get_documents`` call for the ids shown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from edo_rules import _display as show
from edo_rules._untrusted import printable
from edo_rules.store.base import Store


@dataclass(frozen=True, slots=True)
class Names:
    """Rule key → title, document id → title; an unknown key or id is shown as it is."""

    rules: Mapping[str, str] = field(default_factory=dict)
    documents: Mapping[str, str] = field(default_factory=dict)

    def rule(self, key: str) -> str:
        return self.rules.get(key, key)

    def doc(self, document_id: str) -> str:
        # a title holds 1C's number: escaped, so that it prints on its own line only
        return printable(self.documents.get(document_id, document_id))


def rule_titles(playbooks: Iterable[object]) -> dict[str, str]:
    """Rule key → ``key — описание`` for every rule of ``playbooks``."""
    return {
        rule.key: show.rule(rule.key, rule.description)
        for playbook in playbooks
        for rule in getattr(playbook, "rules", ())
    }


def document_titles(store: Store, ids: Iterable[str]) -> dict[str, str]:
    """Document id → its title, for the ids the store has."""
    return {doc_id: doc.title for doc_id, doc in store.get_documents(set(ids)).items()}
