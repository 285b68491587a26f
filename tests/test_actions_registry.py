"""The action registry (built-ins + entry points, lazily) and the ``log`` action."""

from __future__ import annotations

import importlib.util
import logging
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from edo_rules._messages import in_language
from edo_rules.actions import registry
from edo_rules.actions.base import Action
from edo_rules.actions.log import LogAction, describe
from edo_rules.actions.registry import (
    BUILTIN_ACTIONS,
    ActionUnavailableError,
    UnknownActionError,
    action_names,
    get_action_class,
)
from edo_rules.errors import EdoRulesError, PlaybookError
from edo_rules.model import ActionRequest, OutcomeStatus
from edo_rules.playbook import load_playbook_text

AT = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def test_builtins_are_an_explicit_table() -> None:
    assert BUILTIN_ACTIONS["log"] == "edo_rules.actions.log:LogAction"
    bitrix = {
        "notify": "NotifyAction",
        "task": "TaskAction",
        "comment": "CommentAction",
        "deal_stage": "DealStageAction",
        "todo": "TodoAction",
        "invoice": "InvoiceAction",
        "workflow": "WorkflowAction",
        "mirror": "MirrorAction",
    }
    for name, cls in bitrix.items():
        assert BUILTIN_ACTIONS[name] == f"edo_rules.actions.bitrix24.adapters:{cls}"
    assert action_names()[: len(BUILTIN_ACTIONS)] == sorted(BUILTIN_ACTIONS)


def test_log_is_loaded_and_satisfies_the_protocol() -> None:
    cls = get_action_class("log")
    assert cls is LogAction
    assert isinstance(LogAction(clock=lambda: AT), Action)


def test_unknown_action_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownActionError) as info:
        get_action_class("notfy")
    assert info.value.suggestion == "notify"
    assert str(info.value).startswith(
        "неизвестное действие 'notfy' (возможно, 'notify'?); известные действия:"
    )
    assert info.value.message_key == "pb_unknown_action"
    with in_language("en"):
        assert str(info.value).startswith("unknown action 'notfy' (did you mean 'notify'?); known")
    assert isinstance(info.value, EdoRulesError)


# -- third-party adapters through a real entry point -------------------------------

