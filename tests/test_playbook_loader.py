"""Loading playbooks: compiled shape, defaults, frozenness and every kind of error."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from edo_rules._messages import in_language
from edo_rules.errors import PlaybookError, Problem
from edo_rules.model import Direction, Kind, Status
from edo_rules.playbook import load_playbook, load_playbook_text, load_playbooks
from edo_rules.playbook.rules import (
    CatchUp,
    Duration,
    Playbook,
    StatusTrigger,
    TimeTrigger,
    WorkingHours,
)

LADDER = """\
version: 1
name: signing-control
description: Контроль подписания
rules:
  - id: remind-unsigned
    description: Контрагент не подписал документ
    match:
      kind: [contract, act]
      status: sent
      direction: outgoing
      counterparty: {inn: "7701234567"}
      amount: {min: 10000, max: 500000.5}
      where: "doc.amount >= 10000"
    when:
      after: 3 working days
      since: sent_at
    do:
      - log: {message: "{{ doc.title }} не подписан"}
    escalate:
      - after: 5 рабочих дней
        do:
          - log: {message: "эскалация", level: warning}
      - after: 7 working days
        do:
          - log:
    repeat: {every: 2 working days, times: 3}
  - id: signed
    when:
      status_changed: {from: [sent], to: signed}
    do:
      - log: {message: "подписан"}
