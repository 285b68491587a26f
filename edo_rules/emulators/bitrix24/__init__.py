"""The Bitrix24 REST emulator (``edo-rules emulate bitrix24``)."""

from edo_rules.emulators.bitrix24._auth import ALL_SCOPES
from edo_rules.emulators.bitrix24._faults import Fault
from edo_rules.emulators.bitrix24._limits import PLANS, PlanLimits
from edo_rules.emulators.bitrix24._portal import Portal
from edo_rules.emulators.bitrix24.server import Bitrix24Emulator

__all__ = ["ALL_SCOPES", "PLANS", "Bitrix24Emulator", "Fault", "PlanLimits", "Portal"]
