"""Query options of the standard OData interface, parsed from a raw query string.

1C does not decode ``+`` as a space: only ``%20`` is a space. So the query is
split and percent-decoded by hand instead of with ``parse_qs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from edo_rules.emulators.onec._errors import parse_error
from edo_rules.emulators.onec._filter import Node, parse_filter


@dataclass(frozen=True, slots=True)
class Query:
    """The parsed options of one request."""

    filter: Node | None = None
    select: tuple[str, ...] | None = None
    orderby: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    top: int | None = None
    skip: int = 0
    inlinecount: bool = False
    allowed_only: bool = False
    json: bool = False
    skip_given: bool = False
    expand: tuple[str, ...] = ()


def split_query(raw: str) -> dict[str, str]:
    """Split ``a=b&c=d`` and percent-decode each part (``+`` stays a plus sign)."""
    options: dict[str, str] = {}
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        options[unquote(name)] = unquote(value)
    return options


#: The system query options 1C's standard interface knows; any other ``$…`` is refused.
SYSTEM_OPTIONS = frozenset(
    {"$filter", "$select", "$orderby", "$top", "$skip", "$inlinecount", "$format", "$expand"}
)


def parse_query(raw: str) -> Query:
    """Parse the query string; raises ODataError code 14 for a bad option."""
    options = split_query(raw)
    unknown = sorted(n for n in options if n.startswith("$") and n not in SYSTEM_OPTIONS)
    if unknown:
        raise parse_error(f"параметр запроса '{unknown[0]}' не поддерживается")
    text = options.get("$filter")
    return Query(
        filter=parse_filter(text) if text else None,
        select=_names(options["$select"]) if "$select" in options else None,
        orderby=_orderby(options.get("$orderby", "")),
        top=_integer(options, "$top"),
        skip=_integer(options, "$skip") or 0,
        inlinecount=options.get("$inlinecount") == "allpages",
        allowed_only=options.get("allowedOnly", "").lower() == "true",
        json=options.get("$format", "").lower() in ("json", "application/json"),
        skip_given="$skip" in options,
        expand=_names(options["$expand"]) if "$expand" in options else (),
    )


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise parse_error("пустой список $select")
    return names


def _orderby(text: str) -> tuple[tuple[str, bool], ...]:
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise parse_error(f"неверный элемент $orderby: {part.strip()!r}")
        keys.append((words[0], len(words) == 2 and words[1] == "desc"))
    return tuple(keys)


def _integer(options: dict[str, str], name: str) -> int | None:
    if name not in options:
        return None
    value = options[name]
    if not value.isdigit():
        raise parse_error(f"{name} должен быть неотрицательным целым, получено {value!r}")
    return int(value)