"""


def problems_of(text: str, file: str = "pb.yaml") -> list[Problem]:
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(text, file)
    return list(info.value.problems)


def messages(text: str) -> list[str]:
    """The problems as ``--lang en`` shows them (the translator's exact English sentences)."""
    return [f"{p.line}:{p.column}: {p.path}: {_english(p)}" for p in problems_of(text)]


def russian(text: str) -> list[str]:
    """The problems as an admin reads them (the default language)."""
    return [f"{p.line}:{p.column}: {p.path}: {p.message}" for p in problems_of(text)]


def _english(problem: Problem) -> str:
    return problem.message if problem.text is None else problem.text.render("en")


def rule_text(body: str, *, header: str = "") -> str:
    """A one-rule playbook; ``body`` is the rule's YAML (without the leading '- ')."""
    rule = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return f"version: 1\nname: t\n{header}rules:\n  - {rule[4:]}\n"


def test_time_rule_compiles_to_a_ladder() -> None:
    playbook = load_playbook_text(LADDER, "ladder.yaml")
    rule = playbook.rules[0]
    assert rule.key == "signing-control/remind-unsigned"
    assert isinstance(rule.trigger, TimeTrigger)
    assert rule.trigger.since == "sent_at"
    steps = rule.trigger.steps
    assert [s.name for s in steps] == ["do", "escalate[1]", "escalate[2]"]
    assert [s.after for s in steps] == [
        Duration(3, "working_days", "3 working days"),
        Duration(5, "working_days", "5 рабочих дней"),
        Duration(7, "working_days", "7 working days"),
    ]
    assert rule.trigger.repeat is not None
    assert (rule.trigger.repeat.every.amount, rule.trigger.repeat.times) == (2, 3)
    assert steps[2].actions[0].params == {}


def test_match_compiles_every_filter() -> None:
    match = load_playbook_text(LADDER).rules[0].match
    assert match.kinds == {Kind.CONTRACT, Kind.ACT}
    assert match.statuses == {Status.SENT}
    assert match.directions == {Direction.OUTGOING}
    assert match.counterparty_inns == {"7701234567"}
    assert (match.amount_min, match.amount_max) == (Decimal("10000"), Decimal("500000.5"))
    assert match.where is not None and match.where.source == "doc.amount >= 10000"


def test_event_rule_compiles() -> None:
    rule = load_playbook_text(LADDER).rules[1]
    assert isinstance(rule.trigger, StatusTrigger)
    assert rule.trigger.from_statuses == {Status.SENT}
    assert rule.trigger.to_statuses == {Status.SIGNED}
    assert rule.match.kinds is None and rule.match.where is None


def test_defaults_and_overrides() -> None:
    default = load_playbook_text(LADDER).rules[0]
    assert default.timezone == ZoneInfo("Europe/Moscow")
    assert default.catch_up is CatchUp.LATEST
    assert default.working_hours is None
    text = rule_text(
        """
        id: r
        timezone: Asia/Yekaterinburg
        catch_up: none
        when: {after: 4 hours, since: sent_at}
        do: [log: ]
        """,
        header='timezone: Europe/Kaliningrad\nworking_hours: "09:00-18:30"\ncatch_up: all\n',
    )
    rule = load_playbook_text(text).rules[0]
    assert rule.timezone == ZoneInfo("Asia/Yekaterinburg")
    assert rule.catch_up is CatchUp.NONE
    assert rule.working_hours == WorkingHours(9 * 60, 18 * 60 + 30)


def test_locations_point_at_the_yaml() -> None:
    playbook = load_playbook_text(LADDER, "ladder.yaml")
    rule = playbook.rules[0]
    assert (rule.location.file, rule.location.line) == ("ladder.yaml", 5)
    action = rule.trigger.steps[0].actions[0]  # type: ignore[union-attr]
    assert (action.location.line, action.location.column) == (18, 9)


def _walk(value: Any) -> Any:
    yield value
    if isinstance(value, MappingProxyType):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _walk(item)


def test_output_is_frozen_and_has_no_dict_or_list() -> None:
    playbook = load_playbook_text(LADDER)
    params = [
        a.params
        for rule in playbook.rules
        for step in getattr(rule.trigger, "steps", ())
        for a in step.actions
    ]
    assert params
    for value in (v for p in params for v in _walk(p)):
        assert not isinstance(value, dict | list)
        assert isinstance(value, MappingProxyType | tuple | str | int | float | bool) or hasattr(
            value, "render"
        )
    with pytest.raises(TypeError):
        params[0]["message"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        playbook.rules[0].match.where.source = "True"  # type: ignore[union-attr,misc]
    with pytest.raises(AttributeError):
        playbook.name = "other"  # type: ignore[misc]


def test_loading_reads_only_and_is_repeatable(tmp_path: Path) -> None:
    path = tmp_path / "pb.yaml"
    path.write_text(LADDER, encoding="utf-8")
    before = path.stat().st_mtime_ns
    first, second = load_playbook(path), load_playbook(path)
    assert first.content_hash == second.content_hash
    assert len(first.content_hash) == 64
    assert path.stat().st_mtime_ns == before
    assert path.read_text(encoding="utf-8") == LADDER
    path.write_text(LADDER.replace("эскалация", "эскалация!"), encoding="utf-8")
    assert load_playbook(path).content_hash != first.content_hash


def test_yaml_dates_stay_text() -> None:
    text = rule_text(
        """
        id: r
        when: {status_changed: {}}
        do:
          - log: {message: 2024-05-01}
        """
    )
    spec = load_playbook_text(text).rules[0].trigger.actions[0]  # type: ignore[union-attr]
    assert spec.params["message"].source == "2024-05-01"


def test_nested_params_are_templates_at_every_depth() -> None:
    from edo_rules.playbook.templates import CompiledTemplate

    text = rule_text(
        """
        id: r
        when: {status_changed: {}}
        do:
          - log: {message: "{{ doc.number }}"}
        """
    )
    spec = load_playbook_text(text).rules[0].trigger.actions[0]  # type: ignore[union-attr]
    assert isinstance(spec.params["message"], CompiledTemplate)
    assert spec.params["message"].path == "rules[0].do[0].log.message"


# -- errors --------------------------------------------------------------------


def test_all_errors_are_reported_with_positions() -> None:
    text = """\
version: 1
name: bad
rules:
  - id: r1
    match:
      kind: [contrct]
      status: snt
      where: "doc.amout >= 10000"
    when:
      aftr: 3 working days
      since: sent
    do:
      - lgo: {message: "x"}
      - log: {mesage: "{{ doc.numbr }}"}
    escalate:
      - after: three days
        do: [log: ]
  - id: r1
    when: {status_changed: {to: signed}}
    do: [log: ]
"""
    assert messages(text) == [
        "6:14: rules[0].match.kind[0]: unknown document kind 'contrct' (did you mean "
        "'contract'?); expected one of: contract, act, upd, invoice, tax_invoice, other",
        "7:15: rules[0].match.status: unknown status 'snt' (did you mean 'sent'?); expected one "
        "of: draft, awaiting_our_signature, sent, signed, signed_with_corrections, rejected, "
        "revoked, closed, error, unknown",
        "8:14: rules[0].match.where: invalid expression 'doc.amout >= 10000': unknown field "
        "'doc.amout' (did you mean 'doc.amount'?)",
        "10:7: rules[0].when: a time rule needs 'after' too (e.g. after: 3 working days, "
        "since: sent_at)",
        "10:7: rules[0].when.aftr: unknown key 'aftr' (did you mean 'after'?)",
        "11:14: rules[0].when.since: unknown timestamp field 'sent' (did you mean 'sent_at'?); "
        "expected one of: status_changed_at, sent_at, our_signed_at, counterparty_signed_at, "
        "rejected_at, revoked_at, synced_at",
        "13:9: rules[0].do[0].lgo: unknown action 'lgo' (did you mean 'log'?); known actions: "
        "card_status, comment, deal_stage, invoice, log, mirror, notify, remind_counterparty, "
        "task, task_comment, timeline, todo, workflow",
        "14:15: rules[0].do[1].log.mesage: unknown key 'mesage' (did you mean 'message'?)",
        "14:23: rules[0].do[1].log.mesage: invalid template '{{ doc.numbr }}': unknown field "
        "'doc.numbr' (did you mean 'doc.number'?)",
        "16:16: rules[0].escalate[0].after: 'three days' is not a duration: a whole number, "
        "then a unit (e.g. '3 working days', '2 days', '4 hours', '30 minutes', "
        "'3 рабочих дня', '5 рабочих дней', '2 дня', '4 часа')",
        "18:9: rules[1].id: duplicate rule id 'r1' (first at line 4)",
    ]


def test_problem_string_format() -> None:
    (problem,) = problems_of(rule_text("id: r\nwhen: {after: 3 wd, since: sent_at}\ndo: [log: ]"))
    assert str(problem).startswith(
        "pb.yaml:5:19: rules[0].when.after: в '3 wd' неизвестная единица"
    )
    with in_language("en"):  # str() renders in the language in force
        assert str(problem).startswith("pb.yaml:5:19: rules[0].when.after: '3 wd' has an unknown")
    assert problem.message_key == "duration_unknown_unit"
    assert problem.message_params["word"] == "wd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "1:1: : the file is empty (expected a playbook mapping)"),
        ("- a\n- b\n", "1:1: : expected a mapping for the edo-rules playbook, got list ['a', 'b']"),
        ("version: 1\nname: x\nrules: [\n", "3:8: : YAML syntax: the list opened with '['"),
        ("version: 1\n\tname: x\n", "2:1: : YAML syntax: a tab character here"),
        ("a: 1\na: 2\n", "2:1: a: duplicate key 'a'"),
        ("a: &x [*x]\n", "1:4: a[0]: recursive alias (a node contains itself)"),
        ("a: !!python/object:os.system {}\n", "1:4: a: unsupported YAML tag"),
        ("a: !custom 1\n", "1:4: a: could not determine a constructor for the tag '!custom'"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "3:3: : merge keys ('<<') are not supported"),
        ("version: 2\nname: x\nrules: []\n", "1:10: version: unsupported playbook version 2"),
        ("version: " + "9" * 200, "1:10: version: number too large (more than 100 digits)"),
        ("a: !!binary aGk=\n", "1:4: a: binary data (!!binary) is not supported"),
    ],
)
def test_bad_yaml_and_roots(text: str, expected: str) -> None:
    assert any(m.startswith(expected) for m in messages(text)), messages(text)