PLUGIN = """
from typing import ClassVar, Any
from collections.abc import Mapping

class SmsAction:
    name: ClassVar[str] = "sms"
    params_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["phone"],
        "additionalProperties": False,
        "properties": {
            "phone": {
                "type": "string",
                "pattern": "^[+]?[0-9 -]+$",
                "description": "a phone number such as '+7 900 000-00-00'",
            },
            "text": {"type": "string"},
            "to": {
                "description": "responsible or a user id",
                "oneOf": [{"enum": ["responsible"]}, {"type": "integer", "minimum": 1}],
            },
            "amount": {
                "oneOf": [{"const": "from_document"}, {"type": "number", "exclusiveMinimum": 0}]
            },
        },
    }
    can_check: ClassVar[bool] = False

    def execute(self, requests):
        return []

    def check(self, request):
        return None
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real installed distribution (dist-info + module) on sys.path."""
    (tmp_path / "edo_fake_sms.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "edo_fake_sms-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: edo-fake-sms\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [edo_rules.actions]
            sms = edo_fake_sms:SmsAction
            ghost = edo_fake_missing_module:GhostAction
            nothing = edo_fake_sms:NoSuchClass
            log = edo_fake_sms:SmsAction
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    yield tmp_path
    registry.refresh()


PLAYBOOK = """\
version: 1
name: plug
rules:
  - id: r
    when: {{status_changed: {{}}}}
    do:
      - {action}
"""


def test_entry_point_action_is_listed_and_loaded_lazily(plugin_dir: Path) -> None:
    import sys

    assert "sms" in action_names() and "ghost" in action_names()
    assert "edo_fake_sms" not in sys.modules  # listing does not import
    assert get_action_class("sms").__name__ == "SmsAction"
    assert get_action_class("log") is LogAction  # a plug-in cannot override a built-in


def test_entry_point_params_are_checked_at_load(plugin_dir: Path) -> None:
    load_playbook_text(PLAYBOOK.format(action='sms: {phone: "+7 900 000-00-00"}'))
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(PLAYBOOK.format(action="sms: {phon: '1'}"), "p.yaml")
    # A plug-in's own schema title ("parameters of 'sms'") is shown as the plug-in wrote it.
    assert [str(p) for p in info.value.problems] == [
        "p.yaml:7:14: rules[0].do[0].sms: parameters of 'sms': нет обязательного ключа 'phone'",
        "p.yaml:7:15: rules[0].do[0].sms.phon: неизвестный ключ 'phon' (возможно, 'phone'?)",
    ]
    with in_language("en"):
        assert [str(p) for p in info.value.problems] == [
            "p.yaml:7:14: rules[0].do[0].sms: missing required key 'phone' in the parameters"
            " of 'sms'",
            "p.yaml:7:15: rules[0].do[0].sms.phon: unknown key 'phon' (did you mean 'phone'?)",
        ]


@pytest.mark.parametrize(
    ("params", "message", "russian"),
    [
        (
            "{phone: abc}",
            "sms.phone: 'abc' is not a valid phone value: expected a phone number",
            "sms.phone: значение phone: недопустимое значение 'abc': ожидается a phone number",
        ),
        (
            "{phone: '1', to: responsibl}",
            "sms.to: 'responsibl' is not valid here (did you mean 'responsible'?): expected "
            "responsible or a user id",
            "sms.to: 'responsibl' здесь недопустимо (возможно, 'responsible'?): ожидается"
            " responsible or a user id",
        ),
        (
            "{phone: '1', to: 0}",
            "sms.to: 0 is not valid here: expected responsible or a user id",
            "sms.to: 0 здесь недопустимо: ожидается responsible or a user id",
        ),
        (
            "{phone: '1', amount: -5}",
            "sms.amount: the amount value must be greater than 0",
            "sms.amount: значение amount: должно быть больше 0",
        ),
        (
            "{phone: '1', amount: from_doc}",
            "sms.amount: 'from_doc' is not valid here (did you mean 'from_document'?)",
            "sms.amount: 'from_doc' здесь недопустимо (возможно, 'from_document'?)",
        ),
        (
            "{phone: 5}",
            "sms.phone: expected a string for the phone value, got integer 5",
            "sms.phone: значение phone: ожидается строка, получено: целое число 5",
        ),
        (
            "[phone]",
            "rules[0].do[0].sms: expected a mapping or null",
            "rules[0].do[0].sms: значение sms: ожидается словарь или пустое значение, получено:"
            " список ['phone']",
        ),
    ],
)
def test_param_errors_read_well(plugin_dir: Path, params: str, message: str, russian: str) -> None:
    with pytest.raises(PlaybookError) as info:
        load_playbook_text(PLAYBOOK.format(action=f"sms: {params}"), "p.yaml")
    assert russian in str(info.value)
    with in_language("en"):
        assert message in str(info.value)


def test_missing_adapter_module_is_a_clear_error(plugin_dir: Path) -> None:
    with pytest.raises(ActionUnavailableError) as info:
        get_action_class("ghost")
    assert info.value.missing_module == "edo_fake_missing_module"
    with pytest.raises(PlaybookError) as error:
        load_playbook_text(PLAYBOOK.format(action="ghost: {}"), "p.yaml")
    assert str(error.value) == (
        "p.yaml:7:9: rules[0].do[0].ghost: действие 'ghost' недоступно: не удалось загрузить"
        " edo_fake_missing_module:GhostAction (module 'edo_fake_missing_module' not found);"
        " установите пакет, который его предоставляет, или уберите действие из сценария"
    )
    with in_language("en"):
        assert str(error.value) == (
            "p.yaml:7:9: rules[0].do[0].ghost: action 'ghost' is not available: cannot load "
            "edo_fake_missing_module:GhostAction (module 'edo_fake_missing_module' not found); "
            "install the package that provides it or remove the action from the playbook"
        )
    # Tolerated on request (its parameters are then not checked):
    load_playbook_text(PLAYBOOK.format(action="ghost: {}"), require_adapters=False)


def test_missing_class_is_a_clear_error_even_when_tolerant(plugin_dir: Path) -> None:
    with pytest.raises(PlaybookError, match="'NoSuchClass' not found in edo_fake_sms"):
        load_playbook_text(PLAYBOOK.format(action="nothing: {}"), require_adapters=False)


def test_bitrix24_actions_validate_when_their_adapters_are_installed() -> None:
    if importlib.util.find_spec("edo_rules.actions.bitrix24.adapters") is None:
        with pytest.raises(PlaybookError, match="действие 'notify' недоступно"):
            load_playbook_text(PLAYBOOK.format(action="notify: {to: responsible, text: hi}"))
        return
    load_playbook_text(PLAYBOOK.format(action="notify: {to: responsible, text: hi}"))
    with pytest.raises(PlaybookError, match=r"rules\[0\]\.do\[0\]\.notify\.txt: неизвестный ключ"):
        load_playbook_text(PLAYBOOK.format(action="notify: {to: responsible, txt: hi}"))


# -- the log action ----------------------------------------------------------------


def _request(params: dict[str, object], request_id: int | None = 5) -> ActionRequest:
    return ActionRequest(
        action="log",
        params=MappingProxyType(params),
        idempotency_key="signing/remind:doc-1:do:2024-04-26",
        document_id="doc-1",
        rule_key="signing/remind",
        created_at=AT,
        id=request_id,
    )


def test_log_executes_as_a_dry_run(caplog: pytest.LogCaptureFixture) -> None:
    echoed: list[str] = []
    action = LogAction(echo=echoed.append, clock=lambda: AT)
    with caplog.at_level(logging.DEBUG, logger="edo_rules.actions.log"):
        outcomes = action.execute(
            [_request({"message": "напомнить", "level": "warning"}), _request({"to": 7}, 6)]
        )
    assert [(o.request_id, o.status, o.at) for o in outcomes] == [
        (5, OutcomeStatus.DONE, AT),
        (6, OutcomeStatus.DONE, AT),
    ]
    assert outcomes[0].remote_id == "log:signing/remind:doc-1:do:2024-04-26"
    assert echoed == [
        "[dry run] signing/remind · doc-1: напомнить",
        '[dry run] signing/remind · doc-1: {"to": 7}',
    ]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, echoed[0]),
        (logging.INFO, echoed[1]),
    ]


def test_log_can_check_and_counts_a_request_in_doubt_as_done() -> None:
    action = LogAction(clock=lambda: AT)
    assert LogAction.can_check is True
    outcome = action.check(_request({}))
    assert outcome is not None and outcome.status is OutcomeStatus.DONE


def test_log_params_schema_is_enforced_at_load() -> None:
    with pytest.raises(
        PlaybookError, match="неизвестный ключ 'text' \\(здесь допустимы: level, message\\)"
    ):
        load_playbook_text(PLAYBOOK.format(action="log: {text: hi}"))


def test_describe_is_one_line() -> None:
    assert describe(_request({"message": "x"})) == "[dry run] signing/remind · doc-1: x"
