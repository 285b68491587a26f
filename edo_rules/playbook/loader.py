"""Load playbooks: YAML with positions → JSON Schema → compiled frozen rules.

Every stage reports all it finds; a file is refused with a
:class:`~edo_rules.errors.PlaybookError` listing every problem
(``file:line:col: path: message``). Loading reads the files and nothing else:
no state is mutated, and the result is frozen.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edo_rules.errors import PlaybookError, Problem
from edo_rules.playbook._schema import schema_problems
from edo_rules.playbook._yaml import LocatedYamlError, load_located
from edo_rules.playbook.compile import PlaybookCompiler
from edo_rules.playbook.rules import Playbook, Rule

StrPath = str | os.PathLike[str]
PLAYBOOK_SUFFIXES = (".yaml", ".yml")


def load_playbook(path: StrPath, *, require_adapters: bool = True) -> Playbook:
    """Load and compile one playbook file.

    Raises :class:`PlaybookError` with every problem of the file (unreadable
    file, YAML syntax, schema, durations, expressions, templates, actions…).
    ``require_adapters=False`` accepts actions whose adapter package is not
    installed (their parameters are then not checked).
    """
    file = os.fspath(path)
    try:
        raw = Path(file).read_bytes()
    except OSError as exc:
        raise PlaybookError(
            [Problem(file, 1, 1, "", f"cannot read the file: {exc.strerror}")]
        ) from exc
    return load_playbook_bytes(raw, file, require_adapters=require_adapters)


def load_playbook_text(
    text: str, file: str = "<playbook>", *, require_adapters: bool = True
) -> Playbook:
    """Load a playbook from a string (``file`` names it in errors)."""
    return load_playbook_bytes(
        text.encode("utf-8", "surrogatepass"), file, require_adapters=require_adapters
    )


def load_playbook_bytes(raw: bytes, file: str, *, require_adapters: bool = True) -> Playbook:
    """Load a playbook from the file's bytes (UTF-8; the hash is of these bytes)."""
    text = _decode(raw, file)
    try:
        located = load_located(text, file)
    except LocatedYamlError as exc:
        raise PlaybookError([Problem(file, exc.line, exc.column, exc.path, exc.message)]) from exc
    problems = schema_problems(located)
    compiler = PlaybookCompiler(
        located,
        content_hash=hashlib.sha256(raw).hexdigest(),
        require_adapters=require_adapters,
    )
    playbook = compiler.compile()
    problems.extend(compiler.problems)
    if problems or playbook is None:
        raise PlaybookError(_sorted(problems) or [Problem(file, 1, 1, "", "not a playbook")])
    return playbook


def is_test_file(path: Path) -> bool:
    """Whether a YAML file is a playbook test (top-level ``expect:`` and no ``rules:``).

    Tests may live beside the playbooks (``playbooks/tests/``), so a folder of
    playbooks skips them; ``edo-rules test`` and ``validate`` read them as tests.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    keys = {line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha()}
    return "expect" in keys and "rules" not in keys


def playbook_files(paths: Iterable[StrPath]) -> list[Path]:
    """The files named; folders expand to their ``*.yaml``/``*.yml`` (recursively, sorted).

    A file named twice (directly or through a folder) is listed once. Playbook
    tests found in a folder are left out (see :func:`is_test_file`).
    """
    files: dict[Path, Path] = {}
    for path in map(Path, paths):
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix in PLAYBOOK_SUFFIXES and p.is_file())
            named = sorted(p for p in found if not is_test_file(p))
        else:
            named = [path]
        for file in named:
            files.setdefault(file.resolve(), file)
    return list(files.values())


@dataclass(frozen=True, slots=True)
class Validation:
    """What :func:`validate_paths` found: the files read, the valid playbooks, every problem."""

    files: tuple[Path, ...]
    playbooks: tuple[Playbook, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rule_count(self) -> int:
        return sum(len(p.rules) for p in self.playbooks)


def validate_paths(paths: Iterable[StrPath], *, require_adapters: bool = True) -> Validation:
    """Load every playbook under ``paths`` and collect all problems (never raises them)."""
    files = playbook_files(paths)
    playbooks: list[Playbook] = []
    problems: list[Problem] = []
    for file in files:
        try:
            playbooks.append(load_playbook(file, require_adapters=require_adapters))
        except PlaybookError as exc:
            problems.extend(exc.problems)
    problems.extend(cross_file_problems(playbooks))
    return Validation(tuple(files), tuple(playbooks), tuple(problems))


def load_playbooks(
    paths: Iterable[StrPath], *, require_adapters: bool = True
) -> tuple[Playbook, ...]:
    """Load every playbook under ``paths`` (files or folders).

    Raises one :class:`PlaybookError` with the problems of all files, including
    rule ids and playbook names defined twice across files.
    """
    result = validate_paths(paths, require_adapters=require_adapters)
    if result.problems:
        raise PlaybookError(result.problems)
    return result.playbooks


def cross_file_problems(playbooks: Sequence[Playbook]) -> list[Problem]:
    """Playbook names and rule ids that more than one file defines."""
    problems: list[Problem] = []
    names: dict[str, Playbook] = {}
    rules: dict[str, tuple[Playbook, Rule]] = {}
    for playbook in playbooks:
        first = names.setdefault(playbook.name, playbook)
        if first is not playbook:
            message = f"playbook name {playbook.name!r} is already used by {first.path}"
            problems.append(Problem(playbook.path, 1, 1, "name", message))
        for index, rule in enumerate(playbook.rules):
            other, earlier = rules.setdefault(rule.id, (playbook, rule))
            if other is not playbook:
                where = f"{other.path}:{earlier.location.line}"
                message = f"rule id {rule.id!r} is already defined in {where}"
                loc = rule.location
                problems.append(
                    Problem(loc.file, loc.line, loc.column, f"rules[{index}].id", message)
                )
    return problems


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise PlaybookError(
            [Problem(file, line, column, "", "the file is not valid UTF-8 (save it as UTF-8)")]
        ) from exc


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.line, p.column, p.path, p.message))
