"""Sandboxed message templates (Jinja2), checked statically at load time.

Defence in depth, like :mod:`edo_rules.playbook.expressions`:

1. at load, the Jinja AST is walked: only known names and fields (the tree in
   :mod:`edo_rules.playbook._names`), whitelisted filters and tests, calls to
   our functions and a few string methods, no private attributes, no macros,
   includes, imports or recursive loops; literal arithmetic is folded with the
   bounded operators (``{{ 'a' * 10**9 }}`` is refused);
2. at run time, an :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`
   without Jinja's default globals, in which every operator, filter, test,
   call, attribute read, loop iteration and ``~`` counts on the evaluation's
   budget (:mod:`edo_rules.playbook._budget`) and what would build a large
   value is sized before it is built; the output is bounded too.

Every value a template prints (``{{ … }}``) is neutralised for Bitrix24
(:func:`edo_rules._untrusted.neutralise`: no BB-code, HTML or control
characters), like Jinja's autoescape with a Bitrix24 escape: the text the admin
wrote around it stays markup, and ``|trusted`` lets a value through as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from types import BuiltinMethodType
from typing import Any, Final

import jinja2
from jinja2 import nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.tests import TESTS as JINJA_TESTS
from jinja2.visitor import NodeTransformer

from edo_rules._messages import msg
from edo_rules._untrusted import Trusted, neutralise
from edo_rules.playbook._bounded import COMPARISONS
from edo_rules.playbook._budget import (
    BudgetExceededError,
    Meter,
    SandboxError,
    check_result,
    current_budget,
    meter,
    metered,
    text_size,
)
from edo_rules.playbook._calls import bounded_call
from edo_rules.playbook._frozen import ReadOnly
from edo_rules.playbook._jinja_budget import (
    BOUNDED_FILTERS,
    BOUNDED_GLOBALS,
    BOUNDED_TESTS,
    linear,
)
from edo_rules.playbook._names import FUNCTIONS
from edo_rules.playbook._template_check import (
    BINOPS,
    FILTERS,
    GLOBALS,
    TESTS,
    TRUSTED,
    UNOPS,
    TemplateCheckError,
    check_tree,
)
from edo_rules.playbook.expressions import runtime_error
from edo_rules.playbook.rules import Location

MAX_SOURCE: Final = 10_000

__all__ = [
    "FILTERS",
    "TESTS",
    "CompiledTemplate",
    "TemplateCheckError",
    "check_template",
    "compile_template",
]


def _our_filter(name: str) -> Callable[..., Any]:
    """A filter that calls the function of the same name from the render names.

    Those functions depend on the rule's time zone and the calendar, which only
    :func:`edo_rules.playbook.context.make_names` knows.
    """

    @jinja2.pass_context
    def _filter(context: Context, value: Any, *args: Any) -> Any:
        func = context.resolve_or_missing(name)
        if not callable(func):
            raise SandboxError(f"filter {name!r} needs the render names from make_names()")
        return func(value, *args)

    return _filter


def _finalize(value: Any) -> str:
    # An absent optional field prints as nothing rather than "None".
    return "" if value is None else neutralise(value if isinstance(value, str) else str(value))


def _bounded_finalize(value: Any) -> str:
    # What {{ … }} prints: sized before str() turns a list of a million references into text.
    current = meter()
    current.tick()
    if value is None:
        return ""
    if not isinstance(value, str):
        current.charge(text_size(value, current.max_length + 1), "the printed value")
        value = str(value)
    return neutralise(value)


def _trusted(value: Any) -> Trusted:
    """``{{ x | trusted }}``: the admin vouches for ``x``; it is printed as markup."""
    return Trusted("" if value is None else value)


class _Sandbox(ImmutableSandboxedEnvironment):
    """No globals; whitelisted filters and tests; every operation bounded by the budget.

    Every filter, test, operator, call, attribute read and loop iteration
    counts on the evaluation's meter, and what would build a large value is
    sized before it runs (:mod:`edo_rules.playbook._jinja_budget`).
    """

    intercepted_binops = frozenset(BINOPS)
    intercepted_unops = frozenset(UNOPS)

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            finalize=_bounded_finalize,
            keep_trailing_newline=True,
        )
        self.globals.clear()
        self.globals.update({name: BOUNDED_GLOBALS[name] for name in GLOBALS})
        self.filters = dict(BOUNDED_FILTERS)
        self.filters.update({n: linear(_our_filter(n), n) for n in FUNCTIONS})
        self.filters[TRUSTED] = linear(_trusted, TRUSTED)
        self.filters[_METERED] = _metered_iter
        self.filters[_CONCAT] = _bounded_concat
        self.filters[_COMPARE] = _bounded_compare
        self.tests = dict(BOUNDED_TESTS)
        self._safe_attributes: dict[tuple[type, str], bool] = {}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return BINOPS[operator](left, right)

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        return UNOPS[operator](arg)

    def getattr(self, obj: Any, attribute: str) -> Any:
        meter().tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        meter().tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if not __self.is_safe_callable(__obj):
            raise SandboxError(msg("sandbox_not_callable", what=repr(__obj)[:100]))
        if isinstance(__obj, BuiltinMethodType):  # a str/list/dict method
            return bounded_call(__obj, list(args), kwargs)
        wrapped = getattr(__obj, "__wrapped__", None)
        if isinstance(getattr(wrapped, "__self__", None), str):  # the sandbox's str.format
            return bounded_call(wrapped, list(args), kwargs)
        current = meter()  # a macro, a recursive loop, one of our functions
        current.enter()
        try:
            return check_result(__context.call(__obj, *args, **kwargs), "the result of a call")
        finally:
            current.leave()

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Jinja's verdict depends only on the object's type and the name (not on
        # the value), and asking costs a dozen isinstance checks per attribute
        # read: remember it per (type, name). The names are the ones the load-time
        # check allowed, so the memory stays small.
        cls = type(obj)
        if obj.__class__ is not cls:  # an object claiming another class: ask every time
            return bool(super().is_safe_attribute(obj, attr, value))
        key = (cls, attr)
        safe = self._safe_attributes.get(key)
        if safe is None:
            safe = self._safe_attributes[key] = bool(super().is_safe_attribute(obj, attr, value))
        return safe


class _PlainSandbox(ImmutableSandboxedEnvironment):
    """The sandbox without the budget: only to measure what the budget costs."""

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            finalize=_finalize,
            keep_trailing_newline=True,
        )
        self.globals.clear()
        self.globals.update({"range": safe_range})  # Jinja's own sandbox range (GLOBALS)
        self.filters = {n: JINJA_FILTERS[n] for n in FILTERS if n in JINJA_FILTERS}
        self.filters.update({n: _our_filter(n) for n in FUNCTIONS})
        self.filters[TRUSTED] = _trusted
        self.tests = {n: JINJA_TESTS[n] for n in TESTS}


_METERED: Final = "_metered"  # not a name an admin can write: the check refuses '_'
_CONCAT: Final = "_concat"
_COMPARE: Final = "_compare"


def _bounded_compare(values: tuple[Any, ...], ops: tuple[str, ...]) -> bool:
    """``a < b <= c``, ``x in items``: lists sized before C compares every item."""
    meter().tick()
    left = values[0]
    for op, right in zip(ops, values[1:], strict=True):
        if not COMPARISONS[op](left, right):
            return False
        left = right
    return True


def _metered_iter(iterable: Any) -> Iterator[Any]:
    """What a ``for`` loop walks: one operation per item, so an empty body is counted too."""
    current = meter()
    for item in iterable:
        current.tick()
        yield item


def _bounded_concat(parts: tuple[Any, ...]) -> str:
    """``a ~ b ~ c``, sized before the text is built."""
    current = meter()
    current.tick()
    current.charge(text_size(parts, current.max_length + 1), "the result of '~'")
    return "".join(str(part) for part in parts)


class _Instrument(NodeTransformer):
    """Routes loops and ``~`` through the budget (they compile to plain Python otherwise)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        node.iter = _filter_node(node.iter, _METERED)
        return node

    def visit_Compare(self, node: nodes.Compare) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        values = nodes.Tuple([node.expr, *(o.expr for o in node.ops)], "load")
        compare = _filter_node(values, _COMPARE)
        compare.args = [nodes.Const(tuple(o.op for o in node.ops))]
        return compare

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return _filter_node(nodes.Tuple(list(node.nodes), "load"), _CONCAT)


