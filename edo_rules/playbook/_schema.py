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

from edo_rules._messages import CATALOGUE, Text, msg
from edo_rules.errors import Problem
from edo_rules.playbook._text import did_you_mean, json_type, type_name, yaml_type
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
        where = msg("schema_allowed_here", keys=", ".join(allowed)) if not hint else ""
        text = msg("schema_unknown_key", key=key, hint=hint, allowed=where)
        yield located.problem((*path, key), text, key=True)


def _required(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    missing = error.message.split("'")[1] if "'" in error.message else str(error.validator_value)
    what = _title(error, path)
    yield located.problem(path, msg("schema_missing_key", key=missing, what=what))


def _enum(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    choices = [str(c) for c in _schema_of(error).get("enum", [])]
    value = error.instance
    hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
    what, listed = _title(error, path), ", ".join(choices)
    yield located.problem(
        path, msg("schema_enum", what=what, value=value, hint=hint, choices=listed)
    )


def _type(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    expected = error.validator_value
    kinds = expected if isinstance(expected, list) else [expected]
    names = [json_type(str(k)) for k in kinds]
    joined = names[0]
    for name in names[1:]:
        joined = msg("either_or", left=joined, right=name)
    text = msg(
        "schema_type",
        expected=_article(joined, names[0]),
        example=_example(error),
        what=_title(error, path),
        got=type_name(error.instance),
        value=_short(error.instance),
    )
    yield located.problem(path, text)


def _pattern(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    if _english_title(error) == "duration" or "propertyNames" in error.schema_path:
        return  # the compiler says precisely what is wrong (duration syntax, unknown action)
    schema = _schema_of(error)
    advice: Text | str = msg("schema_unexpected_form")
    if "patternErrorMessage" in schema:
        advice = _translated("schema_advice", str(schema["patternErrorMessage"]))
    elif "description" in schema:
        advice = msg("schema_expected", description=schema["description"])
    text = msg(
        "schema_pattern", value=_short(error.instance), what=_title(error, path), advice=advice
    )
    yield located.problem(path, text)


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
    title = _schema_of(error).get("title")
    what = _translated("schema_title", str(title)) if title else msg("schema_value")
    text = msg(
        "schema_one_or_list",
        expected=_article(what, what),
        got=type_name(error.instance),
        value=_short(error.instance),
    )
    yield located.problem(path, text)


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
        return any(yaml_type(v) == yaml_type(instance) for v in values)
    return True


def _described(error: ValidationError, context: list[ValidationError], description: str) -> Text:
    """For a documented union such as "responsible, head_of_responsible or a user id"."""
    choices = [str(c) for e in context for c in _schema_of(e).get("enum", [])]
    value = error.instance
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    return msg("schema_not_valid_here", value=_short(value), hint=hint, expected=description)


def _const(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    title, expected, value = _title(error, path), error.validator_value, error.instance
    if "version" in (_english_title(error) or ""):
        message = msg("schema_version", what=title, value=_short(value), expected=expected)
    else:
        hint = did_you_mean(value, [str(expected)]) if isinstance(value, str) else ""
        message = msg(
            "schema_not_valid_here", value=_short(value), hint=hint, expected=repr(expected)
        )
    yield located.problem(path, message)


def _size(located: LocatedData, path: NodePath, error: ValidationError) -> Iterator[Problem]:
    key = f"size:{error.validator}"
    if error.validator == "uniqueItems":
        rule = msg(key)
    elif f"{key}:1" in CATALOGUE and error.validator_value == 1:
        rule = msg(f"{key}:1")
    else:
        rule = msg(key, n=error.validator_value)
    what = _title(error, path)
    extra: Text | str = ""
    if error.validator == "maxProperties" and _english_title(error) == "action":
        extra = msg("schema_one_action_per_item")
    yield located.problem(path, msg("schema_size", what=what, rule=rule, extra=extra))


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


def _english_title(error: ValidationError) -> str | None:
    """The schema's own (English) title of the node or its nearest titled parent."""
    for schema in (error.schema, *_parents(error)):
        if isinstance(schema, Mapping) and "title" in schema:
            return str(schema["title"])
    return None


def _title(error: ValidationError, path: NodePath) -> Text | str:
    """The schema's name for the node (its title), else the key it sits under."""
    title = _english_title(error)
    if title is not None:
        return _translated("schema_title", title)
    named = [part for part in path if isinstance(part, str)]
    return msg("schema_key_value", key=named[-1]) if named else msg("schema_value")


def _translated(kind: str, english: str) -> Text | str:
    """A schema's English text through the catalogue (``kind:text``); unlisted: as it is."""
    key = f"{kind}:{english}"
    return msg(key) if key in CATALOGUE else english


def _parents(error: ValidationError) -> Iterator[Any]:
    parent = error.parent
    while parent is not None:
        yield parent.schema
        parent = parent.parent


def _example(error: ValidationError) -> Text | str:
    examples = _schema_of(error).get("examples")
    if examples:
        return msg("schema_example", example=json.dumps(examples[0], ensure_ascii=False))
    return ""


def _article(names: Text | str, first: Text | str) -> Text:
    """``a``/``an`` before ``names`` in English (chosen by the ``first`` name); none in Russian."""
    english = first.render("en") if isinstance(first, Text) else first
    return msg("schema_an" if english[:1] in "aeiouAEIOU" else "schema_a", what=names)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _generic(error: ValidationError, path: NodePath) -> Text:
    return msg("schema_invalid", what=_title(error, path), error=error.message[:200])