def test_missing_required_keys() -> None:
    assert messages("version: 1\nname: x\n") == [
        "1:1: : missing required key 'rules' in the edo-rules playbook"
    ]
    assert messages(rule_text("id: r\nwhen: {status_changed: {}}")) == [
        "4:5: rules[0]: missing required key 'do' in the rule"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "id: r\nwhen: {after: 3 days, since: sent_at, status_changed: {}}\ndo: [log: ]",
            "rules[0].when: use either 'after' + 'since' (a time rule) or 'status_changed'",
        ),
        ("id: r\nwhen: {since: sent_at}\ndo: [log: ]", "rules[0].when: a time rule needs 'after'"),
        (
            "id: r\nwhen: {status_changed: {}}\ndo: [log: ]\nrepeat: {every: 1 day, times: 2}",
            "rules[0].repeat: 'repeat' applies to time rules only",
        ),
        (
            "id: r\nwhen: {after: 5 days, since: sent_at}\ndo: [log: ]\n"
            "escalate: [{after: 3 days, do: [log: ]}]",
            "rules[0].escalate[0].after: escalate[1] (3 days) must come later than do (5 days)",
        ),
        (
            "id: r\nwhen: {after: 1 day, since: sent_at}\ndo: [log: ]\n"
            "repeat: {every: 0 days, times: 1}",
            "rules[0].repeat.every: repeat.every must be longer than zero",
        ),
        (
            "id: r\ntimezone: Europe/Moscw\nwhen: {status_changed: {}}\ndo: [log: ]",
            "rules[0].timezone: unknown time zone 'Europe/Moscw' (did you mean 'Europe/Moscow'?)",
        ),
        (
            "id: r\nworking_hours: '18:00-09:00'\nwhen: {status_changed: {}}\ndo: [log: ]",
            "rules[0].working_hours: working hours '18:00-09:00': the start must be before",
        ),
        (
            "id: r\nworking_hours: 9-18\nwhen: {status_changed: {}}\ndo: [log: ]",
            "rules[0].working_hours: '9-18' is not a valid working hours: write the window as",
        ),
        (
            "id: r\nmatch: {amount: {min: 10, max: 5}}\nwhen: {status_changed: {}}\ndo: [log: ]",
            "rules[0].match.amount: amount.min is greater than amount.max",
        ),
        (
            "id: r\nmatch: {amount: {min: .nan}}\nwhen: {status_changed: {}}\ndo: [log: ]",
            "rules[0].match.amount.min: the amount must be a finite number",
        ),
        (
            "id: 'bad id'\nwhen: {status_changed: {}}\ndo: [log: ]",
            "rules[0].id: 'bad id' is not a valid identifier: use 1-64 latin letters",
        ),
        (
            "id: r\nwhen: {after: 3, since: sent_at}\ndo: [log: ]",
            'rules[0].when.after: expected a string (e.g. "3 working days") for the duration, '
            "got integer 3",
        ),
        (
            "id: r\nwhen: {status_changed: {}}\ndo: [{log: {}, notify: {}}]",
            "rules[0].do[0]: the action may have at most 1 key (write each action as its own",
        ),
        (
            "id: r\nwhen: {status_changed: {}}\ndo: [log]",
            'rules[0].do[0]: expected a mapping (e.g. {"log": {"message": "..."}}) for the '
            "action, got string 'log'",
        ),
        (
            "id: r\nwhen: {status_changed: {}}\ndo: [{Log: {}}]",
            "rules[0].do[0].Log: unknown action 'Log' (did you mean 'log'?)",
        ),
        (
            "id: r\nwhen: {status_changed: {}}\ndo: [log: {level: loud}]",
            "rules[0].do[0].log.level: unknown level value 'loud'; expected one of: debug, error",
        ),
        (
            "id: r\nwhen: {status_changed: {}}\ndo: [log: {message: 5}]",
            "rules[0].do[0].log.message: expected a string for the message value, got integer 5",
        ),
        (
            "id: r\nwhen: {status_changed: {}}\ndo: [log: {message: '{{ doc.number '}]",
            "rules[0].do[0].log.message: invalid template '{{ doc.number ': template syntax error",
        ),
        (
            "id: r\nmatch: {where: 'doc.amount >'}\nwhen: {status_changed: {}}\ndo: [log: ]",
            "rules[0].match.where: invalid expression 'doc.amount >': syntax error",
        ),
    ],
)
def test_rule_errors(body: str, expected: str) -> None:
    found = [f"{p.path}: {_english(p)}" for p in problems_of(rule_text(body))]
    assert any(m.startswith(expected) for m in found), found