def _filter_node(value: nodes.Node, name: str) -> nodes.Filter:
    node = nodes.Filter(value, name, [], [], None, None)
    node.set_lineno(value.lineno or 1)
    return node


_ENV: Final = _Sandbox()
_PLAIN_ENV: Final = _PlainSandbox()


def check_template(source: str) -> nodes.Template:
    """Parse and check ``source``; returns the Jinja AST or raises :class:`TemplateCheckError`."""
    if len(source) > MAX_SOURCE:
        raise TemplateCheckError(msg("tpl_too_long", limit=MAX_SOURCE))
    try:
        tree = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        where = msg("tpl_at_line", line=exc.lineno) if exc.lineno and exc.lineno > 1 else ""
        raise TemplateCheckError(msg("tpl_syntax", where=where, error=exc.message)) from exc
    except RecursionError as exc:
        raise TemplateCheckError(msg("tpl_too_deep")) from exc
    check_tree(tree)
    return tree


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
        budget = current_budget()
        try:
            if not budget.enabled:
                return _plain_template(self.source).render(names)
            with metered(budget) as current:
                return _render_bounded(self.template, names, current)
        except Exception as exc:  # every failure becomes one clear error
            raise runtime_error(self, "template", exc, names) from exc


def _render_bounded(template: jinja2.Template, names: Mapping[str, Any], current: Meter) -> str:
    # The chunks straight from the compiled code (``generate()`` adds a generator and
    # traceback rewriting per chunk); the time is watched by the operations' ticks.
    limit = current.budget.max_output
    parts: list[str] = []
    size = 0
    for chunk in template.root_render_func(template.new_context(dict(names))):
        size += len(chunk)
        if size > limit:
            raise BudgetExceededError("output", msg("budget_output", limit=limit))
        parts.append(chunk)
    return "".join(parts)


@functools.lru_cache(maxsize=1024)
def _plain_template(source: str) -> jinja2.Template:
    return _PLAIN_ENV.from_string(source)


def compile_template(
    source: str, *, location: Location, path: str, rule_key: str
) -> CompiledTemplate:
    """Check and compile; raises :class:`TemplateCheckError` with the reason."""
    if "{" not in source:  # no Jinja syntax at all: keep it as plain text
        return CompiledTemplate(source, location, path, rule_key, None)
    tree = check_template(source)
    _Instrument().visit(tree)
    return CompiledTemplate(source, location, path, rule_key, _ENV.from_string(tree))
