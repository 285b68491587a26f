"""The static check of message templates: the Jinja AST against the sandbox's rules.

Only known names and fields (the tree in :mod:`edo_rules.playbook._names`),
whitelisted filters and tests, calls to our functions and a few string
methods; no private attributes, no macros, includes, imports or recursive
loops; literal arithmetic is folded with the bounded operators, so
``{{ 'a' * 10**9 }}`` is refused before anything runs. What cannot be decided
here (how long a loop over a field runs, how large a joined text gets) is left
to the run-time budget (:mod:`edo_rules.playbook._budget`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from jinja2 import nodes

from edo_rules._messages import msg, reason
from edo_rules.playbook._bounded import (
    SandboxError,
    bounded_add,
    bounded_floordiv,
    bounded_mod,
    bounded_mult,
    bounded_neg,
    bounded_pos,
    bounded_pow,
    bounded_sub,
    bounded_truediv,
)
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
from edo_rules.playbook.expressions import ExpressionCheckError


class TemplateCheckError(ExpressionCheckError):
    """A template is refused at load time; the message says why."""


_JINJA_FILTERS: Final = (
    "abs",
    "batch",
    "capitalize",
    "center",
    "count",
    "d",
    "default",
    "first",
    "float",
    "format",
    "indent",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "replace",
    "reverse",
    "round",
    "slice",
    "sort",
    "string",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "wordcount",
    "wordwrap",
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
#: The filter that lets a value through as markup (see :mod:`edo_rules._untrusted`).
TRUSTED: Final = "trusted"
#: Filters an admin may use: Jinja's text and list filters plus ours (all bounded at
#: run time; left out are those that print Python objects, mark HTML, or are random).
FILTERS: Final = frozenset({*_JINJA_FILTERS, *FUNCTIONS, TRUSTED})
TESTS: Final = frozenset(_JINJA_TESTS)


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


#: Jinja's arithmetic operators (all intercepted at run time) and their bounded versions.
BINOPS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "*": bounded_mult,
    "**": bounded_pow,
    "%": bounded_mod,
    "+": bounded_add,
    "-": bounded_sub,
    "/": bounded_truediv,
    "//": bounded_floordiv,
}
UNOPS: Final[Mapping[str, Callable[[Any], Any]]] = {"-": bounded_neg, "+": bounded_pos}

MAX_NODES: Final = 1_000
#: Jinja globals a template may call (bounded at run time like everything else).
GLOBALS: Final = ("range",)


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
#: Refused node kinds → the catalogue key saying why.
_REFUSED: Final[Mapping[type[nodes.Node], str]] = {
    nodes.Macro: "tpl_macro",
    nodes.CallBlock: "tpl_call_block",
    nodes.Include: "tpl_include",
    nodes.Import: "tpl_import",
    nodes.FromImport: "tpl_import",
    nodes.Extends: "tpl_extends",
    nodes.Block: "tpl_block",
    nodes.Dict: "tpl_dict",
}


def check_tree(tree: nodes.Template) -> None:
    """Walk a parsed template; raises :class:`TemplateCheckError` at the first refusal."""
    if sum(1 for _ in tree.find_all(nodes.Node)) > MAX_NODES:
        raise TemplateCheckError(msg("tpl_too_complex", limit=MAX_NODES))
    _Checker().visit(tree, {**NAMES, **{name: Func() for name in GLOBALS}}, loops=0)


class _Checker:
    """Walks the Jinja AST with a scope of names → specs."""

    def __init__(self) -> None:
        self.folded: dict[int, Any] = {}  # id(node) → value of literal arithmetic

    def visit(self, node: nodes.Node, scope: dict[str, Spec], loops: int) -> Spec | None:
        """The spec of ``node``'s value; a function is refused here (only a call may name one)."""
        spec = self._any(node, scope, loops)
        if isinstance(spec, Func):
            raise TemplateCheckError(msg("tpl_function_not_called", name=_dotted(node)))
        return spec

    def _any(self, node: nodes.Node, scope: dict[str, Spec], loops: int) -> Spec | None:
        refused = _REFUSED.get(type(node))
        if refused is not None:
            raise TemplateCheckError(msg(refused))
        if not isinstance(node, _ALLOWED):
            raise TemplateCheckError(msg("tpl_node_refused", node=type(node).__name__))
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
            raise TemplateCheckError(reason(exc)) from exc

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
            raise TemplateCheckError(msg("expr_not_indexable", name=_dotted(node.node)))
        return base.item if isinstance(base, Seq) else None

    def _attribute(
        self, base_node: nodes.Node, attr: str, scope: dict[str, Spec], loops: int
    ) -> Spec | None:
        if attr.startswith("_"):
            raise TemplateCheckError(msg("pb_private_attribute", attr=attr))
        base = self.visit(base_node, scope, loops)
        if base is None:  # a computed value (filter, call, literal): the sandbox guards it
            return _METHOD if attr in SAFE_METHODS else None
        try:
            return check_attribute(base, _dotted(base_node), attr) or _METHOD
        except NameCheckError as exc:
            raise TemplateCheckError(reason(exc)) from exc

    def _visit_filter(self, node: nodes.Filter, scope: dict[str, Spec], loops: int) -> Spec | None:
        if node.name not in FILTERS:
            hint, listed = did_you_mean(node.name, FILTERS), ", ".join(sorted(FILTERS))
            raise TemplateCheckError(
                msg("pb_unknown_filter", name=node.name, hint=hint, known=listed)
            )
        self._arguments(node, scope, loops)
        return None

    def _visit_test(self, node: nodes.Test, scope: dict[str, Spec], loops: int) -> Spec | None:
        if node.name not in TESTS:
            hint, listed = did_you_mean(node.name, TESTS), ", ".join(sorted(TESTS))
            raise TemplateCheckError(
                msg("pb_unknown_test", name=node.name, hint=hint, known=listed)
            )
        self._arguments(node, scope, loops)
        return None

    def _visit_call(self, node: nodes.Call, scope: dict[str, Spec], loops: int) -> Spec | None:
        callee = self._any(node.node, scope, loops)
        if not isinstance(callee, Func):  # our functions, or _METHOD for a safe method
            functions, methods = ", ".join(FUNCTIONS), ", ".join(sorted(SAFE_METHODS))
            name = _dotted(node.node)
            raise TemplateCheckError(
                msg("tpl_not_callable", name=name, functions=functions, methods=methods)
            )
        self._arguments(node, scope, loops)
        return None

    def _arguments(self, node: Any, scope: dict[str, Spec], loops: int) -> None:
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            raise TemplateCheckError(msg("tpl_star_args"))
        if getattr(node, "node", None) is not None and not isinstance(node, nodes.Call):
            self.visit(node.node, scope, loops)
        for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
            if isinstance(arg, nodes.Const) and str(arg.value).startswith("_"):
                raise TemplateCheckError(msg("pb_private_name", name=arg.value))
            self.visit(arg, scope, loops)

    def _visit_for(self, node: nodes.For, scope: dict[str, Spec], loops: int) -> Spec | None:
        # Nested loops are allowed: the run-time budget counts every iteration.
        if node.recursive:
            raise TemplateCheckError(msg("tpl_recursive_loop"))
        iterable = self.visit(node.iter, scope, loops)
        inner = dict(scope, loop=_LOOP)
        item = iterable.item if isinstance(iterable, Seq) else Leaf()
        for target in _names_in(node.target):
            _check_new_name(target.name)
            inner[target.name] = item if isinstance(node.target, nodes.Name) else Leaf()
        for child in [*node.body, *node.else_]:
            self.visit(child, inner, loops + 1)
        if node.test is not None:
            self.visit(node.test, inner, loops + 1)
        return None

    def _visit_assign(self, node: nodes.Assign, scope: dict[str, Spec], loops: int) -> Spec | None:
        value = self.visit(node.node, scope, loops)
        for target in _names_in(node.target):
            _check_new_name(target.name)
            scope[target.name] = value if value is not None else Leaf()
        return None


_METHOD: Final = Func()  # marks "a safe method": callable, nothing else


def _check_new_name(name: str) -> None:
    """A ``set``/``for`` variable may not hide a known name or start with '_'."""
    if name.startswith("_") or name in NAMES or name == "loop":
        raise TemplateCheckError(msg("tpl_cannot_assign", name=name))


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
    if not isinstance(node, nodes.BinExpr) or node.operator not in BINOPS:
        return
    left, right = _literal(node.left, folded), _literal(node.right, folded)
    if left is _NOT_LITERAL or right is _NOT_LITERAL:
        return
    try:
        value = BINOPS[node.operator](left, right)
    except SandboxError as exc:
        raise TemplateCheckError(reason(exc)) from exc
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise TemplateCheckError(msg("expr_bad_literals", error=str(exc))) from exc
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
