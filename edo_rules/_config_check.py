"""``edo-rules validate --config``: the config and its playbooks checked together.

Beyond each file's own checks, the pair is cross-checked: a playbook action
that needs a section the config lacks (a Bitrix24 action without
``bitrix24:``, ``mirror`` without ``bitrix24.mirror``, the recipient
``accounting`` without ``bitrix24.accounting``) is reported at the action's line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from edo_rules._messages import Text, msg
from edo_rules.config import Config, load_config
from edo_rules.errors import ConfigError, Problem
from edo_rules.playbook.loader import validate_paths
from edo_rules.playbook.rules import ActionSpec, Playbook, StatusTrigger

_LOCAL_ACTIONS = frozenset({"log"})


@dataclass(frozen=True, slots=True)
class Checked:
    """Every problem found, and what was read."""

    problems: tuple[Problem, ...]
    files: int
    rules: int
    #: Not errors: what will work but not as the admin may expect (an unfillable link).
    warnings: tuple[Problem, ...] = ()


def check_config(path: Path, extra_playbooks: Sequence[Path] = ()) -> Checked:
    """Check the config at ``path`` and its playbooks (plus ``extra_playbooks``)."""
    problems: list[Problem] = []
    config: Config | None = None
    try:
        config = load_config(path)
    except ConfigError as exc:
        problems.extend(exc.problems)
    paths = list(extra_playbooks)
    if config is not None:
        paths += config.playbooks
    elif (path.parent / "playbooks").is_dir():
        paths.append(path.parent / "playbooks")  # the default, so that both get checked
    result = validate_paths(paths) if paths else None
    if result is None:
        return Checked(tuple(problems), 0, 0)
    problems.extend(result.problems)
    warnings: list[Problem] = []
    if config is not None:
        problems.extend(_cross_check(config, result.playbooks))
        warnings.extend(link_warnings(config, result.playbooks))
    return Checked(tuple(problems), len(result.files), result.rule_count, tuple(warnings))


def link_warnings(config: Config, playbooks: Sequence[Playbook]) -> Iterator[Problem]:
    """Where a playbook or the mirror uses ``pdf_url`` that the config cannot fill."""
    if config.onec is not None and config.onec.pdf_url:
        return
    why = msg("cfg_pdf_url_empty")
    for action in _actions(playbooks):
        if any("pdf_url" in text for text in _texts(action.params)):
            where = action.location
            yield Problem(where.file, where.line, where.column, action.name, why)
    mirror = config.bitrix24.mirror if config.bitrix24 is not None else None
    if mirror is not None and "pdf_url" in mirror.fields:
        yield Problem(str(config.file), 0, 0, "bitrix24.mirror.fields.pdf_url", why)


def _texts(value: object) -> Iterator[str]:
    """Every template source and string inside action parameters."""
    source = getattr(value, "source", None)
    if isinstance(source, str):
        yield source
    elif isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def _cross_check(config: Config, playbooks: Sequence[Playbook]) -> Iterator[Problem]:
    for action in _actions(playbooks):
        message = _missing_section(config, action.name) or _missing_accounting(config, action)
        if message is not None:
            where = action.location
            yield Problem(where.file, where.line, where.column, action.name, message)


def _missing_section(config: Config, action: str) -> Text | None:
    if action in _LOCAL_ACTIONS:
        return None
    from edo_rules.actions.bitrix24.adapters import ACTIONS

    if action not in ACTIONS:
        return None
    if config.bitrix24 is None:
        return msg("cfg_action_needs_bitrix24", action=action, file=str(config.file))
    if action == "mirror" and config.bitrix24.mirror is None:
        return msg("cfg_mirror_needs_section", file=str(config.file))
    return None


def _missing_accounting(config: Config, action: ActionSpec) -> Text | None:
    """The recipient ``accounting`` needs ``bitrix24.accounting`` (a user or a department)."""
    if config.bitrix24 is None or config.bitrix24.accounting is not None:
        return None
    values = [action.params.get(k) for k in ("to", "responsible")]
    auditors = action.params.get("auditors")
    values += list(auditors) if isinstance(auditors, list | tuple) else []
    if not any(getattr(v, "source", v) == "accounting" for v in values):
        return None
    return msg("cfg_accounting_needs_section", file=str(config.file))


def _actions(playbooks: Sequence[Playbook]) -> Iterator[ActionSpec]:
    for playbook in playbooks:
        for rule in playbook.rules:
            trigger = rule.trigger
            if isinstance(trigger, StatusTrigger):
                yield from trigger.actions
            else:
                for step in trigger.steps:
                    yield from step.actions
