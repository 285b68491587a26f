"""Bombs: expressions and templates built to exhaust time or memory, from the language itself.

Each is written from the sandbox's own operators, filters, loops and calls
(not only the well-known ones). Each is either refused at load with its file
and line, or — when only the run time can tell — fails its one firing within
the evaluation budget, with an error naming the rule, the file and line, the
document and the limit hit, while a real tick (SQLite store, the runner's
wiring, the log adapter) still performs every other rule's actions. The
process's peak memory must stay bounded while all of them run.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from store_contract import T0, make_document

from edo_rules._messages import in_language
from edo_rules.config import load_config
from edo_rules.errors import PlaybookError
from edo_rules.model import RequestState
from edo_rules.playbook import Budget, EvaluationError, load_playbook_text, use_budget
from edo_rules.runner.loop import run_tick
from edo_rules.runner.metrics import Metrics
from edo_rules.runner.wiring import open_service
from edo_rules.store.sqlite import SQLiteStore

#: Templates that pass validate (nothing literal to fold) and blow up at run time: (source, limit).
TEMPLATE_BOMBS: list[tuple[str, str]] = [
    ("{{ ([[1]*9999]*9999)|sum(start=[])|length }}", "length"),
    ("{{ range(10**9)|join }}", "length"),
    ("{{ range(10**30)|length }}", "length"),
    ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
     "operations|time"),
    ("{% for i in range(9999) %}{% for j in range(9999) %}{{ '' }}{% endfor %}{% endfor %}",
     "operations|time"),
    ("{{ doc.number * 10**9 }}", "length"),
    ("{{ doc.number | center(10**9) }}", "length"),
    ("{{ doc.number | center(9000) | center(90000) | center(900000) }}", "length"),
    ("{{ doc.number | indent(10**8) }}", "length"),
    ("{{ ((doc.number ~ '\\n') * 30000) | indent(100) }}", "length"),
    ("{{ ((doc.number ~ ' ') * 3000) | wordwrap(1, wrapstring=doc.number * 1000) }}", "length"),
    ("{{ ((doc.number ~ ' ') * 3000) | wordwrap(1, true, doc.number * 1000) }}", "length"),
    ("{{ ((doc.number ~ ' ') * 9000) | wordwrap(1) }}", "length"),
    ("{{ [doc.number] | batch(10**9, 'x') | list }}", "length"),
    ("{{ [doc.number] | slice(10**9) | list }}", "length"),
    ("{{ (doc.number * 40000) | replace('', doc.number * 4) }}", "length"),
    ("{{ (doc.number ~ doc.number) | replace(doc.number, doc.number * 9999)"
     " | replace(doc.number, doc.number * 9999) }}", "length"),
    ("{{ '%*d' | format(10**9, doc.number | int) }}", "length"),
    ("{{ '%.999999999f' | format(doc.number | float) }}", "length"),
    ("{{ '%s' | format([doc.number * 9999] * 1000) }}", "length"),
    ("{{ '%s%s' % (doc.number * 99999, doc.number * 99999) }}", "length"),
    ("{{ (doc.number | int) ** 99999 }}", "digits"),
    ("{{ 10 ** (10 ** (doc.number | int)) }}", "digits"),
    ("{{ ((doc.number | int) * 10 ** 500) * ((doc.number | int) * 10 ** 500) ** 2 }}", "digits"),
    ("{{ (doc.number * 5000) | int }}", "digits"),
    ("{{ ([doc.number * 9999] * 10000) | join }}", "length"),
    ("{{ ([doc.number * 9999] * 10000) | join(doc.number) }}", "length"),
    ("{{ ([doc.number * 9999] * 10000) | string }}", "length"),
    ("{{ [doc.number * 9999] * 10000 }}", "length"),
    ("{{ ([doc.number * 9999] * 10000) ~ '' }}", "length"),
    ("{{ range(9999) | join(doc.number * 1000) }}", "length"),
    ("{{ doc.signers | map(attribute='name') | join * 10**6 }}", "length"),
    ("{{ (range(99999) | list) * 3 }}", "length"),
    ("{{ ([doc.number * 49999] * 99999) | unique | list | length }}", "length"),
    ("{{ ([doc.number * 49999] * 99999) | sort | first }}", "length"),
    ("{{ ([doc.number * 49999] * 99999) | max }}", "length"),
    ("{{ ([doc.number * 9999] * 99) == ([doc.number * 9999] * 99) }}", "length"),
    ("{{ doc.number in ([doc.number * 9999] * 99) }}", "length"),
    ("{{ ([doc.number * 9999] * 99) is eq([doc.number * 9999] * 99) }}", "length"),
    ("{{ doc.number.ljust(10**9) }}", "length"),
    ("{{ (doc.number * 49999).replace(doc.number, doc.number * 3) }}", "length"),
    ("{{ doc.title.zfill(10**9) }}", "length"),
    ("{% for i in range(99999) %}{{ doc.number }}{% endfor %}", "output|time"),
    ("{% for i in range(99999) %}{% set x = doc.number * 40000 %}{% endfor %}", "total|time"),
    ("{% for i in range(9999) %}{{ (doc.number * 49999) | upper | lower | title | length }}"
     "{% endfor %}", "total|time"),
    ("{% for i in range(300) %}{{ (range(9999) | map('string') | sort | unique | list"
     " | length) }}{% endfor %}", "time|total"),
    ("{% for s in doc.signers %}{% for i in range(10**5) %}{% for j in range(10**5) %}"
     "{{ s.name if j < 0 }}{% endfor %}{% endfor %}{% endfor %}", "operations|time"),
    ("{{ range(99999) | batch(3) | map('sum') | sum }}", "operations|time"),
    ("{{ ([[doc.number]] * 99999) | sum(start=[]) }}", "total|time"),
]  # fmt: skip

#: ``where`` expressions that pass validate and blow up at run time: (source, limit).
EXPRESSION_BOMBS: list[tuple[str, str]] = [
    ("len(doc.number * 10**9) > 0", "length"),
    ("len(doc.signers * 10**6) > 0", "length"),
    ("(len(doc.number) + 1) ** 10**6 > 0", "digits"),
    ("((len(doc.number) + 9) ** 99) ** 99 > 0", "digits"),
    ("len(str(10 ** (len(doc.number) * 1000))) > 0", "digits"),
    ("len(doc.number * 50000 + doc.number * 50000) > 0", "length"),
    ("len('%*d' % (10**9, len(doc.number))) > 0", "length"),
    ("len(str([doc.number * 9999] * 10000)) > 0", "length"),
    ("int(doc.number * 5000) > 0", "digits"),
    ("len(doc.number.lower() * 99999) > 0", "length"),
    ("[doc.number * 9999] * 99 == [doc.number * 9999] * 99", "length"),
    ("doc.title in [doc.number * 9999] * 99", "length"),
    ("doc.number.center(10**9) == ''", "length"),
    ("len(doc.number.replace('', doc.number * 9000) * 9) > 0", "length"),
    ("len(doc.title.join([doc.number * 999] * 999)) > 0", "length"),
]

#: Certain to explode whatever the document: refused at load, with the line.
LOAD_BOMBS: list[tuple[str, str, str]] = [
    ("where", "'a' * 10**9 == ''", "evaluation.max_length"),
    ("where", "[1] * 10**9 == []", "evaluation.max_length"),
    ("where", "9**9**9 > 0", "evaluation.max_digits"),
    ("where", "'%*d' % (10**9, 1) == ''", "evaluation.max_length"),
    ("where", "doc.number.format_map(doc) == ''", "has no attribute 'format_map'"),
    ("template", "{{ 'a' * 10**9 }}", "evaluation.max_length"),
    ("template", "{{ 9 ** 999999 }}", "evaluation.max_digits"),
    ("template", "{{ (10 ** 999) * (10 ** 999) }}", "evaluation.max_digits"),
    ("template", "{{ '%*d' % (10**9, 1) }}", "evaluation.max_length"),
    ("template", "{% macro m() %}{{ m() ~ m() }}{% endmacro %}{{ m() }}", "macros are not allowed"),
    ("template", "{% for s in doc.signers recursive %}{{ loop(doc.signers) }}{% endfor %}",
     "recursive loops are not allowed"),
]  # fmt: skip

_HONEST = """\
- id: honest-before
  match: {status: sent}
  when: {after: 1 day, since: sent_at}
  do: [{log: {message: "{{ doc.number }}: {{ doc.counterparty.name }} не подписал"}}]
