"""edo-rules: EDO signing control for Bitrix24 CRM, on the Russian production calendar.

The public API is what ``__all__`` lists; ``tests/test_public_api.py`` pins it.
"""

from edo_rules.actions.base import Action
from edo_rules.calendar import ProductionCalendar
from edo_rules.config import Config, load_config
from edo_rules.engine import Engine, EvaluationResult, Explanation
from edo_rules.errors import (
    ActionError,
    CalendarError,
    CalendarWarning,
    ConfigError,
    EdoRulesError,
    LockError,
    PlaybookError,
    Problem,
    SourceError,
    StoreError,
)
from edo_rules.model import (
    ActionRequest,
    ContractRef,
    Counterparty,
    CrmBinding,
    Direction,
    Document,
    Firing,
    Kind,
    Outcome,
    OutcomeStatus,
    RequestState,
    Side,
    Signer,
    Status,
    StatusEvent,
)
from edo_rules.playbook import load_playbook, load_playbooks
from edo_rules.playbook.rules import Playbook, Rule
from edo_rules.sources.base import Source, SyncPage, sync
from edo_rules.sources.jsonl import JsonlSource
from edo_rules.store.base import Store
from edo_rules.store.sqlite import SQLiteStore

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ActionError",
    "ActionRequest",
    "CalendarError",
    "CalendarWarning",
    "Config",
    "ConfigError",
    "ContractRef",
    "Counterparty",
    "CrmBinding",
    "Direction",
    "Document",
    "EdoRulesError",
    "Engine",
    "EvaluationResult",
    "Explanation",
    "Firing",
    "JsonlSource",
    "Kind",
    "LockError",
    "Outcome",
    "OutcomeStatus",
    "Playbook",
    "PlaybookError",
    "Problem",
    "ProductionCalendar",
    "RequestState",
    "Rule",
    "SQLiteStore",
    "Side",
    "Signer",
    "Source",
    "SourceError",
    "Status",
    "StatusEvent",
    "Store",
    "StoreError",
    "SyncPage",
    "__version__",
    "load_config",
    "load_playbook",
    "load_playbooks",
    "sync",
]
