"""JSON Schema validation of a playbook, with readable, positioned messages.

jsonschema's ``iter_errors`` gives every violation; each is translated into
one sentence an admin can act on ("unknown key 'aftr' (did you mean
'after'?)"), never the raw dump ("Additional properties are not allowed").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from edo_rules.errors import Problem
from edo_rules.playbook._text import did_you_mean, json_type, type_name
from edo_rules.playbook._yaml import LocatedData, NodePath

SCHEMA_RESOURCE = "playbook.schema.json"


@cache
def playbook_schema() -> Mapping[str, Any]:
    """The packaged JSON Schema (identical to ``schemas/playbook.schema.json``)."""
    text = resources.files("edo_rules.playbook").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(playbook_schema())


def schema_problems(located: LocatedData) -> list[Problem]:
    """Every schema violation of the document, translated and positioned."""
    return translate_errors(located, _validator().iter_errors(located.data), ())


def translate_errors(
    located: LocatedData, errors: Iterable[ValidationError], prefix: NodePath
) -> list[Problem]:
    """Readable problems for jsonschema errors about the node at ``prefix``."""
    problems: list[Problem] = []
    for error in errors:
        problems.extend(_translate(located, error, prefix))
    return problems


def _translate(
    located: LocatedData, error: ValidationError, prefix: NodePath = ()
) -> Iterator[Problem]:
    path: NodePath = (*prefix, *error.absolute_path)
    handler = _HANDLERS.get(str(error.validator))
    if handler is not None:
        yield from handler(located, path, error)
        return
    yield located.problem(path, _generic(error, path))


def _additional(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    allowed = sorted(_schema_of(error).get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    for key in instance:
        if key in allowed:
            continue
        hint = did_you_mean(key, allowed)
        where = f" (allowed here: {', '.join(allowed)})" if not hint else ""
        yield located.problem((*path, key), f"unknown key {key!r}{hint}{where}", key=True)


def _required(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    missing = error.message.split("'")[1] if "'" in error.message else str(error.validator_value)
    what = _title(error, path)
    yield located.problem(path, f"missing required key {missing!r} in the {what}")


def _enum(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    choices = [str(c) for c in _schema_of(error).get("enum", [])]
    value = error.instance
    hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
    yield located.problem(
        path,
        f"unknown {_title(error, path)} {value!r}{hint}; expected one of: {', '.join(choices)}",
    )


def _type(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    expected = error.validator_value
    kinds = expected if isinstance(expected, list) else [expected]
    names = " or ".join(json_type(str(k)) for k in kinds)
    example = _example(error)
    yield located.problem(
        path,
        f"expected {_article(names)}{example} for the {_title(error, path)}, "
        f"got {type_name(error.instance)} {_short(error.instance)}",
    )


def _pattern(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    if _title(error, path) == "duration" or "propertyNames" in error.schema_path:
        return  # the compiler says precisely what is wrong (duration syntax, unknown action)
    schema = _schema_of(error)
    advice = schema.get("patternErrorMessage") or (
        f"expected {schema['description']}" if "description" in schema else "unexpected form"
    )
    yield located.problem(
        path, f"{_short(error.instance)} is not a valid {_title(error, path)}: {advice}"
    )


def _any_of(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    """A union ("one value or a list of them"): report what is wrong in the branch that fits."""
    prefix = path[: len(path) - len(error.absolute_path)]
    context = list(error.context or [])
    deeper = [e for e in context if len(e.absolute_path) > len(error.absolute_path)]
    if deeper:
        for inner in deeper:
            yield from _translate(located, inner, prefix)
        return
    description = _schema_of(error).get("description")
    if description and not isinstance(error.instance, list | dict):
        yield located.problem(path, _described(error, context, str(description)))
        return
    best = best_match(_fitting_branches(context, error.instance))
    if best is not None:
        yield from _translate(located, best, prefix)
        return
    what = _schema_of(error).get("title", "value")
    yield located.problem(
        path,
        f"expected {_article(what)} or a list of them, got {type_name(error.instance)} "
        f"{_short(error.instance)}",
    )


def _fitting_branches(context: list[ValidationError], instance: Any) -> list[ValidationError]:
    """Errors of the union's branches whose type could hold ``instance``."""
    branches: dict[Any, list[ValidationError]] = {}
    for inner in context:
        branches.setdefault(inner.schema_path[0] if inner.schema_path else None, []).append(inner)
    return [
        inner
        for errors in branches.values()
        if all(_same_kind(e, instance) for e in errors)
        for inner in errors
    ]


