"""The ``bitrix24:`` section of edo-rules.yaml, parsed once into frozen settings.

Example (see docs/bitrix24.md for every key)::

    bitrix24:
      webhook_url_env: B24_WEBHOOK        # or webhook_url: https://…/rest/1/secret/
      plan: ordinary                      # ordinary | enterprise | {capacity: 50, rate: 2}
      users: {"Иванов Иван": 7}            # 1C responsible → Bitrix24 user id
      fallback_user: 1
      deal: {strategy: field, field: UF_CRM_1C_CONTRACT, value: contract_number}
      mirror: {target: list, iblock_id: 42, fields: {status: PROPERTY_101}}
      cache_ttl: 3600
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edo_rules._messages import msg
from edo_rules.actions.bitrix24._bucket import PLANS, Plan
from edo_rules.actions.bitrix24._card_settings import (
    AccountingSettings,
    CardSettings,
    read_accounting,
    read_card,
)
from edo_rules.actions.bitrix24._settings_reader import Reader
from edo_rules.errors import ConfigError

DealStrategy = Literal["field", "latest_open", "none"]
DealValue = Literal["contract_number", "document_id", "basis"]
MirrorTarget = Literal["list", "smart_process"]

#: Document facts the mirror can write; the config maps each to a Bitrix24 field.
MIRROR_FIELDS: tuple[str, ...] = (
    "title",
    "kind",
    "number",
    "date",
    "counterparty",
    "inn",
    "amount",
    "status",
    "status_1c",
    "signers",
    "sent_at",
    "our_signed_at",
    "counterparty_signed_at",
    "rejected_at",
    "pdf_url",
    "overdue",
    "company",
    "deal",
    "status_code",
    "kind_code",
    "responsible",
)

_SMART_DEFAULTS = {
    "title": "title",
    "company": "companyId",
    "deal": "parentId2",
    "responsible": "assignedById",
}
_LIST_DEFAULTS = {"title": "NAME"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Secret:
    """A credential: its repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class OAuthSettings:
    """An OAuth application: the token pair lives in ``token_file`` (rewritten on refresh)."""

    portal_url: str
    client_id: str
    client_secret: Secret
    token_file: Path
    server_url: str = "https://oauth.bitrix.info"


@dataclass(frozen=True, slots=True)
class DealBinding:
    """How a document finds its deal: a deal field with a 1C value, the latest open deal, none."""

    strategy: DealStrategy = "latest_open"
    field: str | None = None
    value: DealValue = "contract_number"


@dataclass(frozen=True, slots=True)
class MirrorSettings:
    """Where ``mirror`` writes: a universal list (iblock) or a smart process, and the field map."""

    target: MirrorTarget
    fields: Mapping[str, str]
    iblock_id: int | None = None
    iblock_code: str | None = None
    iblock_type: str = "lists"
    entity_type_id: int | None = None
    #: The smart process's category whose stages mirror the statuses (see ``bitrix24 setup``).
    category_id: int | None = None
    title: str = "Документы ЭДО"


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """One digest message per user per working day, and the per-recipient flood limits.

    ``hour``: the first working hour (local time in ``timezone``) when digests
    go out; ``users``: Bitrix24 users who get every notification as a digest;
    ``per_tick``/``per_day``: immediate notifications one user may get from one
    tick / in one day before the rest are folded into the digest; ``admin``:
    who is told (once per user and day) that the limit was reached.
    """

    hour: int = 9
    users: frozenset[int] = frozenset()
    per_tick: int = 10
    per_day: int = 30
    admin: int | None = None
    #: A user's own time zone for the digest hour (others: ``bitrix24.timezone``).
    zones: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bitrix24Settings:
    """Everything the Bitrix24 actions need; build with :meth:`from_mapping`."""

    webhook_url: Secret | None = None
    oauth: OAuthSettings | None = None
    plan: Plan = PLANS["ordinary"]
    client_id: str = "edo-rules"
    users: Mapping[str, int] = field(default_factory=dict)
    fallback_user: int | None = None
    deal: DealBinding = field(default_factory=DealBinding)
    mirror: MirrorSettings | None = None
    cache_ttl: float = 3600.0
    timeout: float = 60.0
    #: The whole of one request (connect, headers, body) ends by then, however the portal drips.
    request_deadline: float = 120.0
    #: The largest answer read for one request (decoded), in MB.
    max_response_mb: float = 16.0
    #: ``batch`` requests on the wire at once (each still paced by the plan's bucket).
    in_flight: int = 4
    timezone: str = "Europe/Moscow"
    working_day_end_hour: int = 18
    card: CardSettings | None = field(default_factory=CardSettings)
    accounting: AccountingSettings | None = None
    #: Digests and the flood guard (see docs/bitrix24.md, «Сводки и защита от потока»).
    digest: DigestSettings = field(default_factory=DigestSettings)

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any], *, where: str, env: Mapping[str, str] | None = None
    ) -> Bitrix24Settings:
        """Parse the section; raise :class:`ConfigError` listing every problem at once.

        ``where`` names the config file; secrets named by ``*_env`` keys are
        read from ``env`` (default: the process environment).
        """
        reader = Reader(
            mapping, file=where, path="bitrix24", env=os.environ if env is None else env
        )
        settings = _build(reader)
        if reader.problems:
            raise ConfigError(reader.problems)
        return settings


