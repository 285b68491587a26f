"""JSON Schema check of the config file, with positioned, readable messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from edo_rules.errors import Problem
from edo_rules.playbook._schema import translate_errors
from edo_rules.playbook._yaml import LocatedData

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
    """Every schema violation, translated into a sentence with its position.

    The config shares the playbooks' translator, so both kinds of file speak
    the same way about unknown keys, wrong types and enums.
    """
    return translate_errors(located, _validator().iter_errors(located.data), ())
