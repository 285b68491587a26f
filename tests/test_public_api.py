"""The public API is exactly what ``edo_rules.__all__`` lists."""

from __future__ import annotations

import edo_rules

EXPECTED = {
    # errors
    "EdoRulesError", "CalendarError", "CalendarWarning", "ConfigError", "PlaybookError",
    "Problem", "SourceError", "StoreError", "ActionError", "LockError",
    # the canonical model
    "Document", "StatusEvent", "Firing", "ActionRequest", "Outcome", "OutcomeStatus",
    "RequestState", "Kind", "Direction", "Status", "Side", "Signer", "Counterparty",
    "ContractRef", "CrmBinding",
    # plug-in points and their defaults
    "Store", "SQLiteStore", "Source", "SyncPage", "sync", "JsonlSource", "Action",
    # calendar, playbooks, engine, config
    "ProductionCalendar", "load_playbook", "load_playbooks", "Playbook", "Rule",
    "Engine", "EvaluationResult", "Explanation", "Config", "load_config",
    "__version__",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(edo_rules.__all__) == EXPECTED


def test_every_exported_name_exists_and_is_documented() -> None:
    for name in edo_rules.__all__:
        member = getattr(edo_rules, name)
        if name != "__version__" and not isinstance(member, str):
            assert member.__doc__, f"edo_rules.{name} has no docstring"


def test_exported_members_say_they_belong_to_the_package() -> None:
    for name in edo_rules.__all__:
        module = getattr(getattr(edo_rules, name), "__module__", "edo_rules")
        assert module.startswith("edo_rules"), (name, module)
