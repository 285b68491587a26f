"""A small reader that checks a config mapping and collects every problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from edo_rules._messages import Text, msg
from edo_rules.errors import Problem

if TYPE_CHECKING:
    from edo_rules.actions.bitrix24.settings import Secret


class Reader:
    """Typed accessors over one mapping; problems are collected, never raised."""

    def __init__(
        self,
        mapping: Any,
        *,
        file: str,
        path: str,
        env: Mapping[str, str],
        problems: list[Problem] | None = None,
    ) -> None:
        self.problems: list[Problem] = [] if problems is None else problems
        self._file = file
        self._path = path
        self._env = env
        self._data: Mapping[str, Any] = mapping if isinstance(mapping, Mapping) else {}
        if not isinstance(mapping, Mapping):
            self.problem("", msg("set_must_be_mapping", got=type(mapping).__name__))

    def problem(self, key: str, message: str | Text) -> None:
        path = f"{self._path}.{key}" if key else self._path
        self.problems.append(Problem(self._file, 0, 0, path, message))

    def allow(self, keys: str) -> None:
        known = set(keys.split())
        for key in self._data:
            if key not in known:
                self.problem(str(key), msg("set_unknown_key", known=", ".join(sorted(known))))

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def child(self, key: str) -> Reader:
        path = f"{self._path}.{key}"
        return Reader(
            self._data.get(key), file=self._file, path=path, env=self._env, problems=self.problems
        )

    def string(self, key: str, default: str, *, required: bool = False) -> str:
        value = self._data.get(key)
        if value is None:
            if required:
                self.problem(key, msg("set_required"))
            return default
        if not isinstance(value, str) or not value.strip():
            self.problem(key, msg("set_non_empty_string", value=value))
            return default
        return value.strip()

    def optional_string(self, key: str) -> str | None:
        value = self.string(key, "")
        return value or None

    def number(self, key: str, default: float) -> float:
        value = self._data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.problem(key, msg("set_positive_number", value=value))
            return default
        return float(value)

    def user_id(self, key: str) -> int | None:
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.problem(key, msg("set_positive_id", value=value))
            return None
        return value

    def choice(self, key: str, choices: Sequence[str], default: str) -> str:
        value = self._data.get(key, default)
        if value not in choices:
            self.problem(key, msg("set_not_one_of", value=value, choices=", ".join(choices)))
            return default
        return str(value)

    def secret(self, key: str) -> Secret | None:
        """``key`` inline, or ``key_env`` naming an environment variable."""
        from edo_rules.actions.bitrix24.settings import Secret

        env_name = self._data.get(f"{key}_env")
        if env_name is not None:
            value = self._env.get(str(env_name))
            if not value:
                self.problem(f"{key}_env", msg("set_env_not_set", name=env_name))
            return Secret(value) if value else None
        value = self._data.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            self.problem(key, msg("set_non_empty"))
            return None
        return Secret(value) if value else None

    def user_map(self, key: str) -> dict[str, int]:
        value = self._data.get(key) or {}
        if not isinstance(value, Mapping):
            self.problem(key, msg("set_user_map"))
            return {}
        result: dict[str, int] = {}
        for name, user in value.items():
            if isinstance(user, bool) or not isinstance(user, int) or user < 1:
                self.problem(f"{key}.{name}", msg("set_user_id", value=user))
            else:
                result[str(name)] = user
        return result

    def field_map(self, key: str, known: Sequence[str]) -> dict[str, str]:
        value = self._data.get(key) or {}
        if not isinstance(value, Mapping):
            self.problem(key, msg("set_field_map"))
            return {}
        result: dict[str, str] = {}
        for name, code in value.items():
            if name not in known:
                self.problem(f"{key}.{name}", msg("set_unknown_fact", known=", ".join(known)))
            elif not isinstance(code, str) or not code:
                self.problem(f"{key}.{name}", msg("set_field_code", value=code))
            else:
                result[str(name)] = code
        return result
