"""Sandboxed ``where`` expressions (simpleeval), checked statically at load time.

Defence in depth:

1. at load, the Python AST is walked against a whitelist of node types and
   the tree of known names (:mod:`edo_rules.playbook._names`): no private or
   unknown attributes, no comprehensions, lambdas, f-strings or ``%``
   formatting, calls only to known functions and a few string methods;
   constant sub-expressions are folded with the bounded operators, so
   ``9**9**9`` or ``'a'*10**9`` are refused before anything runs;
2. at run time, simpleeval (which itself refuses ``_`` attributes, ``format``
   and dangerous functions) runs with bounded operators, a bounded number of
   evaluated nodes and a time budget.
"""

from __future__ import annotations

import ast
import builtins
import operator
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Final

import simpleeval

from edo_rules._messages import Text, msg, reason
from edo_rules.errors import PlaybookError, Problem
from edo_rules.playbook._bounded import (
    COMPARISONS,
    SandboxError,
    bounded_add,
    bounded_floordiv,
    bounded_mod,
    bounded_mult,
    bounded_neg,
    bounded_pos,
    bounded_pow,
    bounded_round,
    bounded_str,
    bounded_sub,
    bounded_truediv,
)
from edo_rules.playbook._budget import Budget, current_budget, metered
from edo_rules.playbook._calls import bounded_call, bounded_int, counted_builtin
from edo_rules.playbook._frozen import ReadOnly
from edo_rules.playbook._names import (
    EXPRESSION_BUILTINS,
    FUNCTIONS,
    NAMES,
    Func,
    NameCheckError,
    Obj,
    Seq,
    Spec,
    check_attribute,
    check_name,
)
from edo_rules.playbook.rules import Location

MAX_SOURCE: Final = 1000
MAX_NODES: Final = 200
MAX_DEPTH: Final = 24
MAX_LITERAL: Final = 10_000  # characters of a string literal


class ExpressionCheckError(SandboxError):
    """An expression is refused at load time; the message says why."""


class EvaluationError(PlaybookError):
    """An expression or template failed at run time (names the playbook, rule and source)."""


OPERATORS: Final[Mapping[type[ast.AST], Callable[..., Any]]] = {
    ast.Add: bounded_add,
    ast.Sub: bounded_sub,
    ast.Mult: bounded_mult,
    ast.Div: bounded_truediv,
    ast.FloorDiv: bounded_floordiv,
    ast.Mod: bounded_mod,
    ast.Pow: bounded_pow,
    ast.Eq: COMPARISONS["eq"],
    ast.NotEq: COMPARISONS["ne"],
    ast.Gt: COMPARISONS["gt"],
    ast.Lt: COMPARISONS["lt"],
    ast.GtE: COMPARISONS["gteq"],
    ast.LtE: COMPARISONS["lteq"],
    ast.Not: operator.not_,
    ast.USub: bounded_neg,
    ast.UAdd: bounded_pos,
    ast.In: COMPARISONS["in"],
    ast.NotIn: COMPARISONS["notin"],
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


#: simpleeval's own operators the sandbox leaves out (refused at load; absent at run time).
REFUSED_OPERATORS: Final[Mapping[type[ast.AST], str]] = {
    ast.LShift: "'<<' builds numbers of any size",
    ast.RShift: "bit operations are not needed in a playbook",
    ast.BitXor: "bit operations are not needed in a playbook",
    ast.BitOr: "bit operations are not needed in a playbook",
    ast.BitAnd: "bit operations are not needed in a playbook",
    ast.Invert: "bit operations are not needed in a playbook",
}

BUILTINS: Final[Mapping[str, Callable[..., Any]]] = {
    "len": counted_builtin(len),
    "abs": counted_builtin(abs),
    "min": counted_builtin(min),
    "max": counted_builtin(max),
    "round": bounded_round,
    "str": bounded_str,
    "int": bounded_int,
    "float": counted_builtin(float),
}
#: simpleeval's default functions the sandbox leaves out.
REFUSED_FUNCTIONS: Final[Mapping[str, str]] = {
    "rand": "random numbers make a rule's result unrepeatable",
    "randint": "random numbers make a rule's result unrepeatable",
}
assert set(BUILTINS) == set(EXPRESSION_BUILTINS)


# -- the static check ---------------------------------------------------------

_ALLOWED_NODES: Final = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Compare,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.BinOp,
    ast.UnaryOp,
    ast.IfExp,
    ast.Call,
    ast.List,
    ast.Tuple,
    *OPERATORS,
)