def test_param_errors_point_at_the_param_line() -> None:
    text = rule_text(
        """
        id: r
        when: {status_changed: {}}
        do:
          - log:
              message: ok
              level: loud
        """
    )
    (problem,) = problems_of(text)
    assert (problem.line, problem.column, problem.path) == (9, 18, "rules[0].do[0].log.level")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"version: 1\nname: \xff\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert str(info.value) == f"{path}:2:7: файл не в кодировке UTF-8 (сохраните его в UTF-8)"


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="не удалось прочитать файл: "):
        load_playbook(tmp_path)  # a folder is not a file
    with pytest.raises(PlaybookError, match="No such file"):
        load_playbook(tmp_path / "absent.yaml")


def test_load_playbooks_reports_duplicates_across_files(tmp_path: Path) -> None:
    one = "version: 1\nname: one\nrules:\n  - id: same\n    when: {status_changed: {}}\n"
    one += "    do: [log: ]\n"
    (tmp_path / "a.yaml").write_text(one, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(one.replace("one", "two"), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(one.replace("same", "other"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a playbook", encoding="utf-8")
    with pytest.raises(PlaybookError) as info:
        load_playbooks([tmp_path])
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'c.yaml'}:1:1: name: имя сценария 'one' уже занято: {tmp_path / 'a.yaml'}",
        f"{tmp_path / 'sub' / 'b.yml'}:4:5: rules[0].id: id правила 'same' уже определён в "
        f"{tmp_path / 'a.yaml'}:4",
    ]


def test_load_playbooks_returns_every_playbook(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(LADDER, encoding="utf-8")
    playbooks = load_playbooks([tmp_path / "a.yaml", tmp_path, str(tmp_path / "a.yaml")])
    assert [type(p) for p in playbooks] == [Playbook]
    assert [r.id for r in playbooks[0].rules] == ["remind-unsigned", "signed"]


# -- the published schema --------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_packaged_schema_is_identical_to_the_published_one() -> None:
    published = (ROOT / "schemas" / "playbook.schema.json").read_bytes()
    packaged = (ROOT / "edo_rules" / "playbook" / "playbook.schema.json").read_bytes()
    assert packaged == published


def test_schema_is_valid_and_matches_the_model() -> None:
    from jsonschema import Draft202012Validator

    from edo_rules.model import TIMESTAMP_FIELDS
    from edo_rules.playbook.durations import duration_pattern

    schema = json.loads((ROOT / "schemas" / "playbook.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    defs = schema["$defs"]
    assert defs["kind"]["enum"] == [k.value for k in Kind]
    assert defs["status"]["enum"] == [s.value for s in Status]
    assert defs["direction"]["enum"] == [d.value for d in Direction]
    assert defs["timestamp_field"]["enum"] == list(TIMESTAMP_FIELDS)
    assert defs["catch_up"]["enum"] == [c.value for c in CatchUp]
    assert defs["duration"]["pattern"] == duration_pattern()
