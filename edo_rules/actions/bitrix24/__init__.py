"""Bitrix24 REST: the client, its limits and retries, CRM binding and the actions.

Typical wiring (the runner does this)::

    settings = Bitrix24Settings.from_mapping(config["bitrix24"], where="edo-rules.yaml")
    actions = build_adapters(settings, store)
    outcomes = actions["notify"].execute(requests)
"""

from edo_rules.actions.bitrix24._bucket import ENTERPRISE, ORDINARY, LeakyBucket, Plan
from edo_rules.actions.bitrix24._factory import build_adapters, make_client
from edo_rules.actions.bitrix24._redact import Redactor
from edo_rules.actions.bitrix24.binding import Binding, CrmBinder, RecipientError
from edo_rules.actions.bitrix24.client import Bitrix24Client, Call, Reply, RetryPolicy
from edo_rules.actions.bitrix24.errors import Bitrix24Error, ErrorClass
from edo_rules.actions.bitrix24.oauth import OAuthAuth, TokenFile, TokenPair, WebhookAuth
from edo_rules.actions.bitrix24.settings import (
    Bitrix24Settings,
    DealBinding,
    MirrorSettings,
    OAuthSettings,
    Secret,
)

__all__ = [
    "ENTERPRISE",
    "ORDINARY",
    "Binding",
    "Bitrix24Client",
    "Bitrix24Error",
    "Bitrix24Settings",
    "Call",
    "CrmBinder",
    "DealBinding",
    "ErrorClass",
    "LeakyBucket",
    "MirrorSettings",
    "OAuthAuth",
    "OAuthSettings",
    "Plan",
    "RecipientError",
    "Redactor",
    "Reply",
    "RetryPolicy",
    "Secret",
    "TokenFile",
    "TokenPair",
    "WebhookAuth",
    "build_adapters",
    "make_client",
]