def _same_kind(error: ValidationError, instance: Any) -> bool:
    if error.validator == "type":
        return False
    if error.validator in ("enum", "const"):
        raw: Any = error.validator_value
        values = raw if error.validator == "enum" and isinstance(raw, list) else [raw]
        return any(type_name(v) == type_name(instance) for v in values)
    return True


def _described(error: ValidationError, context: list[ValidationError], description: str) -> str:
    """For a documented union such as "responsible, head_of_responsible or a user id"."""
    choices = [str(c) for e in context for c in _schema_of(e).get("enum", [])]
    value = error.instance
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    return f"{_short(value)} is not valid here{hint}: expected {description}"


def _const(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    title, expected, value = _title(error, path), error.validator_value, error.instance
    if "version" in title:
        message = f"unsupported {title} {_short(value)} (this edo-rules reads {expected!r})"
    else:
        hint = did_you_mean(value, [str(expected)]) if isinstance(value, str) else ""
        message = f"{_short(value)} is not valid here{hint}: expected {expected!r}"
    yield located.problem(path, message)


def _size(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    limits = {
        "minItems": "needs at least {} item",
        "maxItems": "may have at most {} item",
        "minProperties": "needs at least {} key",
        "maxProperties": "may have at most {} key",
        "minLength": "must not be shorter than {} characters",
        "maxLength": "must not be longer than {} characters",
        "minimum": "must be at least {}",
        "maximum": "must be at most {}",
        "exclusiveMinimum": "must be greater than {}",
        "exclusiveMaximum": "must be less than {}",
        "uniqueItems": "must not repeat items",
    }
    rule = limits[str(error.validator)].format(error.validator_value)
    if rule.endswith(("item", "key")) and error.validator_value != 1:
        rule += "s"
    extra = ""
    if error.validator == "maxProperties" and _title(error, path) == "action":
        extra = " (write each action as its own list item: '- notify: {...}')"
    yield located.problem(path, f"the {_title(error, path)} {rule}{extra}")


_HANDLERS = {
    "additionalProperties": _additional,
    "required": _required,
    "enum": _enum,
    "type": _type,
    "pattern": _pattern,
    "anyOf": _any_of,
    "oneOf": _any_of,
    "const": _const,
    **dict.fromkeys(
        (
            "minItems",
            "maxItems",
            "minProperties",
            "maxProperties",
            "minLength",
            "maxLength",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "uniqueItems",
        ),
        _size,
    ),
}


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _title(error: ValidationError, path: NodePath) -> str:
    """The schema's name for the node (its title), else the key it sits under."""
    for schema in (error.schema, *_parents(error)):
        if isinstance(schema, Mapping) and "title" in schema:
            return str(schema["title"])
    named = [part for part in path if isinstance(part, str)]
    return f"{named[-1]} value" if named else "value"


def _parents(error: ValidationError) -> Iterator[Any]:
    parent = error.parent
    while parent is not None:
        yield parent.schema
        parent = parent.parent


def _example(error: ValidationError) -> str:
    examples = _schema_of(error).get("examples")
    if examples:
        return f" (e.g. {json.dumps(examples[0], ensure_ascii=False)})"
    return ""


def _article(names: str) -> str:
    return f"an {names}" if names[:1] in "aeiouAEIOU" else f"a {names}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _generic(error: ValidationError, path: NodePath) -> str:
    return f"invalid {_title(error, path)}: {error.message[:200]}"
