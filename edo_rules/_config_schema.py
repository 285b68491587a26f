"""JSON Schema check of the config file, with positioned, readable messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from edo_rules.errors import Problem
from edo_rules.playbook._text import did_you_mean, json_type, type_name
from edo_rules.playbook._yaml import LocatedData, NodePath

SCHEMA_RESOURCE = "config.schema.json"


@cache
def config_schema() -> Mapping[str, Any]:
    """The packaged JSON Schema (identical to ``schemas/config.schema.json``)."""
    text = resources.files("edo_rules").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(config_schema())


def schema_problems(located: LocatedData) -> list[Problem]:
    """Every schema violation, translated into a sentence with its position."""
    problems: list[Problem] = []
    for error in _validator().iter_errors(located.data):
        problems.extend(_translate(located, error))
    return problems


def _translate(located: LocatedData, error: ValidationError) -> list[Problem]:
    path: NodePath = tuple(error.absolute_path)
    what = str(_schema_of(error).get("title", "value"))
    if error.validator == "additionalProperties":
        return _unknown_keys(located, path, error)
    return [located.problem(path, _message(error, what))]


def _unknown_keys(located: LocatedData, path: NodePath, error: ValidationError) -> list[Problem]:
    allowed = sorted(_schema_of(error).get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    problems = []
    for key in instance:
        if key in allowed:
            continue
        hint = did_you_mean(str(key), allowed) or f" (allowed here: {', '.join(allowed)})"
        problems.append(located.problem((*path, key), f"unknown key {key!r}{hint}", key=True))
    return problems


def _message(error: ValidationError, what: str) -> str:
    value = error.instance
    kind = str(error.validator)
    if kind == "type":
        expected = error.validator_value
        names = " or ".join(
            json_type(str(k)) for k in (expected if isinstance(expected, list) else [expected])
        )
        return f"expected a {names} for the {what}, got {type_name(value)} {_short(value)}"
    if kind == "enum":
        choices = [str(c) for c in _list(error.validator_value)]
        hint = did_you_mean(str(value), choices)
        return f"unknown {what} {_short(value)}{hint}; expected one of: {', '.join(choices)}"
    if kind == "const":
        return (
            f"unsupported {what} {_short(value)} (this edo-rules reads {error.validator_value!r})"
        )
    if kind == "pattern":
        advice = _schema_of(error).get("patternErrorMessage", "does not have the expected form")
        return f"{_short(value)} is not a valid {what}: {advice}"
    if kind == "anyOf":
        return f"{_short(value)} is not a valid {what}: {_schema_of(error).get('description', '')}"
    return _limit(kind, error.validator_value, what)


def _limit(kind: str, limit: Any, what: str) -> str:
    texts = {
        "minLength": "must not be empty"
        if limit == 1
        else f"must be at least {limit} characters long",
        "minItems": f"needs at least {limit} item(s)",
        "minimum": f"must be at least {limit}",
        "maximum": f"must be at most {limit}",
        "exclusiveMinimum": f"must be greater than {limit}",
    }
    return f"the {what} {texts.get(kind, f'violates {kind} {limit!r}')}"


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
