"""Known sandbox escapes for simpleeval and Jinja are refused at validate time.

Each entry is put where an admin would write it (a ``where`` expression or a
message template) and loaded; loading must fail with a clear message at the
right line. The run-time guards (bounded operators, output and time budgets)
are tested separately, by calling the compiled objects directly.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edo_rules._messages import in_language
from edo_rules.calendar import ProductionCalendar
from edo_rules.errors import PlaybookError, Problem
from edo_rules.model import Counterparty, Direction, Document, Kind, Status
from edo_rules.playbook import EvaluationError, load_playbook_text, make_names
from edo_rules.playbook.expressions import ExpressionCheckError, check_expression
from edo_rules.playbook.rules import Location
from edo_rules.playbook.templates import check_template, compile_template

EXPRESSION_ESCAPES: list[tuple[str, str]] = [
    ("().__class__.__bases__[0].__subclasses__()", "private attribute '__subclasses__'"),
    ("doc.__class__", "private attribute '__class__'"),
    ("doc.__class__.__init__.__globals__", "private attribute"),
    ("doc._replace", "private attribute '_replace'"),
    ("doc.counterparty.__dict__", "private attribute '__dict__'"),
    ("doc['__class__']", "private attribute '__class__'"),
    ('"{0.__class__}".format(doc)', "has no attribute 'format'"),
    ('"{0.__class__}".format_map(doc)', "has no attribute 'format_map'"),
    ("'%*d' % (10**9, 1)", "'%' would have 1000000354 characters or items"),
    ("9**9**9", "digits, more than 1000 (budget limit evaluation.max_digits)"),
    ("10**10**10", "budget limit evaluation.max_digits"),
    ("'a' * 10**9", "more than 100000 (budget limit evaluation.max_length)"),
    ("[1] * 10**9", "'*' (repetition) would have 1000000000 characters or items"),
    ("'a' * 50000 + 'b' * 50001", "the result of '+' would have 100001"),
    ("getattr(doc, '__class__')", "unknown function 'getattr'"),
    ("__import__('os').system('id')", "private name '__import__'"),
    ("import os", "syntax error"),
    ("open('/etc/passwd').read()", "unknown function 'open'"),
    ("eval('1+1')", "unknown function 'eval'"),
    ("exec('x=1')", "unknown function 'exec'"),
    ("compile('1', 'x', 'eval')", "unknown function 'compile'"),
    ("type(doc)", "unknown function 'type'"),
    ("globals()", "unknown function 'globals'"),
    ("(lambda: 1)()", "lambda is not allowed"),
    ("[x for x in doc.signers]", "comprehensions are not allowed"),
    ("[[y for y in range(10**6)] for x in range(10**6)]", "comprehensions are not allowed"),
    ("(x for x in 'ab')", "generator expressions are not allowed"),
    ("f'{doc.__class__}'", "f-strings are not allowed"),
    ("(x := 1)", "assignment (':=') is not allowed"),
    ("{'a': 1}", "dict literals are not allowed"),
    ("doc.amount.as_integer_ratio()", "'doc.amount' has no attribute 'as_integer_ratio'"),
    ("now.tzinfo.utcoffset(now)", "'now' has no attribute 'tzinfo'"),
    ("date.__globals__", "private attribute '__globals__'"),
    ("doc.signers[0].__class__", "private attribute '__class__'"),
    ("int('9' * 100001)", "budget limit evaluation.max_length"),
    ("-" * 40 + "1", "nested deeper than"),
    ("1+" * 150 + "1", "too complex"),
    ("[" * 5000 + "]" * 5000, "longer than 1000 characters"),
    ("'x' * 200000", "budget limit evaluation.max_length"),
    ("1 << 10**9", "LShift is not allowed"),
    ("doc.title.format_map(doc)", "'doc.title' has no attribute 'format_map'"),
    ("doc.number.encode()", "has no attribute 'encode'"),
    ("date", "'date' is a function: call it"),
    ("money.__call__", "private attribute '__call__'"),
]

TEMPLATE_ESCAPES: list[tuple[str, str]] = [
    ("{{ ''.__class__.__mro__ }}", "private attribute"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "private attribute"),
    ("{{ doc.__class__ }}", "private attribute '__class__'"),
    ("{{ doc['__class__'] }}", "private attribute '__class__'"),
    ("{{ cycler.__init__.__globals__ }}", "private attribute '__globals__'"),
    ("{{ cycler }}", "unknown name 'cycler'"),
    ("{{ lipsum.__globals__['os'] }}", "private attribute '__globals__'"),
    ("{{ lipsum() }}", "unknown name 'lipsum'"),
    ("{{ joiner.__init__.__globals__ }}", "private attribute"),
    ("{{ namespace() }}", "unknown name 'namespace'"),
    ("{{ range }}", "'range' is a function: call it"),
    ("{{ range.__self__ }}", "private attribute '__self__'"),
    ("{{ 'a' * 10**9 }}", "budget limit evaluation.max_length"),
    ("{{ 9 ** 999999 }}", "budget limit evaluation.max_digits"),
    ("{{ '%*d' % (10**9, 1) }}", "'%' would have 1000000354 characters or items"),
    ("{{ '{0.__class__}'.format(doc) }}", "'(value).format' cannot be called"),
    ("{{ doc | attr('__class__') }}", "unknown filter 'attr'"),
    ("{{ doc.signers | map(attribute='__class__') | list }}", "private name '__class__'"),
    ("{{ config }}", "unknown name 'config'"),
    ("{{ self.__init__ }}", "private attribute '__init__'"),
    ("{{ request.application.__globals__ }}", "private attribute"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macros are not allowed"),
    ("{% include '/etc/passwd' %}", "cannot include"),
    ("{% import 'x' as y %}", "cannot import"),
    ("{% extends 'base' %}", "cannot extend"),
    ("{% for s in doc.signers recursive %}{{ loop(s) }}{% endfor %}", "recursive loops"),
    ("{% set x = doc %}{{ x.__class__ }}", "private attribute '__class__'"),
    ("{% set doc = 1 %}", "cannot assign to 'doc'"),
    ("{% for date in doc.signers %}{% endfor %}", "cannot assign to 'date'"),
    ("{{ doc.number.expandtabs(10**9) }}", "'doc.number' has no attribute 'expandtabs'"),
    ("{{ doc.amount.__class__ }}", "private attribute"),
    ("{{ date.__globals__ }}", "private attribute '__globals__'"),
    ("{{ (doc.signers | first).__class__ }}", "private attribute '__class__'"),
    ("{{ doc | pprint }}", "unknown filter 'pprint'"),
    ("{{ doc.number | tojson }}", "unknown filter 'tojson'"),
    ("{{ doc.title.__len__() }}", "private attribute '__len__'"),
    ("{{ doc.number(*doc.signers) }}", "'doc.number' cannot be called"),
    ("{{ date }}", "'date' is a function: call it"),
    ("{{ doc.title.lower }}", "'doc.title.lower' is a function"),
]


def _where(expression: str) -> str:
    quoted = expression.replace("'", "''")
    return (
        "version: 1\nname: t\nrules:\n  - id: r\n"
        f"    match: {{where: '{quoted}'}}\n"
        "    when: {status_changed: {}}\n    do: [log: ]\n"
    )


def _template(template: str) -> str:
    quoted = template.replace("'", "''")
    return (
        "version: 1\nname: t\nrules:\n  - id: r\n    when: {status_changed: {}}\n"
        f"    do: [log: {{message: '{quoted}'}}]\n"
    )


@pytest.mark.parametrize(("source", "reason"), EXPRESSION_ESCAPES)
def test_expression_escape_is_refused_at_load(source: str, reason: str) -> None:
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(_where(source), "escape.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.path) == ("escape.yaml", 5, "rules[0].match.where")
    assert problem.message.startswith("недопустимое выражение")  # the admin's text
    english = _english(problem)  # the reasons below are the developers' (English) texts
    assert english.startswith("invalid expression")
    assert reason in english


@pytest.mark.parametrize(("source", "reason"), TEMPLATE_ESCAPES)
def test_template_escape_is_refused_at_load(source: str, reason: str) -> None:
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(_template(source), "escape.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.path) == (
        "escape.yaml",
        6,
        "rules[0].do[0].log.message",
    )
    assert problem.message.startswith("недопустимый шаблон")
    english = _english(problem)
    assert english.startswith("invalid template")
    assert reason in english


def _english(problem: Problem) -> str:
    assert problem.text is not None
    return problem.text.render("en")


def test_the_corpus_is_large_enough() -> None:
    assert len(EXPRESSION_ESCAPES) >= 20 and len(TEMPLATE_ESCAPES) >= 20


@pytest.mark.parametrize(
    "source",
    [
        "doc.amount >= 10000 and doc.kind in ['contract', 'act']",
        "doc.counterparty.name.lower().startswith('ооо')",
        "elapsed.working_days > 3 or step == 'escalate[1]'",
        "len(doc.signers) == 0 and doc.crm.deal_id is not None",
        "working_days_since(doc.sent_at) >= 5",
        "doc.amount ** 2 > 10 ** 12",
        "-doc.amount < 0 if doc.amount else False",
        "doc.signers[0].name == 'Иванов'",
        "money(doc.amount) != ''",
    ],
)
def test_honest_expressions_pass(source: str) -> None:
    check_expression(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ doc.title }} от {{ doc.counterparty.name | upper }}",
        "{% for s in doc.signers %}{{ loop.index }}. {{ s.name }} {{ s.signed_at | date }}"
        "{% endfor %}",
        "{% if doc.amount %}{{ doc.amount | money }}{% else %}без суммы{% endif %}",
        "{{ doc.signers | map(attribute='name') | join(', ') }}",
        "{% set who = doc.counterparty %}{{ who.name }} ({{ who.inn }})",
        "{{ working_days_since(doc.sent_at) }} / {{ doc.sent_at | working_days_since }}",
        "{{ doc.rejection_comment or 'без комментария' }}",
        '{{ doc.rejection_comment | default("без комментария", true) }}',
        '{{ doc.sent_at | date("long") }} {{ doc.amount | money(doc.currency) }}',
        "{% for s in doc.signers %}{{ s.name }} {{ s.signed_at | datetime }} {% endfor %}",
        "{{ doc.number.upper() }} {{ rule.id }} {{ step }} {{ now | datetime }}",
        # Once refused as possible bombs; the run-time budget bounds them now.
        "{% for s in doc.signers %}{% for w in s.name.split() %}{{ w }}{% endfor %}{% endfor %}",
        "{% for i in range(3) %}{{ i }}{% endfor %} {{ doc.number | center(20) }}",
        '{{ "%s: %.2f" | format(doc.number, doc.amount) }} {{ doc.title | replace("№", "N") }}',
        "{{ doc.rejection_comment | default('', true) | wordwrap(60) | indent(2) }}",
        "{{ doc.signers | batch(2) | list | length }} {{ doc.number * 3 }}",
    ],
)
def test_honest_templates_pass(source: str) -> None:
    check_template(source)


# -- run-time guards ---------------------------------------------------------


def _names(**changes: object) -> dict[str, object]:
    from dataclasses import replace

    doc = Document(
        id="doc-1",
        kind=Kind.CONTRACT,
        number="17",
        date=date(2024, 4, 26),
        direction=Direction.OUTGOING,
        status=Status.SENT,
        status_1c="Отправлен",
        counterparty=Counterparty("ООО Ромашка", "7701234567"),
        amount=Decimal("12500"),
    )
    doc = replace(doc, **changes)  # type: ignore[arg-type]
    rule = load_playbook_text(_where("doc.amount > 0")).rules[0]
    return make_names(
        doc,
        now=datetime(2024, 5, 6, tzinfo=UTC),
        calendar=ProductionCalendar.russia(),
        since=None,
        step="event",
        rule=rule,
    )


def _template_of(source: str) -> object:
    return compile_template(source, location=Location("t.yaml", 3, 5), path="p", rule_key="t/r")


def test_runtime_repetition_of_a_field_is_bounded() -> None:
    template = _template_of("{{ doc.number * 10000 }}")
    names = _names(number="x" * 100)
    with pytest.raises(EvaluationError) as info:
        template.render(names)  # type: ignore[attr-defined]
    assert str(info.value).endswith(
        "на документе doc-1: результат повторения '*': получилось бы 1000000 символов или"
        " элементов, больше 100000 (лимит evaluation.max_length)"
    )
    with in_language("en"):
        assert str(info.value).endswith(
            "on document doc-1: the result of '*' (repetition) would have 1000000 characters"
            " or items, more than 100000 (budget limit evaluation.max_length)"
        )


def test_runtime_round_precision_is_bounded() -> None:
    template = _template_of("{{ 5 | round(-10 ** 9) }}")
    with pytest.raises(EvaluationError, match="round: точность должна быть целым числом не б"):
        template.render(_names())  # type: ignore[attr-defined]
    assert _template_of("{{ 1234.567 | round(1) }}").render(_names()) == "1234.6"  # type: ignore[attr-defined]


def test_runtime_output_size_is_bounded() -> None:
    template = _template_of("{% for s in doc.signers %}{{ doc.number * 9000 }}{% endfor %}")
    from edo_rules.model import Side, Signer

    names = _names(number="x", signers=tuple(Signer(Side.OURS, "a") for _ in range(5)))
    with pytest.raises(EvaluationError, match="результат шаблона длиннее 20000 символов"):
        template.render(names)  # type: ignore[attr-defined]


def test_runtime_expression_failure_names_rule_and_document() -> None:
    rule = load_playbook_text(_where("doc.amount >= 10000"), "pb.yaml").rules[0]
    names = _names(amount=None)
    assert rule.match.where is not None
    with pytest.raises(EvaluationError) as info:
        rule.match.where.evaluate(names)
    assert str(info.value) == (
        "pb.yaml:5:20: rules[0].match.where: правило t/r: ошибка в выражении 'doc.amount >="
        " 10000' на документе doc-1: TypeError: '>=' not supported between instances of"
        " 'NoneType' and 'int'"
    )
    with in_language("en"):
        assert str(info.value) == (
            "pb.yaml:5:20: rules[0].match.where: rule t/r: expression 'doc.amount >= 10000'"
            " failed on document doc-1: TypeError: '>=' not supported between instances of"
            " 'NoneType' and 'int'"
        )


def test_runtime_pow_is_bounded_even_with_values() -> None:
    rule = load_playbook_text(_where("doc.amount ** elapsed.hours > 0")).rules[0]
    names = dict(_names())
    from edo_rules.playbook.context import Elapsed

    names["elapsed"] = Elapsed(0, 0, 10**6)
    assert rule.match.where is not None
    with pytest.raises(EvaluationError, match="слишком большой показатель степени: "):
        rule.match.where.evaluate(names)


def test_check_errors_are_value_errors() -> None:
    with pytest.raises(ExpressionCheckError):
        check_expression("doc.__class__")
    with pytest.raises(ExpressionCheckError):
        check_template("{{ doc.__class__ }}")


# -- property: random token soups never escape the two error types ----------------


EXPRESSION_TOKENS = [
    "doc", "doc.amount", "doc.signers", "doc.title", "doc.counterparty", ".name", ".__class__",
    "elapsed.working_days", "now", "since", "step", "rule.id", "date", "money", "len", "round",
    "str", "(", ")", "[", "]", ",", ".", " + ", " * ", " ** ", " % ", " // ", " - ", " == ",
    " in ", " and ", " or ", " not ", " if ", " else ", " is ", "None", "0", "1", "9", "10",
    "-1", "99", "'a'", "'%s'", "''", ".lower()", ".format", "_", "lambda", ":", "x", "for",
]  # fmt: skip
TEMPLATE_TOKENS = [
    "{{", "}}", "{%", "%}", "{#", "#}", " doc", ".title", ".amount", ".signers", ".__class__",
    " | ", "date", "money", "upper", "join", "map(attribute='name')", "round(", ")", "(", "'x'",
    " * ", " ** ", " % ", " ~ ", " + ", "9", "10", " for ", " s ", " in ", " endfor ", " if ",
    " endif ", " else ", " set ", " = ", "loop.index", " s.name", "[0]", "['__class__']", "text ",
]  # fmt: skip


def _sample_names() -> dict[str, object]:
    from edo_rules.model import Side, Signer

    return _names(signers=(Signer(Side.OURS, "Иванов"),), number="17")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(EXPRESSION_TOKENS), max_size=14).map("".join))
def test_random_expressions_fail_only_cleanly(source: str) -> None:
    from edo_rules.playbook.expressions import compile_expression

    try:
        compiled = compile_expression(
            source, location=Location("f.yaml", 1, 1), path="where", rule_key="t/r"
        )
    except ExpressionCheckError:
        return
    with contextlib.suppress(EvaluationError):
        compiled.evaluate(_sample_names())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TEMPLATE_TOKENS), max_size=14).map("".join))
def test_random_templates_fail_only_cleanly(source: str) -> None:
    try:
        compiled = _template_of(source)
    except ExpressionCheckError:
        return
    try:
        text = compiled.render(_sample_names())  # type: ignore[attr-defined]
    except EvaluationError:
        return
    assert isinstance(text, str)
    leaks = ("<class", "<function", "<module", "<built-in", "<bound", "object at 0x")
    assert not any(leak in text for leak in leaks)