"""
_HONEST_AFTER = """\
- id: honest-after
  match: {status: sent, where: "doc.amount > 0 and len(doc.signers) < 5"}
  when: {after: 1 day, since: sent_at}
  do: [{log: {message: "{% for s in doc.signers %}{{ s.name | upper }}{% endfor %}"}}]
"""
DOCUMENTS = ("doc-a", "doc-b")
NOW = T0 + timedelta(days=30)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _bomb_rule(index: int, kind: str, source: str) -> str:
    if kind == "where":
        match = f"{{status: sent, where: {_quoted(source)}}}"
        action = '{log: {message: "x"}}'
    else:
        match = "{status: sent}"
        action = f"{{log: {{message: {_quoted(source)}}}}}"
    return (
        f"- id: bomb-{index}\n  match: {match}\n  when: {{after: 1 day, since: sent_at}}\n"
        f"  do: [{action}]\n"
    )


def _bombs() -> list[tuple[str, str, str]]:
    return [("template", s, lim) for s, lim in TEMPLATE_BOMBS] + [
        ("where", s, lim) for s, lim in EXPRESSION_BOMBS
    ]


def _playbook_text() -> str:
    rules = [_HONEST]
    rules += [_bomb_rule(i, kind, source) for i, (kind, source, _) in enumerate(_bombs())]
    rules.append(_HONEST_AFTER)
    body = "".join(rules)
    return "version: 1\nname: bombs\nrules:\n" + "".join(
        f"  {line}\n" for line in body.splitlines()
    )


def test_the_corpus_is_large_and_of_every_kind() -> None:
    assert len(TEMPLATE_BOMBS) + len(EXPRESSION_BOMBS) + len(LOAD_BOMBS) >= 30
    limits = {one for _, limit in TEMPLATE_BOMBS + EXPRESSION_BOMBS for one in limit.split("|")}
    # A bomb that works the CPU may hit the time limit first on a loaded machine: both count.
    assert limits == {"length", "operations", "digits", "total", "time", "output"}


#: The kinds the issue names, each recognised by what its bombs are built from.
KINDS = {
    "lists": r"\]\s*\*|\*\s*\[|\|\s*(batch|slice|sum\(start|unique|sort|max)",
    "strings": r"center|ljust|zfill|replace|indent|wordwrap|join|\.lower|upper",
    "numbers": r"\*\*|\|\s*int|int\(",
    "loops": r"\{% for",
    "recursion": r"macro|recursive",
    "formatting": r"format|%\*d|'%s|%\.",
    "nested filters": r"\|[^|}]+\|[^|}]+\|",
}


def test_the_corpus_has_each_kind_the_issue_names() -> None:
    import re

    sources = [source for source, _ in TEMPLATE_BOMBS + EXPRESSION_BOMBS]
    sources += [source for _, source, _ in LOAD_BOMBS]
    counts = {kind: sum(bool(re.search(rx, s)) for s in sources) for kind, rx in KINDS.items()}
    assert all(count >= 2 for count in counts.values()), counts


@pytest.mark.parametrize(("kind", "source", "reason"), LOAD_BOMBS)
def test_a_certain_bomb_is_refused_at_load_with_its_line(
    kind: str, source: str, reason: str
) -> None:
    text = "version: 1\nname: t\nrules:\n" + "".join(
        f"  {line}\n" for line in _bomb_rule(0, kind, source).splitlines()
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(text, "bombs.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("bombs.yaml", 5 if kind == "where" else 7)
    assert problem.text is not None  # the reasons are the developers' (English) texts
    assert reason in problem.text.render("en")


@pytest.mark.parametrize(("kind", "source", "limit"), _bombs())
def test_a_bomb_ends_within_its_budget(kind: str, source: str, limit: str) -> None:
    """Alone, each bomb stops within its time budget (plus slack for a slow machine)."""
    from store_contract import make_document as doc_of

    from edo_rules.playbook.context import make_names, render_params

    playbook = load_playbook_text(
        "version: 1\nname: t\nrules:\n"
        + "".join(f"  {line}\n" for line in _bomb_rule(0, kind, source).splitlines()),
        "bombs.yaml",
    )
    rule = playbook.rules[0]
    from _engine_helpers import CALENDAR

    names = make_names(doc_of("doc-a"), now=NOW, calendar=CALENDAR, since=T0, step="do", rule=rule)
    budget = Budget()
    started = time.perf_counter()
    with use_budget(budget), pytest.raises(EvaluationError) as info:
        if kind == "where":
            assert rule.match.where is not None
            rule.match.where.evaluate(names)
        else:
            render_params(rule.trigger.steps[0].actions[0].params, names)  # type: ignore[union-attr]
    elapsed = time.perf_counter() - started
    # Near its budget (slack for a loaded, shared machine), not after minutes.
    assert elapsed < budget.time_ms / 1000 + 1.0, f"{source!r} took {elapsed:.2f} s"
    message = str(info.value)
    assert any(f"(лимит evaluation.{_KEYS[one]})" in message for one in limit.split("|")), message
    assert "bombs.yaml:" in message and "правило t/bomb-0" in message
    assert "на документе doc-a" in message


_KEYS = {
    "length": "max_length",
    "operations": "operations",
    "digits": "max_digits",
    "total": "max_total",
    "time": "time_ms",
    "output": "max_output",
}


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024


def _reset_peak() -> float:
    """Start measuring the peak afresh (Linux: ``5`` to clear_refs resets VmHWM to the current
    RSS), so that what earlier tests of this process used cannot hide a bomb; the RSS now."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    return _status_mb("VmHWM")


