"""edo-rules: EDO signing control for Bitrix24 CRM, on the Russian production calendar.

The public API is what ``__all__`` lists; ``tests/test_public_api.py`` pins it.
"""

from edo_rules.calendar import ProductionCalendar
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

__version__ = "0.1.0"

__all__ = [
    "ActionError",
    "ActionRequest",
    "CalendarError",
    "CalendarWarning",
    "ConfigError",
    "ContractRef",
    "Counterparty",
    "CrmBinding",
    "Direction",
    "Document",
    "EdoRulesError",
    "Firing",
    "Kind",
    "LockError",
    "Outcome",
    "OutcomeStatus",
    "PlaybookError",
    "Problem",
    "ProductionCalendar",
    "RequestState",
    "Side",
    "Signer",
    "SourceError",
    "Status",
    "StatusEvent",
    "StoreError",
    "__version__",
]