def _build(reader: Reader) -> Bitrix24Settings:
    reader.allow(
        "webhook_url webhook_url_env oauth plan client_id users fallback_user deal mirror "
        "cache_ttl timeout request_deadline max_response_mb in_flight timezone "
        "working_day_end_hour card accounting digest flood_guard"
    )
    webhook = reader.secret("webhook_url")
    oauth = _oauth(reader.child("oauth")) if reader.has("oauth") else None
    given = reader.has("webhook_url") or reader.has("webhook_url_env")
    if given == reader.has("oauth"):  # a broken value was reported already; do not repeat
        reader.problem("", msg("b24_set_auth"))
    if webhook is not None:
        _check_url(reader, "webhook_url", webhook.reveal(), webhook=True)
    return Bitrix24Settings(
        webhook_url=webhook,
        oauth=oauth,
        plan=_plan(reader),
        client_id=reader.string("client_id", "edo-rules"),
        users=reader.user_map("users"),
        fallback_user=reader.user_id("fallback_user"),
        deal=_deal(reader.child("deal")) if reader.has("deal") else DealBinding(),
        mirror=_mirror(reader.child("mirror")) if reader.has("mirror") else None,
        cache_ttl=reader.number("cache_ttl", 3600.0),
        timeout=reader.number("timeout", 60.0),
        request_deadline=reader.number("request_deadline", 120.0),
        max_response_mb=reader.number("max_response_mb", 16.0),
        in_flight=_in_flight(reader),
        timezone=reader.string("timezone", "Europe/Moscow"),
        working_day_end_hour=int(reader.number("working_day_end_hour", 18)),
        card=read_card(reader.child("card")) if reader.has("card") else CardSettings(),
        accounting=(
            read_accounting(reader.child("accounting")) if reader.has("accounting") else None
        ),
        digest=_digest(reader)
        if reader.has("digest") or reader.has("flood_guard")
        else DigestSettings(),
    )


#: More batches at once than this would only wait in the rate bucket: the plans
#: drain 2 or 5 requests a second, so even a 2-second round trip needs ≤ 10.
_MAX_IN_FLIGHT = 16


def _in_flight(reader: Reader) -> int:
    value = reader.number("in_flight", 4)
    if value != int(value) or not 1 <= value <= _MAX_IN_FLIGHT:
        reader.problem(
            "in_flight",
            f"must be a whole number from 1 to {_MAX_IN_FLIGHT} (batches sent at once),"
            f" got {value!r}",
        )
        return 4
    return int(value)


def _digest(reader: Reader) -> DigestSettings:
    empty = Reader({}, file="", path="", env={})
    digest = reader.child("digest") if reader.has("digest") else empty
    flood = reader.child("flood_guard") if reader.has("flood_guard") else empty
    digest.allow("hour users zones")
    flood.allow("per_tick per_day admin")
    hour = int(digest.number("hour", 9))
    if not 0 < hour < 24:
        digest.problem("hour", msg("b24_set_hour", value=hour))
        hour = 9
    users = digest.raw("users", [])
    if not isinstance(users, list) or not all(
        isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in users
    ):
        digest.problem("users", msg("b24_set_users", value=users))
        users = []
    return DigestSettings(
        zones=_zones(digest),
        hour=hour,
        users=frozenset(users),
        per_tick=int(flood.number("per_tick", 10)),
        per_day=int(flood.number("per_day", 30)),
        admin=flood.user_id("admin"),
    )


