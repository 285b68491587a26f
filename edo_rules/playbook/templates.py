"""Sandboxed message templates (Jinja2), checked statically at load time.

Defence in depth, like :mod:`edo_rules.playbook.expressions`:

1. at load, the Jinja AST is walked: only known names and fields (the tree in
   :mod:`edo_rules.playbook._names`), whitelisted filters and tests, calls to
   our functions and a few string methods, no private attributes, no macros,
   includes, imports or nested/recursive loops; literal arithmetic is folded
   with the bounded operators (``{{ 'a' * 10**9 }}`` is refused);
2. at run time, an :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`
   without Jinja's default globals (no ``range``, ``cycler``, ``lipsum``…),
   with ``*``, ``**``, ``%`` and ``+`` intercepted and bounded, a bounded
   output size and a time budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import jinja2
from jinja2 import nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as JINJA_TESTS

from edo_rules.playbook._frozen import ReadOnly
from edo_rules.playbook._names import (
    FUNCTIONS,
    NAMES,
    SAFE_METHODS,
    Func,
    Leaf,
    NameCheckError,
    Obj,
    Seq,
    Spec,
    check_attribute,
    check_name,
)
from edo_rules.playbook._text import did_you_mean
from edo_rules.playbook.expressions import (
    ExpressionCheckError,
    _bounded_add,
    _bounded_mult,
    _bounded_pow,
    _numeric_mod,
    runtime_error,
)
from edo_rules.playbook.rules import Location

MAX_SOURCE: Final = 10_000
MAX_NODES: Final = 1_000
MAX_OUTPUT: Final = 20_000
TIME_BUDGET: Final = 0.5  # seconds per rendering


class TemplateCheckError(ExpressionCheckError):
    """A template is refused at load time; the message says why."""


_JINJA_FILTERS: Final = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "round",
    "sort",
    "string",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
)
_JINJA_TESTS: Final = (
    "boolean",
    "defined",
    "divisibleby",
    "eq",
    "even",
    "false",
    "float",
    "ge",
    "gt",
    "in",
    "integer",
    "le",
    "lt",
    "ne",
    "none",
    "number",
    "odd",
    "sequence",
    "string",
    "true",
    "undefined",
)
#: Filters an admin may use: Jinja's harmless ones plus ours.
FILTERS: Final = frozenset({*_JINJA_FILTERS, *FUNCTIONS})
TESTS: Final = frozenset(_JINJA_TESTS)

_BINOPS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "*": _bounded_mult,
    "**": _bounded_pow,
    "%": _numeric_mod,
    "+": _bounded_add,
}

_LOOP: Final = Obj(
    {
        name: Leaf()
        for name in (
            "index",
            "index0",
            "revindex",
            "revindex0",
            "first",
            "last",
            "length",
            "previtem",
            "nextitem",
        )
    }
)


def _our_filter(name: str) -> Callable[..., Any]:
    """A filter that calls the function of the same name from the render names.

    Those functions depend on the rule's time zone and the calendar, which only
    :func:`edo_rules.playbook.context.make_names` knows.
    """

    @jinja2.pass_context
    def _filter(context: Context, value: Any, *args: Any) -> Any:
        func = context.resolve_or_missing(name)
        if not callable(func):
            raise TemplateCheckError(f"filter {name!r} needs the render names from make_names()")
        return func(value, *args)

    return _filter


def _finalize(value: Any) -> Any:
    # An absent optional field prints as nothing rather than "None".
    return "" if value is None else value


class _Sandbox(ImmutableSandboxedEnvironment):
    """No globals, whitelisted filters and tests, bounded operators."""

    intercepted_binops = frozenset(_BINOPS)

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            finalize=_finalize,
            keep_trailing_newline=True,
        )
        self.globals.clear()
        self.filters = {n: JINJA_FILTERS[n] for n in _JINJA_FILTERS}
        self.filters.update({n: _our_filter(n) for n in FUNCTIONS})
        self.tests = {n: JINJA_TESTS[n] for n in _JINJA_TESTS}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return _BINOPS[operator](left, right)


_ENV: Final = _Sandbox()


# -- the static check ---------------------------------------------------------

_ALLOWED: Final = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.Call,
    nodes.If,
    nodes.For,
    nodes.Assign,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.BinExpr,
    nodes.UnaryExpr,
    nodes.Concat,
    nodes.List,
    nodes.Tuple,
)
_REFUSED: Final[Mapping[type[nodes.Node], str]] = {
    nodes.Macro: "macros are not allowed",
    nodes.CallBlock: "call blocks are not allowed",
    nodes.Include: "a template cannot include other templates",
    nodes.Import: "a template cannot import other templates",
    nodes.FromImport: "a template cannot import other templates",
    nodes.Extends: "a template cannot extend other templates",
    nodes.Block: "blocks are not allowed",
    nodes.Dict: "dict literals are not allowed",
}


def check_template(source: str) -> nodes.Template:
    """Parse and check ``source``; returns the Jinja AST or raises :class:`TemplateCheckError`."""
    if len(source) > MAX_SOURCE:
        raise TemplateCheckError(f"template is longer than {MAX_SOURCE} characters")
    try:
        tree = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        where = f" (template line {exc.lineno})" if exc.lineno and exc.lineno > 1 else ""
        raise TemplateCheckError(f"template syntax error{where}: {exc.message}") from exc
    except RecursionError as exc:
        raise TemplateCheckError("template is nested too deeply") from exc
    if sum(1 for _ in tree.find_all(nodes.Node)) > MAX_NODES:
        raise TemplateCheckError(f"template is too complex (over {MAX_NODES} parts)")
    _Checker().visit(tree, dict(NAMES), loops=0)
    return tree


class _Checker:
    """Walks the Jinja AST with a scope of names → specs."""

    def __init__(self) -> None:
        self.folded: dict[int, Any] = {}  # id(node) → value of literal arithmetic

    def visit(self, node: nodes.Node, scope: dict[str, Spec], loops: int) -> Spec | None:
        refused = _REFUSED.get(type(node))
        if refused is not None:
            raise TemplateCheckError(refused)
        if not isinstance(node, _ALLOWED):
            raise TemplateCheckError(f"'{type(node).__name__}' is not allowed in a template")
        handler = getattr(self, f"_visit_{type(node).__name__.lower()}", None)
        if handler is not None:
            spec: Spec | None = handler(node, scope, loops)
            return spec
        for child in node.iter_child_nodes():
            self.visit(child, scope, loops)
        _fold(node, self.folded)
        return None

    def _visit_name(self, node: nodes.Name, scope: dict[str, Spec], loops: int) -> Spec | None:
        if node.ctx == "store":
            scope.setdefault(node.name, Leaf())
            return None
        try:
            return check_name(node.name, scope)
        except NameCheckError as exc:
            raise TemplateCheckError(str(exc)) from exc

    def _visit_getattr(
        self, node: nodes.Getattr, scope: dict[str, Spec], loops: int
    ) -> Spec | None:
        return self._attribute(node.node, node.attr, scope, loops)

    def _visit_getitem(
        self, node: nodes.Getitem, scope: dict[str, Spec], loops: int
    ) -> Spec | None:
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            return self._attribute(node.node, node.arg.value, scope, loops)
        base = self.visit(node.node, scope, loops)
        self.visit(node.arg, scope, loops)
        if isinstance(base, Obj):
            raise TemplateCheckError(f"'{_dotted(node.node)}' cannot be indexed")
        return base.item if isinstance(base, Seq) else None

    def _attribute(
        self, base_node: nodes.Node, attr: str, scope: dict[str, Spec], loops: int
    ) -> Spec | None:
        if attr.startswith("_"):
            raise TemplateCheckError(f"access to the private attribute {attr!r} is not allowed")
        base = self.visit(base_node, scope, loops)
        if base is None:  # a computed value (filter, call, literal): the sandbox guards it
            return _METHOD if attr in SAFE_METHODS else None
        try:
            return check_attribute(base, _dotted(base_node), attr) or _METHOD
        except NameCheckError as exc:
            raise TemplateCheckError(str(exc)) from exc

    def _visit_filter(self, node: nodes.Filter, scope: dict[str, Spec], loops: int) -> Spec | None:
        if node.name not in FILTERS:
            raise TemplateCheckError(
                f"unknown filter {node.name!r}{did_you_mean(node.name, FILTERS)}; "
                f"available: {', '.join(sorted(FILTERS))}"
            )
        self._arguments(node, scope, loops)
        return None

    def _visit_test(self, node: nodes.Test, scope: dict[str, Spec], loops: int) -> Spec | None:
        if node.name not in TESTS:
            raise TemplateCheckError(
                f"unknown test {node.name!r}{did_you_mean(node.name, TESTS)}; "
                f"available: {', '.join(sorted(TESTS))}"
            )
        self._arguments(node, scope, loops)
        return None

    def _visit_call(self, node: nodes.Call, scope: dict[str, Spec], loops: int) -> Spec | None:
        callee = self.visit(node.node, scope, loops)
        if not isinstance(callee, Func):  # our functions, or _METHOD for a safe method
            raise TemplateCheckError(
                f"'{_dotted(node.node)}' cannot be called; only the functions "
                f"{', '.join(FUNCTIONS)} and the string methods "
                f"{', '.join(sorted(SAFE_METHODS))} can be"
            )
        self._arguments(node, scope, loops)
        return None

    def _arguments(self, node: Any, scope: dict[str, Spec], loops: int) -> None:
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            raise TemplateCheckError("'*args' and '**kwargs' are not allowed")
        if getattr(node, "node", None) is not None and not isinstance(node, nodes.Call):
            self.visit(node.node, scope, loops)
        for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
            if isinstance(arg, nodes.Const) and str(arg.value).startswith("_"):
                raise TemplateCheckError(f"the private name {arg.value!r} is not allowed")
            self.visit(arg, scope, loops)

    def _visit_for(self, node: nodes.For, scope: dict[str, Spec], loops: int) -> Spec | None:
        if loops:
            raise TemplateCheckError("nested loops are not allowed")
        if node.recursive:
            raise TemplateCheckError("recursive loops are not allowed")
        iterable = self.visit(node.iter, scope, loops)
        inner = dict(scope, loop=_LOOP)
        item = iterable.item if isinstance(iterable, Seq) else Leaf()
        for target in _names_in(node.target):
            inner[target.name] = item if isinstance(node.target, nodes.Name) else Leaf()
        for child in [*node.body, *node.else_]:
            self.visit(child, inner, loops + 1)
        if node.test is not None:
            self.visit(node.test, inner, loops + 1)
        return None

    def _visit_assign(self, node: nodes.Assign, scope: dict[str, Spec], loops: int) -> Spec | None:
        value = self.visit(node.node, scope, loops)
        for target in _names_in(node.target):
            if target.name.startswith("_") or target.name in NAMES:
                raise TemplateCheckError(f"cannot assign to {target.name!r}")
            scope[target.name] = value if value is not None else Leaf()
        return None


_METHOD: Final = Func()  # marks "a safe method": callable, nothing else


def _names_in(target: nodes.Node) -> list[nodes.Name]:
    """The names a ``set``/``for`` target binds (``find_all`` skips the node itself)."""
    if isinstance(target, nodes.Name):
        return [target]
    return list(target.find_all(nodes.Name))


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_dotted(node.node)}[…]"
    return "(value)"


def _fold(node: nodes.Node, folded: dict[int, Any]) -> None:
    """Evaluate literal arithmetic with the bounded operators; refuse what they refuse."""
    if not isinstance(node, nodes.BinExpr) or node.operator not in _BINOPS:
        return
    left, right = _literal(node.left, folded), _literal(node.right, folded)
    if left is _NOT_LITERAL or right is _NOT_LITERAL:
        return
    try:
        value = _BINOPS[node.operator](left, right)
    except ExpressionCheckError as exc:
        raise TemplateCheckError(str(exc)) from exc
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise TemplateCheckError(f"invalid operation on literals: {exc}") from exc
    folded[id(node)] = value


_NOT_LITERAL: Final = object()


def _literal(node: nodes.Node, folded: dict[int, Any]) -> Any:
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Tuple | nodes.List):
        items = [_literal(item, folded) for item in node.items]
        if any(item is _NOT_LITERAL for item in items):
            return _NOT_LITERAL
        return tuple(items) if isinstance(node, nodes.Tuple) else items
    return folded.get(id(node), _NOT_LITERAL)


# -- run time -----------------------------------------------------------------


class CompiledTemplate(ReadOnly):
    """A checked template (satisfies :class:`edo_rules.playbook.rules.Template`).

    ``render`` raises :class:`~edo_rules.playbook.expressions.EvaluationError`
    naming the playbook, rule, parameter and document when rendering fails.
    """

    __slots__ = ("location", "path", "rule_key", "source", "template")
    source: str
    location: Location
    path: str  # e.g. "rules[0].do[0].notify.text"
    rule_key: str
    template: jinja2.Template | None  # None: plain text

    def __init__(
        self,
        source: str,
        location: Location,
        path: str,
        rule_key: str,
        template: jinja2.Template | None,
    ):
        self._init(
            source=source, location=location, path=path, rule_key=rule_key, template=template
        )

    def render(self, names: Mapping[str, Any]) -> str:
        if self.template is None:
            return self.source
        try:
            return _render_bounded(self.template, names)
        except Exception as exc:  # every failure becomes one clear error
            raise runtime_error(self, "template", exc, names) from exc


def _render_bounded(template: jinja2.Template, names: Mapping[str, Any]) -> str:
    deadline = time.monotonic() + TIME_BUDGET
    parts: list[str] = []
    size = 0
    for chunk in template.generate(dict(names)):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateCheckError(f"output longer than {MAX_OUTPUT} characters")
        if time.monotonic() > deadline:
            raise TemplateCheckError("rendering took too long")
        parts.append(chunk)
    return "".join(parts)


def compile_template(
    source: str, *, location: Location, path: str, rule_key: str
) -> CompiledTemplate:
    """Check and compile; raises :class:`TemplateCheckError` with the reason."""
    if "{" not in source:  # no Jinja syntax at all: keep it as plain text
        return CompiledTemplate(source, location, path, rule_key, None)
    tree = check_template(source)
    return CompiledTemplate(source, location, path, rule_key, _ENV.from_string(tree))
