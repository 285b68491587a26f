"""Stores: the protocol and its implementations."""

from edo_rules.store.base import Store

__all__ = ["Store"]
