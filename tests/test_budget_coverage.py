"""The budget covers everything the libraries offer, not only what an admin may write today.

The tables are compared with the libraries' own registries (Jinja's filters,
tests and globals; simpleeval's operators and functions; the methods of
``str``), so a new release adding one fails here until it is classified.
What the load-time check refuses (macros, recursive loops) is also run past
it, straight on the run-time sandbox, to show the budget stops it anyway.
"""

from __future__ import annotations

import ast
import time
from datetime import timedelta
from pathlib import Path

import pytest
import simpleeval
from _engine_helpers import CALENDAR, World, playbook
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.filters import FILTERS
from jinja2.tests import TESTS
from store_contract import T0, make_document

from edo_rules._messages import in_language
from edo_rules.engine import Engine
from edo_rules.playbook import Budget, BudgetExceededError, use_budget
from edo_rules.playbook._budget import DEFAULT_BUDGET, metered
from edo_rules.playbook._calls import CONTAINER_LINEAR, STR_LINEAR, STR_REFUSED, STR_SIZED
from edo_rules.playbook._jinja_budget import BOUNDED_FILTERS, BOUNDED_GLOBALS, BOUNDED_TESTS
from edo_rules.playbook.expressions import (
    BUILTINS,
    OPERATORS,
    REFUSED_FUNCTIONS,
    REFUSED_OPERATORS,
)
from edo_rules.playbook.templates import _ENV, _Instrument


def test_every_jinja_filter_test_and_global_is_bounded() -> None:
    assert set(BOUNDED_FILTERS) == set(FILTERS)
    assert set(BOUNDED_TESTS) == set(TESTS)
    assert set(BOUNDED_GLOBALS) == set(DEFAULT_NAMESPACE)
    for name, func in BOUNDED_FILTERS.items():
        assert func is not FILTERS[name], name


def test_every_simpleeval_operator_and_function_is_bounded_or_left_out() -> None:
    # 'not' and 'is' build and read nothing: they are simpleeval's own, counted as nodes.
    builds_nothing = {ast.Not, ast.Is, ast.IsNot}
    for op in simpleeval.DEFAULT_OPERATORS:
        assert (op in OPERATORS) != (op in REFUSED_OPERATORS), op
        if op in OPERATORS and op not in builds_nothing:
            assert OPERATORS[op] is not simpleeval.DEFAULT_OPERATORS[op], op
    for name in simpleeval.DEFAULT_FUNCTIONS:
        assert (name in BUILTINS) != (name in REFUSED_FUNCTIONS), name


def test_every_public_str_method_is_classified() -> None:
    public = {name for name in dir(str) if not name.startswith("_")}
    classified = set(STR_SIZED) | set(STR_REFUSED) | STR_LINEAR
    assert public == classified
    assert not set(STR_SIZED) & STR_LINEAR and not set(STR_REFUSED) & STR_LINEAR
    assert {n for t in (list, tuple, dict) for n in dir(t)} >= CONTAINER_LINEAR


def _run_past_the_check(source: str, budget: Budget = DEFAULT_BUDGET) -> BudgetExceededError:
    """Render ``source`` on the run-time sandbox directly, skipping the load-time check."""
    tree = _ENV.parse(source)
    _Instrument().visit(tree)
    template = _ENV.from_string(tree)
    started = time.perf_counter()
    with metered(budget), pytest.raises(BudgetExceededError) as info:
        template.render(**BOUNDED_GLOBALS)
    assert time.perf_counter() - started < budget.time_ms / 1000 + 1.0  # shared machine
    return info.value