#: Refused node kinds → the catalogue key saying why.
_REFUSED: Final[Mapping[type[ast.AST], str]] = {
    ast.Lambda: "expr_lambda",
    ast.ListComp: "expr_comprehension",
    ast.SetComp: "expr_comprehension",
    ast.DictComp: "expr_comprehension",
    ast.GeneratorExp: "expr_generator",
    ast.JoinedStr: "expr_fstring",
    ast.NamedExpr: "expr_walrus",
    ast.Starred: "expr_starred",
    ast.Dict: "expr_dict",
    ast.Set: "expr_set",
    ast.Await: "expr_await",
    ast.Yield: "expr_yield",
    ast.YieldFrom: "expr_yield",
}


def check_expression(source: str, names: Mapping[str, Spec] = NAMES) -> ast.Expression:
    """Parse and check ``source``; returns the AST or raises :class:`ExpressionCheckError`."""
    if len(source) > MAX_SOURCE:
        raise ExpressionCheckError(msg("expr_too_long", limit=MAX_SOURCE))
    tree = _parse(source)
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionCheckError(msg("expr_too_complex", limit=MAX_NODES))
    _Checker(names).visit_root(tree)
    return tree


def _parse(source: str) -> ast.Expression:
    text = source.strip()
    if not text:
        raise ExpressionCheckError(msg("expr_empty"))
    try:
        with warnings.catch_warnings():
            # "9doc" is only a SyntaxWarning for Python; for us it is an error.
            warnings.simplefilter("error", SyntaxWarning)
            return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = msg("expr_at_column", column=exc.offset) if exc.offset else ""
        raise ExpressionCheckError(msg("expr_syntax", where=where, error=exc.msg)) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionCheckError(msg("expr_unparsable", error=str(exc))) from exc


