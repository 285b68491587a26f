"""The names expressions and templates may use, as a tree checked at validate time.

Both the simpleeval expression checker and the Jinja template checker walk
their AST against this tree, so that ``doc.amout`` is refused at load time with
"did you mean 'doc.amount'?" and nothing outside the tree is reachable.
:mod:`edo_rules.playbook.context` builds the matching values at run time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from edo_rules._messages import msg
from edo_rules.model import Document
from edo_rules.playbook._text import did_you_mean


@dataclass(frozen=True, slots=True)
class Leaf:
    """A plain value (string, number, date…); only :data:`SAFE_METHODS` apply to it."""


@dataclass(frozen=True, slots=True)
class Obj:
    """An object with known attributes."""

    fields: Mapping[str, Spec]


@dataclass(frozen=True, slots=True)
class Seq:
    """A list whose items all follow ``item`` (subscript with a number, or loop over it)."""

    item: Spec


@dataclass(frozen=True, slots=True)
class Func:
    """A callable name (expressions: ``date(doc.sent_at)``; templates also as a filter)."""


Spec = Leaf | Obj | Seq | Func

LEAF: Final = Leaf()

#: String methods an expression or template may call on a value: pure text methods.
#: Those that can build more than the value (padding, replacing, joining) are sized
#: by the run-time budget before they run (:mod:`edo_rules.playbook._calls`).
SAFE_METHODS: Final = frozenset(
    {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "casefold",
        "capitalize",
        "title",
        "startswith",
        "endswith",
        "isdigit",
        "count",
        "find",
        # bounded at run time:
        "split",
        "rsplit",
        "splitlines",
        "partition",
        "rpartition",
        "removeprefix",
        "removesuffix",
        "replace",
        "center",
        "ljust",
        "rjust",
        "zfill",
        "join",
        "isalpha",
        "isalnum",
        "isspace",
        "isupper",
        "islower",
        "swapcase",
    }
)


def _obj(**fields: Spec) -> Obj:
    return Obj(MappingProxyType(fields))


_NESTED: Final[dict[str, Spec]] = {
    "counterparty": _obj(name=LEAF, inn=LEAF, kpp=LEAF),
    "contract": _obj(number=LEAF, date=LEAF),
    "crm": _obj(company_id=LEAF, deal_id=LEAF, contact_id=LEAF),
    "signers": Seq(_obj(side=LEAF, name=LEAF, signed_at=LEAF, organization=LEAF)),
}


def _document_spec() -> Obj:
    fields: dict[str, Spec] = {
        f.name: _NESTED.get(f.name, LEAF) for f in dataclasses.fields(Document)
    }
    fields["title"] = LEAF
    return Obj(MappingProxyType(fields))


#: Functions available to expressions (by call) and templates (by call and as filters).
FUNCTIONS: Final = ("date", "datetime", "money", "working_days_since", "ru")

#: Builtins an expression may call (pure and bounded).
EXPRESSION_BUILTINS: Final = ("len", "abs", "min", "max", "round", "str", "int", "float")

#: The top-level names.
NAMES: Final[Mapping[str, Spec]] = MappingProxyType(
    {
        "doc": _document_spec(),
        "now": LEAF,
        "since": LEAF,
        "step": LEAF,
        "rule": _obj(id=LEAF, key=LEAF, playbook=LEAF, description=LEAF),
        "elapsed": _obj(working_days=LEAF, days=LEAF, hours=LEAF),
        "counterparty": _obj(
            name=LEAF,
            inn=LEAF,
            kpp=LEAF,
            stats=_obj(
                signed=LEAF, median_working_days=LEAF, p90_working_days=LEAF, rejections=LEAF
            ),
        ),
        **dict.fromkeys(FUNCTIONS, Func()),
    }
)


class NameCheckError(ValueError):
    """A name or attribute the sandbox does not know or refuses (the message says why)."""


def check_attribute(spec: Spec | None, dotted: str, attr: str) -> Spec | None:
    """The spec of ``<dotted>.<attr>``; ``None`` means "a safe method" (only callable).

    ``spec`` None stands for a computed value (a call's result): only safe methods apply.

    Raises :class:`NameCheckError` for private names and unknown attributes.
    """
    if attr.startswith("_"):
        raise NameCheckError(msg("pb_private_attribute", attr=attr))
    if isinstance(spec, Obj):
        if attr in spec.fields:
            return spec.fields[attr]
        hint = did_you_mean(f"{dotted}.{attr}", [f"{dotted}.{f}" for f in spec.fields])
        raise NameCheckError(msg("pb_unknown_field", field=f"{dotted}.{attr}", hint=hint))
    if isinstance(spec, Leaf | None) and attr in SAFE_METHODS:
        return None
    if isinstance(spec, Leaf | None):
        hint = did_you_mean(attr, SAFE_METHODS)
        methods = ", ".join(sorted(SAFE_METHODS))
        raise NameCheckError(
            msg("pb_no_attribute_methods", name=dotted, attr=attr, hint=hint, methods=methods)
        )
    raise NameCheckError(msg("pb_no_attribute", name=dotted, attr=attr))


def check_name(name: str, known: Mapping[str, Spec]) -> Spec:
    """The spec of a top-level name; :class:`NameCheckError` if unknown or private."""
    if name.startswith("_"):
        raise NameCheckError(msg("pb_private_name", name=name))
    if name in known:
        return known[name]
    raise NameCheckError(msg("pb_unknown_name", name=name, hint=did_you_mean(name, known)))
