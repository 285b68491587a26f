"""Run-time names and parameter rendering: what expressions and templates see."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from edo_rules._messages import in_language
from edo_rules.calendar import ProductionCalendar
from edo_rules.model import (
    ContractRef,
    Counterparty,
    CrmBinding,
    Direction,
    Document,
    Kind,
    Side,
    Signer,
    Status,
)
from edo_rules.playbook import EvaluationError, load_playbook_text, make_names, render_params
from edo_rules.playbook.context import format_money
from edo_rules.playbook.rules import Rule

MSK = timezone(timedelta(hours=3))
CALENDAR = ProductionCalendar.russia()
SENT = datetime(2024, 4, 26, 15, 30, tzinfo=MSK)  # Friday before the May holidays
DOC = Document(
    id="ref-1",
    kind=Kind.CONTRACT,
    number="17",
    date=date(2024, 4, 26),
    direction=Direction.OUTGOING,
    status=Status.SENT,
    status_1c="ОтправленКонтрагенту",
    counterparty=Counterparty("ООО «Ромашка»", "7701234567", "770101001"),
    amount=Decimal("12500"),
    contract=ContractRef("Д-5", date(2024, 1, 10)),
    sent_at=SENT,
    signers=(Signer(Side.OURS, "Иванов И. И.", SENT), Signer(Side.COUNTERPARTY, "Петров П. П.")),
    crm=CrmBinding(company_id=7, deal_id=42),
    rejection_comment=None,
)

PLAYBOOK = """\
version: 1
name: ctx
rules:
  - id: r
    description: проверка
    match: {where: "elapsed.working_days >= 3 and doc.crm.deal_id == 42"}
    when: {after: 3 рабочих дня, since: sent_at}
    do:
      - log:
          message: >-
            {{ doc.title }} · {{ doc.counterparty.name }} (ИНН {{ doc.counterparty.inn }})
            · {{ doc.amount | money }} · отправлен {{ doc.sent_at | datetime }}
            · {{ elapsed.working_days }} раб. дн. · договор {{ doc.contract.number }}
            от {{ doc.contract.date | date }} · {{ rule.key }} · {{ step }}
            · {{ doc.rejection_comment }}·
            {%- for s in doc.signers %} {{ loop.index }}) {{ s.name }}{% endfor %}
          level: info