class _Checker:
    """Walks the AST; resolves names and attributes against the name tree."""

    def __init__(self, names: Mapping[str, Spec]):
        self.names = names
        self.folded: dict[int, Any] = {}  # id(node) → value of a literal sub-expression

    def visit_root(self, tree: ast.Expression) -> None:
        self.visit(tree.body, 0)

    def visit(self, node: ast.AST, depth: int) -> Spec | None:
        if depth > MAX_DEPTH:
            raise ExpressionCheckError(msg("expr_too_deep", limit=MAX_DEPTH))
        refused = _REFUSED.get(type(node))
        if refused is not None:
            raise ExpressionCheckError(msg(refused))
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionCheckError(msg("expr_node_refused", node=type(node).__name__))
        handler = getattr(self, f"_visit_{type(node).__name__.lower()}", None)
        if handler is not None:
            spec: Spec | None = handler(node, depth)
            return spec
        for child in ast.iter_child_nodes(node):
            self.visit(child, depth + 1)
        _fold_constants(node, self.folded)
        return None

    def _visit_name(self, node: ast.Name, depth: int) -> Spec | None:
        try:
            spec = check_name(node.id, self.names)
        except NameCheckError as exc:
            raise ExpressionCheckError(reason(exc)) from exc
        if isinstance(spec, Func):  # a call names its function without visiting it
            raise ExpressionCheckError(msg("expr_function_not_called", name=node.id))
        return spec

    def _visit_constant(self, node: ast.Constant, depth: int) -> Spec | None:
        if isinstance(node.value, str | bytes) and len(node.value) > MAX_LITERAL:
            raise ExpressionCheckError(msg("expr_literal_too_long", limit=MAX_LITERAL))
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise ExpressionCheckError(msg("expr_literal_refused", value=node.value))
        return None

    def _visit_attribute(self, node: ast.Attribute, depth: int) -> Spec | None:
        if node.attr.startswith("_"):  # say the real reason before anything about the base
            raise ExpressionCheckError(msg("pb_private_attribute", attr=node.attr))
        base = self.visit(node.value, depth + 1)
        try:
            return check_attribute(base, _dotted(node.value), node.attr)
        except NameCheckError as exc:
            raise ExpressionCheckError(reason(exc)) from exc

    def _visit_subscript(self, node: ast.Subscript, depth: int) -> Spec | None:
        base = self.visit(node.value, depth + 1)
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            raise ExpressionCheckError(
                msg("expr_use_dot", name=index.value)
                if not index.value.startswith("_")
                else msg("pb_private_attribute", attr=index.value)
            )
        self.visit(index, depth + 1)
        if isinstance(base, Obj):
            raise ExpressionCheckError(msg("expr_not_indexable", name=_dotted(node.value)))
        return base.item if isinstance(base, Seq) else None

    def _visit_call(self, node: ast.Call, depth: int) -> Spec | None:
        if node.keywords:
            raise ExpressionCheckError(msg("expr_keywords"))
        if isinstance(node.func, ast.Name):
            self._check_function(node.func.id)
        elif isinstance(node.func, ast.Attribute):
            if self.visit(node.func, depth + 1) is not None:
                raise ExpressionCheckError(msg("expr_not_callable", name=_dotted(node.func)))
        else:
            self.visit(node.func, depth + 1)  # a refused node (lambda…) says why
            raise ExpressionCheckError(msg("expr_only_named_calls"))
        for arg in node.args:
            self.visit(arg, depth + 1)
        return None

    def _check_function(self, name: str) -> None:
        if name.startswith("_"):
            raise ExpressionCheckError(msg("pb_private_name", name=name))
        if name in BUILTINS or isinstance(self.names.get(name), Func):
            return
        from edo_rules.playbook._text import did_you_mean

        known = [*BUILTINS, *FUNCTIONS]
        hint, listed = did_you_mean(name, known), ", ".join(sorted(known))
        raise ExpressionCheckError(msg("pb_unknown_function", name=name, hint=hint, known=listed))


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return f"{_dotted(node.value)}[…]"
    return "(value)"


def _fold_constants(node: ast.AST, folded: dict[int, Any]) -> None:
    """Evaluate an operation whose operands are literals with the bounded operators.

    This refuses ``9**9**9`` and ``'a' * 10**9`` at load time instead of at run time.
    """
    if not isinstance(node, ast.BinOp | ast.UnaryOp):
        return
    operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.operand]
    values = [_literal(o, folded) for o in operands]
    if any(v is _NOT_LITERAL for v in values):
        return
    func = OPERATORS[type(node.op)]
    try:
        value = func(*values)
    except SandboxError as exc:
        raise ExpressionCheckError(reason(exc)) from exc
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionCheckError(msg("expr_bad_literals", error=str(exc))) from exc
    folded[id(node)] = value  # so that an enclosing operation folds too


_NOT_LITERAL: Final = object()