def test_a_tick_full_of_bombs_fails_only_their_firings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = _playbook_text()
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "bombs.yaml").write_text(text, encoding="utf-8")
    config_file = tmp_path / "edo-rules.yaml"
    config_file.write_text(
        yaml.safe_dump({"store": {"path": "store.db"}, "playbooks": "playbooks"}),
        encoding="utf-8",
    )
    with SQLiteStore(tmp_path / "store.db") as store:
        store.upsert_documents(make_document(d) for d in DOCUMENTS)
    config = load_config(config_file)
    metrics = Metrics()
    before = _reset_peak()
    service = open_service(config, clock=lambda: NOW, metrics=metrics)
    try:
        started = time.perf_counter()
        report = run_tick(service.pipeline, NOW, metrics)
        elapsed = time.perf_counter() - started
        result = service.last_evaluation
        done = {(r.document_id, r.rule_key) for r in service.store.requests([RequestState.DONE])}
    finally:
        service.close()
    growth = _peak_mb() - before
    # One unbounded bomb would take gigabytes (the issue's took 1.1 GB); the budget's caps let
    # each hold a few MB at most, and the store and wiring about 20 MB.
    assert growth < 150, f"peak memory grew by {growth:.0f} MB"
    assert report.ok, report.errors
    bombs = _bombs()
    # Every other rule's actions were carried out, for every document.
    assert result is not None
    fired = {(p.firing.document_id, p.firing.rule_key) for p in result.fired}
    expected = {(d, f"bombs/honest-{w}") for d in DOCUMENTS for w in ("before", "after")}
    assert fired == expected
    assert expected <= done
    assert report.dispatch.outcomes.get("done", 0) == len(expected)
    # Each bomb failed its one firing per document, naming rule, file:line, document, limit.
    lines = {f"bombs/bomb-{i}": _rule_line(text, i) for i in range(len(bombs))}
    assert len(result.failures) == len(bombs) * len(DOCUMENTS)
    for failure in result.failures:
        index = int(failure.rule_key.rsplit("-", 1)[1])
        _, source, limit = bombs[index]
        assert failure.limit in limit.split("|"), (source, failure.message)
        assert f"bombs.yaml:{lines[failure.rule_key]}:" in failure.message
        assert f"правило {failure.rule_key}:" in failure.message
        assert f"на документе {failure.document_id}" in failure.message
        assert f"(лимит evaluation.{_KEYS[failure.limit]})" in failure.message
    # Reported once per rule with a count: the tick's summary and /metrics.
    assert report.failures[("bombs/bomb-0", "budget:length")] == len(DOCUMENTS)
    assert f"{len(bombs) * len(DOCUMENTS)} document(s) failed" in report.line()
    with in_language("en"):  # as the log handler renders them (runner/logs.py)
        logged = [r.getMessage() for r in caplog.records if "failed on" in r.getMessage()]
    assert len(logged) == len(bombs)  # once per rule, not once per document
    assert all(f"failed on {len(DOCUMENTS)} document(s)" in line for line in logged)
    # The log stays English though the admin reads the failure in Russian.
    assert all(" failed on document doc-" in line for line in logged), logged
    assert all("(budget limit evaluation." in line for line in logged), logged
    rendered = metrics.render()
    assert (
        'edo_rules_evaluation_failures_total{reason="budget:length",rule="bombs/bomb-0"} 2'
        in rendered
    )
    time_bombs = sum(1 for _, _, limit in bombs if "time" in limit) * len(DOCUMENTS)
    assert elapsed < 0.3 * len(bombs) * len(DOCUMENTS) + 0.2 * time_bombs


def _rule_line(text: str, index: int) -> int:
    """The line of bomb ``index``'s expression or template (``match:`` or ``do:`` line)."""
    lines = text.splitlines()
    start = lines.index(f"  - id: bomb-{index}")
    kind = _bombs()[index][0]
    return start + (2 if kind == "where" else 4)
