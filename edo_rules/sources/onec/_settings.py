"""Settings of the 1C OData source: a frozen dataclass built from the ``onec:`` config section."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edo_rules._messages import Text, msg
from edo_rules.errors import ConfigError, Problem
from edo_rules.model import Status

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)?\s*$", re.IGNORECASE
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class OneCSettings:
    """How to reach 1C and how to read it.

    ``url`` is the web server root (``http://1c.local``) and ``base`` the
    publication name; or ``url`` is the full ``…/odata/standard.odata`` address
    and ``base`` is empty. ``password`` is the resolved value (the config
    loader expands ``${ENV_VAR}``); it never appears in ``repr``.
    """

    url: str
    user: str
    password: str = field(repr=False)
    base: str = ""
    preset: str = "bp30"
    states: Mapping[str, Status] = field(default_factory=dict)
    page_size: int = 1000
    chunk_size: int = 20
    max_query: int = 2000
    timeout: float = 30.0
    first_timeout: float = 90.0
    connect_timeout: float = 10.0
    retries: int = 4
    backoff: float = 0.5
    #: The whole of one request (connect, headers, body) ends by then, however the server drips.
    request_deadline: float = 300.0
    #: The largest answer read for one page (decoded), in MB.
    max_page_mb: float = 64.0
    time_zone: str = "Europe/Moscow"
    overlap: timedelta = timedelta(minutes=10)
    heal_every: timedelta = timedelta(hours=24)
    heal_window: timedelta = timedelta(days=7)
    allowed_only: bool = True
    journal: bool = True
    #: Allow ``http://`` to a host other than this machine (the password then travels
    #: in cleartext): only for a 1C that cannot serve https, on a trusted network.
    allow_insecure_http: bool = False
    #: Ask for referenced catalog objects nested in rows read by key (``$expand``) when the
    #: publication declares and allows it; off: always read them by key afterwards.
    expand: bool = True
    #: Independent requests (key chunks, reference sets) sent at the same time.
    concurrency: int = 8
    #: The 1C web client's address (what the browser shows before ``#``); empty: the
    #: publication's root, where the web client of a publication lives.
    web_url: str = ""
    #: A template of the document's PDF or page link (``{id}``, ``{number}``, …); empty: none.
    pdf_url: str = ""

    @property
    def service_url(self) -> str:
        """The ``…/odata/standard.odata/`` address every request starts from."""
        url = self.url.rstrip("/")
        if url.endswith("/odata/standard.odata"):
            return url + "/"
        if self.base:
            url = f"{url}/{self.base.strip('/')}"
        return f"{url}/odata/standard.odata/"

    @property
    def web_client_url(self) -> str:
        """The web client's address: ``web_url``, or the publication's root."""
        if self.web_url:
            return self.web_url
        return self.service_url.removesuffix("odata/standard.odata/")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any], *, where: str, lines: Mapping[str, int] | None = None
    ) -> OneCSettings:
        """Build from the ``onec:`` section; every problem is reported at once.

        ``where`` names the config file; ``lines`` maps a dotted path such as
        ``onec.page_size`` to its line, when the loader knows it.
        """
        builder = _Builder(mapping, where, lines or {})
        values = builder.build()
        if builder.problems:
            raise ConfigError(builder.problems)
        return cls(**values)


_ALIASES = {"publication": "base", "login": "user", "timezone": "time_zone"}


class _Builder:
    def __init__(self, mapping: object, where: str, lines: Mapping[str, int]):
        self.mapping = mapping
        self.where = where
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str | Text) -> None:
        path = f"onec.{key}"
        line = self.lines.get(path, self.lines.get("onec", 0))
        self.problems.append(Problem(self.where, line, 0, path, message))

    def build(self) -> dict[str, Any]:
        if not isinstance(self.mapping, Mapping):
            self.problem("", msg("onec_set_not_mapping"))
            return {}
        known = {f.name: f for f in fields(OneCSettings)}
        values: dict[str, Any] = {}
        for raw_key, value in self.mapping.items():
            key = _ALIASES.get(str(raw_key), str(raw_key))
            if key not in known:
                self.problem(str(raw_key), msg("onec_set_unknown", known=", ".join(sorted(known))))
                continue
            converted = _converter(key)(self, key, value)
            if converted is not None:
                values[key] = converted
        for required in ("url", "user", "password"):
            if required not in values and not any(
                p.path == f"onec.{required}" for p in self.problems
            ):
                self.problem(required, msg("set_required"))
        if "url" in values and not values.get("allow_insecure_http", False):
            refused = plain_http_problem(values["url"])
            if refused is not None:
                self.problem("url", refused)
        return values


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def plain_http_problem(url: str) -> str | None:
    """Why ``url`` may not be used: plain http to another machine sends the 1C
    password (Basic auth) and the documents in cleartext; ``None`` when it may."""
    parts = urlsplit(url)
    if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
        return None
    return (
        f"{parts.scheme}://{parts.hostname}… is plain http to another machine: the 1C password"
        " and the documents would travel in cleartext. What to do: publish 1C over https"
        " (docs/1c.md), or, on a network you trust, set onec.allow_insecure_http: true"
    )


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(builder: _Builder, key: str, value: Any) -> str | None:
    if not isinstance(value, str) or (key in ("url", "user") and not value.strip()):
        builder.problem(key, msg("onec_set_non_empty", got=type(value).__name__))
        return None
    if key == "url" and not re.match(r"^https?://", value):
        builder.problem(key, msg("onec_set_scheme", value=value))
        return None
    if key == "password" and value.startswith("${"):
        builder.problem(key, msg("onec_set_env_in", value=value))
        return None
    return value


def _link(builder: _Builder, key: str, value: Any) -> str | None:
    """``web_url`` (an http(s) address) or ``pdf_url`` (a template of one)."""
    if not isinstance(value, str) or not re.match(r"^https?://", value):
        builder.problem(key, msg("onec_set_address", value=value))
        return None
    if key == "pdf_url":
        from edo_rules.sources.onec._links import check_template

        problem = check_template(value)
        if problem is not None:
            builder.problem(key, problem)
            return None
    return value


def _positive(builder: _Builder, key: str, value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        builder.problem(key, msg("set_positive_number", value=value))
        return None
    whole = ("page_size", "chunk_size", "retries", "max_query", "concurrency")
    if key in whole and not isinstance(value, int):
        builder.problem(key, msg("onec_set_whole", value=value))
        return None
    return value


def _flag(builder: _Builder, key: str, value: Any) -> bool | None:
    if not isinstance(value, bool):
        builder.problem(key, msg("onec_set_flag", value=value))
        return None
    return value


def _duration(builder: _Builder, key: str, value: Any) -> timedelta | None:
    """``90`` (seconds), ``"10m"``, ``"2 hours"``, ``"7d"``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        builder.problem(key, msg("onec_set_duration", value=value))
        return None
    unit = (match.group(2) or "s")[0].lower()
    return timedelta(seconds=float(match.group(1)) * _UNITS[unit])


def _zone(builder: _Builder, key: str, value: Any) -> str | None:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        builder.problem(key, msg("onec_set_zone", value=value))
        return None
    return str(value)


def _preset(builder: _Builder, key: str, value: Any) -> str | None:
    from edo_rules.sources.onec._presets import PRESETS

    if value not in PRESETS:
        builder.problem(key, msg("onec_set_preset", value=value, known=", ".join(sorted(PRESETS))))
        return None
    return str(value)


def _states(builder: _Builder, key: str, value: Any) -> dict[str, Status] | None:
    if not isinstance(value, Mapping):
        builder.problem(key, msg("onec_set_states"))
        return None
    allowed = ", ".join(s.value for s in Status)
    result: dict[str, Status] = {}
    for name, status in value.items():
        try:
            result[str(name)] = Status(status)
        except ValueError:
            builder.problem(f"{key}.{name}", msg("onec_set_status", status=status, allowed=allowed))
    return result


_Converter = Callable[[_Builder, str, Any], Any]


def _converter(key: str) -> _Converter:
    return _CONVERTERS.get(key, _text)


_CONVERTERS: dict[str, _Converter] = {
    "page_size": _positive,
    "chunk_size": _positive,
    "max_query": _positive,
    "concurrency": _positive,
    "timeout": _positive,
    "first_timeout": _positive,
    "connect_timeout": _positive,
    "retries": _positive,
    "backoff": _positive,
    "request_deadline": _positive,
    "max_page_mb": _positive,
    "allowed_only": _flag,
    "journal": _flag,
    "allow_insecure_http": _flag,
    "expand": _flag,
    "overlap": _duration,
    "heal_every": _duration,
    "heal_window": _duration,
    "time_zone": _zone,
    "preset": _preset,
    "states": _states,
    "web_url": _link,
    "pdf_url": _link,
}
