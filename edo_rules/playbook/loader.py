"""Load playbooks: YAML with positions → JSON Schema → compiled frozen rules.

Every stage reports all it finds; a file is refused with a
:class:`~edo_rules.errors.PlaybookError` listing every problem
(``file:line:col: path: message``). Loading reads the files and nothing else:
no state is mutated, and the result is frozen.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from edo_rules._messages import msg
from edo_rules.errors import PlaybookError, Problem
from edo_rules.playbook._schema import playbook_schema, schema_problems
from edo_rules.playbook._text import type_name
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
            [Problem(file, 1, 1, "", msg("pb_unreadable", error=exc.strerror))]
        ) from exc
    return load_playbook_bytes(raw, file, require_adapters=require_adapters, from_disk=True)


def load_playbook_text(
    text: str, file: str = "<playbook>", *, require_adapters: bool = True
) -> Playbook:
    """Load a playbook from a string (``file`` names it in errors)."""
    return load_playbook_bytes(
        text.encode("utf-8", "surrogatepass"), file, require_adapters=require_adapters
    )


def load_playbook_bytes(
    raw: bytes, file: str, *, require_adapters: bool = True, from_disk: bool = False
) -> Playbook:
    """Load a playbook from the file's bytes (UTF-8; the hash is of these bytes).

    ``from_disk``: the bytes were read from a file, which may be anything (a
    stray file or a ``.pgpass`` in the playbooks folder). If it is not a
    playbook at all — no top-level key of one — it is refused with one problem
    that shows nothing of its content: the problems go to the runner's log.
    """
    text = _decode(raw, file)
    foreign = from_disk and not _PLAYBOOK_LINE.search(text)
    try:
        located = load_located(text, file)
    except LocatedYamlError as exc:
        message = _not_a_playbook("not valid YAML") if foreign else exc.message
        path = "" if foreign else exc.path
        raise PlaybookError([Problem(file, exc.line, exc.column, path, message)]) from exc
    if from_disk and located.data is not None and not _playbook_shaped(located.data):
        raise PlaybookError([Problem(file, 1, 1, "", _not_a_playbook(_shape(located.data)))])
    problems = schema_problems(located)
    compiler = PlaybookCompiler(
        located,
        content_hash=hashlib.sha256(raw).hexdigest(),
        require_adapters=require_adapters,
    )
    playbook = compiler.compile()
    problems.extend(compiler.problems)
    if problems or playbook is None:
        raise PlaybookError(
            _sorted(problems) or [Problem(file, 1, 1, "", msg("pb_not_a_playbook"))]
        )
    return playbook


#: A top-level key every playbook has (or a misspelt one starts with): the file is meant
#: to be a playbook, so its problems may quote it.
_PLAYBOOK_LINE: Final = re.compile(r"^(version|name|rules)\s*:", re.MULTILINE)


def _playbook_shaped(data: object) -> bool:
    keys = playbook_schema()["properties"]
    return isinstance(data, dict) and any(key in keys for key in data)


def _shape(data: object) -> str:
    if isinstance(data, dict):
        return "a mapping without any key of a playbook (version, name, rules …)"
    return f"{type_name(data)} instead of a mapping with version, name and rules"


def _not_a_playbook(what: str) -> str:
    return (
        f"not an edo-rules playbook: {what}; its content is not shown. What to do: move"
        " the file out of the playbooks folder, or start it with 'version: 1' (docs/playbooks.md)"
    )


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
    return list(_listed(paths))


def _listed(paths: Iterable[StrPath]) -> dict[Path, Path | None]:
    """Each file to read and the folder it was found in (``None``: named directly)."""
    files: dict[Path, tuple[Path, Path | None]] = {}
    for path in map(Path, paths):
        named: list[tuple[Path, Path | None]]
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix in PLAYBOOK_SUFFIXES and p.is_file())
            # a link leading out of the folder is listed (to be refused) without being read
            named = [(p, path) for p in sorted(found) if _outside(p, path) or not is_test_file(p)]
        else:
            named = [(path, None)]
        for file, root in named:
            files.setdefault(file.resolve(), (file, root))
    return dict(files.values())


def _outside(file: Path, folder: Path) -> bool:
    return not file.resolve().is_relative_to(folder.resolve())


def _refusal(file: Path, folder: Path | None) -> Problem | None:
    """Why ``file`` is not read: a link out of its folder, or not a regular file."""
    if folder is not None and _outside(file, folder):
        message = (
            f"refused: a link to {file.resolve()}, outside the playbooks folder {folder};"
            " playbooks are read only from files inside the configured folders. What to do:"
            " copy the playbook into the folder, or add its own folder to 'playbooks'"
        )
        return Problem(str(file), 1, 1, "", message)
    try:
        mode = file.stat().st_mode
    except OSError:
        return None  # reading it reports the reason
    if not stat.S_ISREG(mode):
        message = (
            "refused: not a regular file (a folder, a pipe or a device); playbooks are read"
            " only from regular files. What to do: name a .yaml file"
        )
        return Problem(str(file), 1, 1, "", message)
    return None


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
    listed = _listed(paths)
    playbooks: list[Playbook] = []
    problems: list[Problem] = []
    for file, folder in listed.items():
        refused = _refusal(file, folder)
        if refused is not None:
            problems.append(refused)
            continue
        try:
            playbooks.append(load_playbook(file, require_adapters=require_adapters))
        except PlaybookError as exc:
            problems.extend(exc.problems)
    files = list(listed)
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
            message = msg("pb_name_used", name=playbook.name, path=first.path)
            problems.append(Problem(playbook.path, 1, 1, "name", message))
        for index, rule in enumerate(playbook.rules):
            other, earlier = rules.setdefault(rule.id, (playbook, rule))
            if other is not playbook:
                where = f"{other.path}:{earlier.location.line}"
                message = msg("pb_id_used", id=rule.id, where=where)
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
        raise PlaybookError([Problem(file, line, column, "", msg("pb_not_utf8"))]) from exc


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = dict.fromkeys(problems)
    # Ordered by the English text: the same order whatever the language shown.
    return sorted(unique, key=lambda p: (p.line, p.column, p.path, _english(p)))


def _english(problem: Problem) -> str:
    return problem.message if problem.text is None else problem.text.render("en")
