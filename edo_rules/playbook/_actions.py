"""Checking and compiling ``do`` lists: action names, parameters, templates.

Each action adapter declares ``params_schema``; parameters are checked
against it with jsonschema and reported at the parameter's own line. Every
string parameter (at any depth) becomes a compiled template; lists and
mappings are frozen, so the engine never sees a mutable dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from edo_rules._messages import Text, msg, reason
from edo_rules.actions.registry import (
    ActionUnavailableError,
    UnknownActionError,
    get_action_class,
)
from edo_rules.errors import Problem
from edo_rules.playbook._schema import translate_errors
from edo_rules.playbook._yaml import LocatedData, NodePath, format_path
from edo_rules.playbook.expressions import ExpressionCheckError
from edo_rules.playbook.rules import ActionSpec, Location
from edo_rules.playbook.templates import compile_template


class ActionChecker:
    """Compiles the ``do`` lists of one file, appending problems to ``problems``.

    With ``require_adapters=False`` an action whose adapter module is not
    installed is accepted without checking its parameters (its templates are
    still checked); by default that is a problem, as it would fail at run time.
    """

    def __init__(self, located: LocatedData, problems: list[Problem], *, require_adapters: bool):
        self.located = located
        self.problems = problems
        self.require_adapters = require_adapters

    def action_list(self, path: NodePath, rule_key: str) -> tuple[ActionSpec, ...] | None:
        """The compiled actions at ``path``, or None if any of them is invalid."""
        items = _get(self.located.data, path)
        if not isinstance(items, list):
            return None
        before = len(self.problems)
        specs = [self._action((*path, i), item, rule_key) for i, item in enumerate(items)]
        if len(self.problems) > before or any(spec is None for spec in specs):
            return None
        return tuple(spec for spec in specs if spec is not None)

    def _action(self, path: NodePath, item: Any, rule_key: str) -> ActionSpec | None:
        if not isinstance(item, dict) or len(item) != 1:
            return None  # the schema reports the shape
        ((name, params),) = item.items()
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return None
        self._check_params((*path, name), name, params)
        frozen = self._compile_value((*path, name), params, rule_key)
        mark = self.located.mark((*path, name), key=True)
        return ActionSpec(name, frozen, Location(self.located.file, mark.line, mark.column))

    def _check_params(self, path: NodePath, name: str, params: Mapping[str, Any]) -> None:
        try:
            cls = get_action_class(name)
        except UnknownActionError as exc:
            self._report(path, reason(exc), key=True)
            return
        except ActionUnavailableError as exc:
            if self.require_adapters or exc.missing_module is None:
                self._report(path, reason(exc), key=True)
            return
        try:
            validator = _validator_for(name, cls.params_schema)
        except SchemaError as exc:
            self._report(path, msg("pb_action_bad_schema", name=name, error=exc.message), key=True)
            return
        self.problems.extend(translate_errors(self.located, validator.iter_errors(params), path))

    def _compile_value(self, path: NodePath, value: Any, rule_key: str) -> Any:
        if isinstance(value, dict):
            return MappingProxyType(
                {k: self._compile_value((*path, k), v, rule_key) for k, v in value.items()}
            )
        if isinstance(value, list):
            return tuple(self._compile_value((*path, i), v, rule_key) for i, v in enumerate(value))
        if isinstance(value, str):
            return self._template(path, value, rule_key)
        return value

    def _template(self, path: NodePath, text: str, rule_key: str) -> Any:
        mark = self.located.mark(path)
        location = Location(self.located.file, mark.line, mark.column)
        try:
            return compile_template(
                text, location=location, path=format_path(path), rule_key=rule_key
            )
        except ExpressionCheckError as exc:
            shown = repr(text) if len(text) <= 60 else repr(text[:57] + "...")
            self._report(path, msg("pb_invalid_template", source=shown, error=reason(exc)))
            return text

    def _report(self, path: NodePath, message: str | Text, *, key: bool = False) -> None:
        self.problems.append(self.located.problem(path, message, key=key))


def _validator_for(name: str, schema: Mapping[str, Any]) -> Draft202012Validator:
    """A validator for an adapter's schema (checked once per adapter class)."""
    cached = _VALIDATORS.get(name)
    if cached is not None and cached[0] is schema:
        return cached[1]
    Draft202012Validator.check_schema(schema)
    # The title names the node in messages: "missing required key 'to' in the parameters of …".
    validator = Draft202012Validator({"title": f"parameters of {name!r}", **schema})
    _VALIDATORS[name] = (schema, validator)
    return validator


_VALIDATORS: dict[str, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def _get(data: Any, path: NodePath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
