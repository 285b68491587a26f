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

from edo_rules.playbook._bounded import MAX_ROUND_DIGITS, SandboxError
from edo_rules.playbook._frozen import ReadOnly
from edo_rules.playbook._names import FUNCTIONS
from edo_rules.playbook._template_check import (
    BINOPS,
    FILTERS,
    TESTS,
    TemplateCheckError,
    check_tree,
)
from edo_rules.playbook.expressions import runtime_error
from edo_rules.playbook.rules import Location

MAX_SOURCE: Final = 10_000
MAX_OUTPUT: Final = 20_000
TIME_BUDGET: Final = 0.5  # seconds per rendering

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


def _bounded_round_filter(value: Any, precision: int = 0, method: str = "common") -> Any:
    """Jinja's ``round`` with the precision bounded (``round(5, -10**9)`` would never end)."""
    if not isinstance(precision, int) or abs(precision) > MAX_ROUND_DIGITS:
        raise SandboxError(f"round: the precision must be a whole number up to {MAX_ROUND_DIGITS}")
    return JINJA_FILTERS["round"](value, precision, method)


def _finalize(value: Any) -> Any:
    # An absent optional field prints as nothing rather than "None".
    return "" if value is None else value


class _Sandbox(ImmutableSandboxedEnvironment):
    """No globals, whitelisted filters and tests, bounded operators."""

    intercepted_binops = frozenset(BINOPS)

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            finalize=_finalize,
            keep_trailing_newline=True,
        )
        self.globals.clear()
        self.filters = {n: JINJA_FILTERS[n] for n in FILTERS if n not in FUNCTIONS}
        self.filters.update({n: _our_filter(n) for n in FUNCTIONS})
        self.filters["round"] = _bounded_round_filter
        self.tests = {n: JINJA_TESTS[n] for n in TESTS}
        self._safe_attributes: dict[tuple[type, str], bool] = {}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return BINOPS[operator](left, right)

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


_ENV: Final = _Sandbox()


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
        try:
            return _render_bounded(self.template, names)
        except Exception as exc:  # every failure becomes one clear error
            raise runtime_error(self, "template", exc, names) from exc


def _render_bounded(template: jinja2.Template, names: Mapping[str, Any]) -> str:
    deadline = time.monotonic() + TIME_BUDGET
    parts: list[str] = []
    size = 0
    for chunk in template.generate(names):  # generate() copies the names itself
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SandboxError(f"output longer than {MAX_OUTPUT} characters")
        if time.monotonic() > deadline:
            raise SandboxError("rendering took too long")
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
