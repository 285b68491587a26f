"""YAML → plain data plus the position of every node.

PyYAML's composer gives nodes with marks; we build the plain data ourselves
from the node graph so that we keep the line and column of every key and value,
reject duplicate keys (PyYAML silently keeps the last), and bound the work an
alias bomb ("billion laughs") or a recursive alias could cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

import yaml

from edo_rules._messages import Text, msg
from edo_rules.errors import Problem
from edo_rules.playbook._yaml_errors import describe

#: A position in the data: keys and list indexes from the root.
NodePath = tuple[str | int, ...]

MAX_FILE_BYTES: Final = 1_000_000
MAX_NODES: Final = 100_000  # after alias expansion
MAX_DEPTH: Final = 64
MAX_INT_DIGITS: Final = 100
_INT_TAG: Final = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
_BINARY_TAG: Final = "tag:yaml.org,2002:binary"
_COLLECTION_TAGS: Final = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


@dataclass(frozen=True, slots=True)
class Mark:
    """1-based line and column."""

    line: int
    column: int


@dataclass(slots=True)
class LocatedData:
    """The plain data of one YAML document and where each node was written."""

    file: str
    data: Any
    values: dict[NodePath, Mark] = field(default_factory=dict)
    keys: dict[NodePath, Mark] = field(default_factory=dict)

    def mark(self, path: NodePath, *, key: bool = False) -> Mark:
        """Where the node at ``path`` (its key when ``key``) or its nearest parent was written."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            found = table.get(path[:cut]) or self.values.get(path[:cut])
            if found is not None:
                return found
        return Mark(1, 1)

    def problem(self, path: NodePath, message: str | Text, *, key: bool = False) -> Problem:
        mark = self.mark(path, key=key)
        return Problem(self.file, mark.line, mark.column, format_path(path), message)


def format_path(path: NodePath) -> str:
    """``("rules", 0, "when", "after")`` → ``rules[0].when.after``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class LocatedYamlError(Exception):
    """Raised inside this module; the loader turns it into a PlaybookError."""

    def __init__(self, line: int, column: int, message: str | Text, path: NodePath = ()):
        super().__init__(message)
        self.line = max(line, 1)
        self.column = max(column, 1)
        self.message = message
        self.path = format_path(path)


def load_located(text: str, file: str) -> LocatedData:
    """Parse one YAML document; raises :class:`LocatedYamlError` with a position on any defect."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise LocatedYamlError(1, 1, msg("yaml_too_large", limit=MAX_FILE_BYTES))
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        report = describe(exc, text)
        raise LocatedYamlError(report.line, report.column, report.message) from exc
    except yaml.YAMLError as exc:
        details = msg("yaml_syntax", what=str(exc), noticed="", excerpt="", hint="")
        raise LocatedYamlError(1, 1, details) from exc
    except RecursionError as exc:
        raise LocatedYamlError(1, 1, msg("yaml_too_deep")) from exc
    located = LocatedData(file=file, data=None)
    if node is None:
        raise LocatedYamlError(1, 1, msg("yaml_empty"))
    located.data = _Builder(located).build(node, ())
    return located


def _compose(text: str) -> yaml.Node | None:
    loader = yaml.SafeLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _yaml_message(exc: yaml.MarkedYAMLError) -> Text | str:
    parts = [p for p in (exc.context, exc.problem) if p]  # PyYAML's own words
    return "; ".join(parts) if parts else msg("yaml_malformed")


class _Builder:
    """Turns a composed node graph into plain data, recording marks as it goes."""

    def __init__(self, located: LocatedData):
        self.located = located
        self.count = 0
        self.active: set[int] = set()  # nodes on the current path: a repeat is a recursive alias
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: NodePath) -> Any:
        self._guard(node, path)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
            _fail(node, path, msg("yaml_unsupported_tag", tag=node.tag))
        self.located.values[path] = _mark(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._scalar(node, path)
        finally:
            self.active.discard(id(node))

    def _guard(self, node: yaml.Node, path: NodePath) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            _fail(node, path, msg("yaml_too_many_nodes", limit=MAX_NODES))
        if id(node) in self.active:
            _fail(node, path, msg("yaml_recursive_alias"))
        if len(path) > MAX_DEPTH:
            _fail(node, path, msg("yaml_too_nested", limit=MAX_DEPTH))

    def _mapping(self, node: yaml.MappingNode, path: NodePath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in _merged_pairs(node):
            key = self._key(key_node, path)
            if key in result:
                _fail(key_node, (*path, key), msg("yaml_duplicate_key", key=key))
            self.located.keys[(*path, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _key(self, node: yaml.Node, path: NodePath) -> str:
        if not isinstance(node, yaml.ScalarNode):
            _fail(node, path, msg("yaml_complex_key"))
        # The text as written: YAML 1.1 would turn `no:` or `on:` into booleans.
        return str(node.value)

    def _scalar(self, node: yaml.Node, path: NodePath) -> Any:
        if node.tag == _INT_TAG and len(str(node.value)) > MAX_INT_DIGITS:
            _fail(node, path, msg("yaml_number_too_large", limit=MAX_INT_DIGITS))
        if node.tag == _TIMESTAMP_TAG:
            # A playbook never needs a date object, and parameters must stay JSON
            # data: keep what the admin wrote (e.g. in a text or a workflow parameter).
            return str(node.value)
        if node.tag == _BINARY_TAG:
            _fail(node, path, msg("yaml_binary"))
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            _fail(node, path, _yaml_message(exc), exc)
        except (ValueError, OverflowError) as exc:
            _fail(node, path, msg("yaml_bad_value", value=str(node.value)[:40], error=exc), exc)


def _merged_pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """The mapping's pairs; merge keys (``<<: *base``) are refused to keep positions honest."""
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            _fail(key_node, (), msg("yaml_merge_keys"))
        yield key_node, value_node


def _fail(
    node: yaml.Node, path: NodePath, message: str | Text, cause: BaseException | None = None
) -> NoReturn:
    mark = _mark(node)
    raise LocatedYamlError(mark.line, mark.column, message, path) from cause


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)
