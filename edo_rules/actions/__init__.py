"""Action adapters: the protocol, the registry and the built-ins."""

from edo_rules.actions.base import Action

__all__ = ["Action"]