def _zones(reader: Reader) -> dict[int, str]:
    raw = reader.raw("zones", {})
    zones: dict[int, str] = {}
    if not isinstance(raw, Mapping):
        reader.problem("zones", msg("b24_set_zones", value=raw))
        return zones
    for user, name in raw.items():
        try:
            ZoneInfo(str(name))
            zones[int(user)] = str(name)
        except (ValueError, KeyError, ZoneInfoNotFoundError):
            reader.problem(f"zones.{user}", msg("b24_set_zone", name=name, user=user))
    return zones


def _check_url(reader: Reader, key: str, url: str, *, webhook: bool) -> None:
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        reader.problem(key, msg("b24_set_not_url"))
    elif parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        reader.problem(key, msg("b24_set_plain_http", shown=shown))
    elif webhook and not _is_webhook_path(parts.path):
        reader.problem(key, msg("b24_set_webhook_path", shown=shown))


def _is_webhook_path(path: str) -> bool:
    parts = [p for p in path.split("/") if p]
    return len(parts) >= 3 and parts[-3] == "rest" and parts[-2].isdigit()


def _plan(reader: Reader) -> Plan:
    raw = reader.raw("plan", "ordinary")
    if isinstance(raw, str) and raw.lower() in PLANS:
        return PLANS[raw.lower()]
    if isinstance(raw, Mapping):
        sub = reader.child("plan")
        sub.allow("capacity rate")
        return Plan(capacity=int(sub.number("capacity", 50)), rate=sub.number("rate", 2.0))
    reader.problem("plan", msg("b24_set_plan", value=raw))
    return PLANS["ordinary"]


def _oauth(reader: Reader) -> OAuthSettings:
    reader.allow("portal_url client_id client_secret client_secret_env token_file server_url")
    portal = reader.string("portal_url", "", required=True)
    server = reader.string("server_url", "https://oauth.bitrix.info")
    for key, url in (("portal_url", portal), ("server_url", server)):
        if url:
            _check_url(reader, key, url, webhook=False)
    secret = reader.secret("client_secret")
    if secret is None:
        reader.problem("client_secret", msg("b24_set_client_secret"))
    return OAuthSettings(
        portal_url=portal.rstrip("/"),
        client_id=reader.string("client_id", "", required=True),
        client_secret=secret or Secret(""),
        token_file=Path(reader.string("token_file", "", required=True)),
        server_url=server.rstrip("/"),
    )


def _deal(reader: Reader) -> DealBinding:
    reader.allow("strategy field value")
    strategy = reader.choice("strategy", ("field", "latest_open", "none"), "latest_open")
    field_name = reader.optional_string("field")
    if strategy == "field" and field_name is None:
        reader.problem("field", msg("b24_set_deal_field"))
    value = reader.choice("value", ("contract_number", "document_id", "basis"), "contract_number")
    return DealBinding(strategy=strategy, field=field_name, value=value)  # type: ignore[arg-type]


def _mirror(reader: Reader) -> MirrorSettings:
    reader.allow("target iblock_id iblock_code iblock_type entity_type_id fields category_id title")
    target = reader.choice("target", ("list", "smart_process"), "list")
    fields = dict(_SMART_DEFAULTS if target == "smart_process" else _LIST_DEFAULTS)
    fields.update(reader.field_map("fields", MIRROR_FIELDS))
    settings = MirrorSettings(
        target=target,  # type: ignore[arg-type]
        fields=fields,
        iblock_id=reader.user_id("iblock_id"),
        iblock_code=reader.optional_string("iblock_code"),
        iblock_type=reader.string("iblock_type", "lists"),
        entity_type_id=reader.user_id("entity_type_id"),
        category_id=reader.user_id("category_id"),
        title=reader.string("title", "Документы ЭДО"),
    )
    if target == "list" and settings.iblock_id is None and settings.iblock_code is None:
        reader.problem("iblock_id", msg("b24_set_iblock"))
    if target == "smart_process" and settings.entity_type_id is None:
        reader.problem("entity_type_id", msg("b24_set_entity_type"))
    return settings