"""


def _rule() -> Rule:
    return load_playbook_text(PLAYBOOK).rules[0]


def _names(now: datetime, doc: Document = DOC, step: str = "do") -> dict[str, Any]:
    return make_names(doc, now=now, calendar=CALENDAR, since=doc.sent_at, step=step, rule=_rule())


@pytest.mark.parametrize(
    ("now", "working_days"),
    [
        (datetime(2024, 4, 26, 23, 0, tzinfo=MSK), 0),
        (datetime(2024, 4, 27, 23, 59, tzinfo=MSK), 0),  # Saturday 27.04 is working, not over
        (datetime(2024, 4, 28, 0, 0, tzinfo=MSK), 1),
        (datetime(2024, 5, 3, 12, 0, tzinfo=MSK), 2),  # 27.04 and 02.05 (29.04-01.05 off)
        (datetime(2024, 5, 3, 23, 59, tzinfo=MSK), 2),
        (datetime(2024, 5, 4, 0, 0, tzinfo=MSK), 3),  # Fri 03.05 is over
        (datetime(2024, 5, 6, 0, 0, tzinfo=MSK), 3),
        (datetime(2024, 5, 3, 21, 0, tzinfo=UTC), 3),  # 00:00 Moscow on 04.05
        (datetime(2024, 5, 3, 20, 59, tzinfo=UTC), 2),
    ],
)
def test_elapsed_working_days_follow_the_calendar_in_the_rule_zone(
    now: datetime, working_days: int
) -> None:
    assert _names(now)["elapsed"].working_days == working_days


def test_elapsed_days_and_hours_are_whole_periods() -> None:
    elapsed = _names(SENT + timedelta(days=2, hours=5, minutes=59))["elapsed"]
    assert (elapsed.days, elapsed.hours) == (2, 53)
    event = make_names(DOC, now=SENT, calendar=CALENDAR, since=None, step="event", rule=_rule())
    assert (event["elapsed"].working_days, event["elapsed"].hours, event["since"]) == (0, 0, None)


def test_where_expression_sees_the_names() -> None:
    rule = _rule()
    assert rule.match.where is not None
    assert rule.match.where.evaluate(_names(datetime(2024, 5, 6, tzinfo=MSK))) is True
    assert rule.match.where.evaluate(_names(datetime(2024, 5, 3, tzinfo=MSK))) is False


def test_render_params_renders_every_template() -> None:
    spec = _rule().trigger.steps[0].actions[0]  # type: ignore[union-attr]
    rendered = render_params(spec.params, _names(datetime(2024, 5, 6, 10, 0, tzinfo=MSK)))
    assert rendered == {
        "message": "Договор № 17 от 26.04.2024 · ООО «Ромашка» (ИНН 7701234567) · 12 500,00 ₽ · "
        "отправлен 26.04.2024 15:30 · 3 раб. дн. · договор Д-5 от 10.01.2024 · ctx/r · do · ·"
        " 1) Иванов И. И. 2) Петров П. П.",
        "level": "info",
    }
    assert type(rendered) is dict


def test_render_params_walks_nested_mappings_and_tuples() -> None:
    class Upper:
        source = "x"

        def render(self, names: Any) -> str:
            return str(names["step"]).upper()

    params = MappingProxyType({"a": (Upper(), 1, MappingProxyType({"b": Upper()})), "c": None})
    assert render_params(params, {"step": "do"}) == {"a": ["DO", 1, {"b": "DO"}], "c": None}


def test_names_are_read_only() -> None:
    names = _names(datetime(2024, 5, 6, tzinfo=MSK))
    with pytest.raises(AttributeError):
        names["doc"].number = "18"
    with pytest.raises(AttributeError):
        names["elapsed"].working_days = 100
    with pytest.raises(AttributeError):
        names["rule"].id = "x"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("12500"), "RUB", "12 500,00 ₽"),
        (Decimal("1234567.891"), "RUB", "1 234 567,89 ₽"),
        (0, "RUB", "0,00 ₽"),
        (-15.5, "RUB", "-15,50 ₽"),
        (Decimal("99.995"), "USD", "100,00 $"),
        (Decimal("10"), "KZT", "10,00 KZT"),
        (None, "RUB", ""),
    ],
)
def test_money(amount: Any, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_money_refuses_non_amounts() -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        format_money("много")


def test_date_functions_use_the_rule_zone() -> None:
    names = _names(datetime(2024, 5, 6, tzinfo=MSK))
    late = datetime(2024, 4, 26, 22, 30, tzinfo=UTC)  # already 27.04 in Moscow
    assert names["date"](late) == "27.04.2024"
    assert names["datetime"](late) == "27.04.2024 01:30"
    assert names["date"](date(2024, 4, 26)) == "26.04.2024"
    assert names["datetime"](date(2024, 4, 26)) == "26.04.2024"
    assert names["date"](None) == names["datetime"](None) == ""
    assert names["date"](late, "long") == "27 апреля 2024 г."
    assert names["datetime"](late, "long") == "27 апреля 2024 г. 01:30"
    with pytest.raises(ValueError, match="style must be 'short' or 'long'"):
        names["date"](late, "full")
    assert names["working_days_since"](SENT) == 3
    assert names["working_days_since"](None) == 0


def test_template_failure_names_playbook_rule_param_and_document() -> None:
    text = PLAYBOOK.replace("{{ doc.amount | money }}", "{{ doc.amount + 'x' }}")
    rule = load_playbook_text(text, "ctx.yaml").rules[0]
    spec = rule.trigger.steps[0].actions[0]  # type: ignore[union-attr]
    with pytest.raises(EvaluationError) as info:
        render_params(spec.params, _names(datetime(2024, 5, 6, tzinfo=MSK)))
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.path) == (
        "ctx.yaml",
        10,
        "rules[0].do[0].log.message",
    )
    assert problem.message.startswith("правило ctx/r: ошибка в шаблоне '{{ doc.title }} · {{")
    assert "' на документе ref-1: TypeError: unsupported operand" in problem.message
    assert problem.message_key == "eval_failed"
    with in_language("en"):
        assert str(problem.text).startswith("rule ctx/r: template '{{ doc.title }} · {{ doc.")
        assert "failed on document ref-1: TypeError" in str(problem.text)


def test_missing_optional_values_render_empty() -> None:
    doc = replace(DOC, amount=None, contract=None)
    text = PLAYBOOK.replace("{{ doc.contract.number }}", "{{ doc.contract }}").replace(
        "{{ doc.contract.date | date }}", "-"
    )
    rule = load_playbook_text(text).rules[0]
    spec = rule.trigger.steps[0].actions[0]  # type: ignore[union-attr]
    names = make_names(doc, now=SENT, calendar=CALENDAR, since=SENT, step="do", rule=rule)
    assert "·  · отправлен" in render_params(spec.params, names)["message"]
    assert "договор  от -" in render_params(spec.params, names)["message"]


def test_expressions_evaluate_safely_from_several_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    rule = load_playbook_text(PLAYBOOK.replace("elapsed.working_days >= 3 and ", "")).rules[0]
    where = rule.match.where
    assert where is not None
    docs = [replace(DOC, crm=CrmBinding(deal_id=42 if i % 2 else 7)) for i in range(200)]

    def check(doc: Document) -> bool:
        names = make_names(doc, now=SENT, calendar=CALENDAR, since=SENT, step="do", rule=rule)
        return bool(where.evaluate(names))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check, docs))
    assert results == [i % 2 == 1 for i in range(200)]