def _literal(node: ast.AST, folded: dict[int, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        items = [_literal(item, folded) for item in node.elts]
        if any(item is _NOT_LITERAL for item in items):
            return _NOT_LITERAL
        return tuple(items) if isinstance(node, ast.Tuple) else items
    return folded.get(id(node), _NOT_LITERAL)


# -- run time -----------------------------------------------------------------


class _BudgetedEval(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
    """simpleeval whose every node and call counts on the evaluation's meter.

    Building one costs more than a typical evaluation, so each thread keeps one
    (:func:`_evaluator`) and :meth:`run` swaps in the names.
    """

    def __init__(self) -> None:
        super().__init__(operators=OPERATORS, functions=dict(BUILTINS), names={})
        self.meter_tick = _no_tick

    def run(self, tree: ast.expr, names: Mapping[str, Any], budget: Budget) -> Any:
        self.names = names
        functions = BUILTINS if budget.enabled else _PLAIN_BUILTINS
        self.functions = {**functions, **{n: names[n] for n in FUNCTIONS if n in names}}
        try:
            if not budget.enabled:  # to measure what the budget costs: the unbounded sandbox
                self.operators = _PLAIN_OPERATORS
                return super()._eval(tree)
            with metered(budget) as meter:
                self.meter_tick = meter.tick
                return self._eval(tree)
        finally:
            self.names = {}  # do not keep a document alive between runs
            self.meter_tick = _no_tick
            self.operators = OPERATORS

    def _eval(self, node: ast.AST) -> Any:
        self.meter_tick()
        return super()._eval(node)

    def _eval_call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Attribute) and self.operators is OPERATORS:
            # A method (``doc.title.lower()``): bounded like the template's calls.
            func = self._eval(node.func)
            return bounded_call(func, [self._eval(a) for a in node.args], {})
        return super()._eval_call(node)


def _no_tick() -> None:
    return None


_PLAIN_OPERATORS: Final[Mapping[type[ast.AST], Callable[..., Any]]] = {
    **simpleeval.DEFAULT_OPERATORS,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_PLAIN_BUILTINS: Final[Mapping[str, Callable[..., Any]]] = {
    **{name: getattr(builtins, name) for name in EXPRESSION_BUILTINS},
}


_LOCAL = threading.local()


def _evaluator() -> _BudgetedEval:
    evaluator: _BudgetedEval | None = getattr(_LOCAL, "evaluator", None)
    if evaluator is None:
        evaluator = _LOCAL.evaluator = _BudgetedEval()
    return evaluator


class CompiledExpression(ReadOnly):
    """A checked ``where`` expression (satisfies :class:`edo_rules.playbook.rules.Expression`).

    ``evaluate`` raises :class:`EvaluationError` naming the playbook, rule and
    source when the expression fails on a document (e.g. ``None >= 10000``).
    """

    __slots__ = ("location", "path", "rule_key", "source", "tree")
    source: str
    location: Location
    path: str  # e.g. "rules[0].match.where"
    rule_key: str  # "<playbook>/<rule id>"
    tree: ast.Expression

    def __init__(
        self, source: str, location: Location, path: str, rule_key: str, tree: ast.Expression
    ):
        self._init(source=source, location=location, path=path, rule_key=rule_key, tree=tree)

    def evaluate(self, names: Mapping[str, Any]) -> Any:
        try:
            return _evaluator().run(self.tree.body, names, current_budget())
        except Exception as exc:  # every failure becomes one clear error
            raise runtime_error(self, "expression", exc, names) from exc


def runtime_error(
    compiled: CompiledExpression | Any, what: str, exc: Exception, names: Mapping[str, Any]
) -> EvaluationError:
    """The error for a failed expression or template: playbook, rule, source and document."""
    loc: Location = compiled.location
    doc_id = getattr(names.get("doc"), "id", None)
    source = compiled.source if len(compiled.source) <= 100 else compiled.source[:97] + "..."
    message = msg(
        "eval_failed",
        rule=compiled.rule_key,
        what=msg("eval_template") if what == "template" else msg("eval_expression"),
        source=source,
        on_doc=msg("eval_on_doc", doc=doc_id) if doc_id is not None else "",
        error=_error_text(exc),
    )
    return EvaluationError([Problem(loc.file, loc.line, loc.column, compiled.path, message)])


def _error_text(exc: Exception) -> Text | str:
    """The sandbox's own refusal as a catalogue text; Python's error (a TypeError) as it is."""
    text = reason(exc)
    return text if isinstance(text, Text) else f"{type(exc).__name__}: {text}"


def compile_expression(
    source: str, *, location: Location, path: str, rule_key: str
) -> CompiledExpression:
    """Check and compile; raises :class:`ExpressionCheckError` with the reason."""
    tree = check_expression(source)
    return CompiledExpression(source, location, path, rule_key, tree)
