"""``$filter`` of the 1C standard OData interface: tokenizer, parser, compiler.

The parsed expression is a small tree of frozen nodes; :func:`compile_filter`
turns it into a predicate over wire-format rows. The planner in
:mod:`._sets` reads the same tree to narrow candidates by an index.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from edo_rules.emulators.onec._conduct import KEY_RANGE
from edo_rules.emulators.onec._errors import ODataError, not_implemented, parse_error

Row = Mapping[str, Any]
Getter = Callable[[Row, Row | None], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<guid>guid'[^']*')
    | (?P<datetime>datetime'[^']*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?)[mMdDfFlL]?
    | (?P<name>[^\W\d]\w*(?:/[^\W\d]\w*)*)
    | (?P<punct>[(),:])
    )""",
    re.VERBOSE,
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$")
COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_FUNCTIONS = frozenset({"substringof", "startswith", "endswith"})


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    is_guid: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    path: str  # "Field" or "d/Field" inside a lambda


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Lambda:
    collection: str
    quantifier: str  # "any" | "all"
    var: str
    body: Node


Node = Literal | Member | Compare | BoolOp | Not | Call | Lambda


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise parse_error(f"неожиданный символ в позиции {pos + 1}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise parse_error("неожиданный конец выражения")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        text = self.take()[1]
        if text != value:
            raise parse_error(f"ожидалось {value!r}, получено {text!r}")

    def at_word(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1] in words:
            return token[1]
        return None

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise parse_error(f"лишний фрагмент {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.at_word("or"):
            self.take()
            node = BoolOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.at_word("and"):
            self.take()
            node = BoolOp("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at_word("not"):
            self.take()
            return Not(self.unary())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.primary()
        word = self.at_word(*COMPARISONS, "in")
        if word is None:
            return left
        self.take()
        if word == "in":
            raise parse_error("оператор 'in' не поддерживается")
        return Compare(word, left, self.primary())

    def primary(self) -> Node:
        kind, text = self.take()
        if text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if kind == "name":
            return self.name(text)
        if kind in ("guid", "datetime", "string", "number"):
            return _literal(kind, text)
        raise parse_error(f"неожиданный фрагмент {text!r}")

    def name(self, text: str) -> Node:
        if text in ("true", "false"):
            return Literal(text == "true")
        if text == "null":
            return Literal(None)
        token = self.peek()
        if token is None or token[1] != "(":
            return Member(text)
        self.take()
        head, _, last = text.rpartition("/")
        if head and last in ("any", "all"):
            return self.lambda_(head, last)
        if text not in _FUNCTIONS:
            raise not_implemented(f"функция {text}")
        return Call(text, self.arguments())

    def arguments(self) -> tuple[Node, ...]:
        args = [self.or_expr()]
        while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
            self.take()
            args.append(self.or_expr())
        self.expect(")")
        return tuple(args)

    def lambda_(self, collection: str, quantifier: str) -> Node:
        kind, var = self.take()
        if kind != "name":
            raise parse_error(f"ожидалась переменная лямбда-выражения, получено {var!r}")
        self.expect(":")
        body = self.or_expr()
        self.expect(")")
        return Lambda(collection, quantifier, var, body)


def _literal(kind: str, text: str) -> Literal:
    if kind == "number":
        return Literal(float(text) if "." in text else int(text))
    if kind == "string":
        return Literal(text[1:-1].replace("''", "'"))
    inner = text[text.index("'") + 1 : -1]
    if kind == "guid":
        if not _GUID.match(inner):
            raise parse_error(f"неверный литерал guid'{inner}'")
        return Literal(inner.lower(), is_guid=True)
    match = _DATETIME.match(inner)
    if match is None:
        raise parse_error(f"неверный литерал datetime'{inner}' (ожидается ГГГГ-ММ-ДДTчч:мм:сс)")
    seconds = match.group(6) or "00"
    return Literal(f"{inner[:16]}:{seconds}")


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` expression; raises :class:`ODataError` code 14 on bad syntax."""
    return _Parser(text).parse()


# -- compilation -------------------------------------------------------------


def compile_filter(node: Node, fields: frozenset[str]) -> Callable[[Row], bool]:
    """A predicate over rows; unknown fields and unsupported comparisons raise ODataError."""
    getter = _compile(node, fields, None)
    return lambda row: getter(row, None) is True


def _compile(node: Node, fields: frozenset[str], var: str | None) -> Getter:
    if isinstance(node, Literal):
        value = node.value
        return lambda row, item: value
    if isinstance(node, Member):
        return _member(node.path, fields, var)
    if isinstance(node, Not):
        inner = _compile(node.operand, fields, var)
        return lambda row, item: not inner(row, item)
    compiler = _COMPILERS[type(node)]
    return compiler(node, fields, var)


def _member(path: str, fields: frozenset[str], var: str | None) -> Getter:
    head, _, rest = path.partition("/")
    if var is not None and head == var and rest:
        return lambda row, item: None if item is None else item.get(rest)
    if "/" in path:
        raise not_implemented(f"обращение к реквизиту через '/': {path}")
    if path not in fields:
        raise parse_error(f"неизвестное поле '{path}'")
    return lambda row, item: row.get(path)


def _is_key(node: Node) -> bool:
    if isinstance(node, Literal):
        return node.is_guid
    return isinstance(node, Member) and (node.path == "Ref_Key" or node.path.endswith("_Key"))


def _compare(node: Compare, fields: frozenset[str], var: str | None) -> Getter:
    ranged = node.op not in ("eq", "ne") and (_is_key(node.left) or _is_key(node.right))
    if ranged and not KEY_RANGE.get():
        # 1C compares references as unlimited-length values: a platform failure.
        raise ODataError(
            500,
            "-1",
            "Ошибка при выполнении запроса. Нельзя сравнивать поля неограниченной длины "
            "и поля несопоставимых типов",
            platform=True,
        )
    left = _compile(node.left, fields, var)
    right = _compile(node.right, fields, var)
    op = node.op
    return lambda row, item: compare(op, left(row, item), right(row, item))


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def compare(op: str, a: Any, b: Any) -> bool:
    """Compare two wire values the way 1C does (Int64 strings against numbers too)."""
    if isinstance(a, str) and isinstance(b, int | float) and not isinstance(b, bool):
        a = _number(a)
    elif isinstance(b, str) and isinstance(a, int | float) and not isinstance(a, bool):
        b = _number(b)
    if op in ("eq", "ne"):
        return bool(a == b) == (op == "eq")
    if a is None or b is None or (type(a) is not type(b) and not _both_numbers(a, b)):
        return False
    return bool(_ORDER[op](a, b))


def _both_numbers(a: Any, b: Any) -> bool:
    return isinstance(a, int | float) and isinstance(b, int | float)


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _bool_op(node: BoolOp, fields: frozenset[str], var: str | None) -> Getter:
    left = _compile(node.left, fields, var)
    right = _compile(node.right, fields, var)
    if node.op == "and":
        return lambda row, item: left(row, item) is True and right(row, item) is True
    return lambda row, item: left(row, item) is True or right(row, item) is True


def _call(node: Call, fields: frozenset[str], var: str | None) -> Getter:
    if len(node.args) != 2:
        raise parse_error(f"функция {node.name} ожидает 2 аргумента")
    first = _compile(node.args[0], fields, var)
    second = _compile(node.args[1], fields, var)
    name = node.name

    def call(row: Row, item: Row | None) -> bool:
        a, b = first(row, item), second(row, item)
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        a, b = a.casefold(), b.casefold()
        if name == "substringof":
            return a in b
        return a.startswith(b) if name == "startswith" else a.endswith(b)

    return call


def _lambda(node: Lambda, fields: frozenset[str], var: str | None) -> Getter:
    if var is not None:
        raise not_implemented("вложенные лямбда-выражения")
    if node.collection not in fields:
        raise parse_error(f"неизвестная табличная часть '{node.collection}'")
    body = _compile(node.body, frozenset(), node.var)
    collection = node.collection
    quantifier = any if node.quantifier == "any" else all

    def evaluate(row: Row, item: Row | None) -> bool:
        lines = row.get(collection) or []
        return quantifier(body(row, line) is True for line in lines)

    return evaluate


_COMPILERS: dict[type, Callable[[Any, frozenset[str], str | None], Getter]] = {
    Compare: _compare,
    BoolOp: _bool_op,
    Call: _call,
    Lambda: _lambda,
}
