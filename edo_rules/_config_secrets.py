"""Secrets in the config: ``${ENV_VAR}`` references and the secrets file.

A string value may contain ``${NAME}``; it is replaced at load by the
environment variable ``NAME`` or, failing that, by ``NAME`` from the secrets
file (``KEY=VALUE`` lines, the systemd ``EnvironmentFile`` format). ``$${``
writes a literal ``${``. Every substituted value — and every literal value of
a key that looks like a credential — is collected so that logs and reprs can
mask it; the resolved values are never written back anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edo_rules._messages import Text, msg
from edo_rules.errors import Problem
from edo_rules.playbook._yaml import LocatedData, NodePath, format_path

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{([^}]*)\}?")
_SECRET_KEYS = re.compile(r"(password|passwd|token|secret|webhook_url|dsn)$", re.IGNORECASE)
_MIN_KEYED = 4  # a literal value under a credential-like key
_MIN_REFERENCED = 8  # any ${NAME} value (a path or a login may come this way too)
_SECRETS_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


@dataclass(slots=True)
class Resolved:
    """The config data with references replaced, the secret values, and the problems."""

    data: Any
    secrets: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # formatted paths of values left unresolved


def read_secrets_file(path: Path) -> tuple[dict[str, str], list[int]]:
    """``KEY=VALUE`` pairs of a secrets file and the numbers of the lines that are not."""
    values: dict[str, str] = {}
    errors: list[int] = []
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _SECRETS_LINE.match(line)
        if match is None:
            errors.append(number)
            continue
        values[match.group(1)] = _unquote(match.group(2))
    return values, errors


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def resolve(located: LocatedData, env: Mapping[str, str]) -> Resolved:
    """Replace ``${NAME}`` references throughout ``located.data`` using ``env``."""
    result = Resolved(data=None)
    result.data = _walk(located.data, (), located, env, result)
    return result


def _walk(
    value: Any, path: NodePath, located: LocatedData, env: Mapping[str, str], out: Resolved
) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), located, env, out) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*path, i), located, env, out) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    text = _substitute(value, path, located, env, out)
    if path and isinstance(path[-1], str) and _SECRET_KEYS.search(path[-1]):
        _remember(out, text, _MIN_KEYED)
    return text


def _remember(out: Resolved, value: str, minimum: int) -> None:
    # Masking a very short value ("1", "ru") would garble every log line.
    if len(value) >= minimum:
        out.secrets.add(value)


def _substitute(
    text: str, path: NodePath, located: LocatedData, env: Mapping[str, str], out: Resolved
) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name is None:
            wrong = msg("cfg_bad_reference", reference=match.group(0))
            out.problems.append(located.problem(path, wrong))
            return ""
        if name not in env:
            out.problems.append(located.problem(path, _missing(name)))
            out.failed.add(format_path(path))
            return ""
        _remember(out, env[name], _MIN_REFERENCED)
        return env[name]

    return _REFERENCE.sub(replace, text)


def _missing(name: str) -> Text:
    return msg("cfg_env_missing", name=name)