@pytest.mark.parametrize(
    ("source", "limits"),
    [
        ("{% macro m(n) %}{{ m(n) }}{{ m(n) }}{% endmacro %}{{ m(1) }}", {"depth"}),
        ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
         "{{ m(40) }}", {"operations", "time"}),
        ("{% macro m() %}{% for i in range(9999) %}{{ m() }}{% endfor %}{% endmacro %}{{ m() }}",
         {"depth"}),
        ("{% for x in [[[]]] recursive %}{{ loop([x, x]) }}{% endfor %}", {"depth"}),
        ("{% set ns = namespace(s='ab') %}{% for i in range(99) %}{% set ns.s = ns.s ~ ns.s %}"
         "{% endfor %}{{ ns.s | length }}", {"length"}),
        ("{{ lipsum(10**6) }}", {"length"}),
        ("{{ 'x'.center(10**9) }}", {"length"}),
        ("{{ ('a' * 99999).replace('', 'bb') }}", {"length"}),
        ("{{ ('x' * 9).ljust(10**9) }}", {"length"}),
        ("{{ ('\t' * 99999).expandtabs(10**6) }}", {"length"}),
        ("{{ ('x' * 9).join(['a'] * 99999) }}", {"length"}),
        ("{{ [1] | tojson(indent=10**6) }}", set()),
        ("{{ ('<' * 99999) | striptags }}", {"length"}),
        ("{{ (['x' * 9999] * 99) | xmlattr }}", {"length"}),
    ],
)  # fmt: skip
def test_what_the_check_refuses_is_bounded_at_run_time_too(source: str, limits: set[str]) -> None:
    try:
        error = _run_past_the_check(source)
    except pytest.fail.Exception:
        raise
    except Exception as exc:  # a SandboxError of another kind is a refusal too
        assert not limits, f"{source!r}: {exc!r}"
        return
    assert error.limit in limits, str(error)


def test_str_format_is_refused_at_run_time() -> None:
    from edo_rules.playbook._budget import SandboxError

    template = _ENV.from_string("{{ '{0:>999999999}'.format(1) }}")
    with metered(Budget()), pytest.raises(SandboxError) as info:
        template.render()
    assert str(info.value) == "str.format не допускается (используйте фильтр 'format')"
    with in_language("en"):
        assert str(info.value) == "str.format is not allowed (use the 'format' filter)"


def test_the_budget_is_configurable_and_can_be_switched_off_for_measuring() -> None:
    from edo_rules.playbook.context import make_names

    pb = playbook(
        """
        - id: r
          match: {where: "len(doc.number * 400) > 0"}
          when: {status_changed: {}}
          do: [{log: {message: "{{ doc.number * 400 }}"}}]
        """
    )
    rule = pb.rules[0]
    names = make_names(make_document(), now=T0, calendar=CALENDAR, since=None, step="e", rule=rule)
    assert rule.match.where is not None
    assert rule.match.where.evaluate(names) is True
    with use_budget(Budget(max_length=500)), pytest.raises(Exception, match="max_length"):
        rule.match.where.evaluate(names)
    with use_budget(Budget(enabled=False)):
        assert rule.match.where.evaluate(names) is True


def test_explain_shows_the_budget_error_of_a_template(tmp_path: Path) -> None:
    world = World(
        tmp_path / "store.sqlite3",
        (
            playbook(
                """
                - id: bomb
                  match: {status: sent}
                  when: {after: 1 day, since: sent_at}
                  do: [{log: {message: "{{ doc.number | center(10**9) }}"}}]
                """
            ),
        ),
    )
    with world.store() as store:
        store.upsert_documents([make_document("doc-a")])
    engine = world.engine()
    try:
        text = engine.explain("doc-a", T0 + timedelta(days=30)).render()
        result = Engine(engine.store, world.playbooks, CALENDAR).evaluate(T0 + timedelta(days=30))
    finally:
        engine.store.close()
    assert "✗ do log: template failed: pb.yaml:8:26: rules[0].do[0].log.message" in text
    assert (
        "результат 'center': получилось бы 1000000000 символов или элементов, больше 100000"
        " (лимит evaluation.max_length)"
    ) in text
    (failure,) = result.failures
    assert failure.limit == "length" and failure.document_id == "doc-a"


def test_operators_cover_the_ast_nodes_the_check_allows() -> None:
    assert ast.LShift in REFUSED_OPERATORS and ast.Pow in OPERATORS


def test_the_config_section_sets_the_budget(tmp_path: Path) -> None:
    from edo_rules.config import load_config
    from edo_rules.errors import ConfigError

    (tmp_path / "playbooks").mkdir()
    path = tmp_path / "edo-rules.yaml"
    path.write_text(
        "playbooks: playbooks\nevaluation: {time_ms: 250, max_length: 5000, max_depth: 20}\n",
        encoding="utf-8",
    )
    budget = load_config(path, env={}).evaluation
    assert (budget.time_ms, budget.max_length, budget.max_depth) == (250, 5000, 20)
    assert budget.operations == Budget().operations and budget.enabled
    path.write_text("playbooks: playbooks\nevaluation: {time_ms: 0, enabled: false}\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    paths = sorted(p.path for p in info.value.problems)
    assert paths == ["evaluation.enabled", "evaluation.time_ms"], info.value
