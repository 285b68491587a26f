"""Text from 1C is harmless where it lands: templates, the mapping, the log action, the logs."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _bitrix24_helpers import make_request, make_world
from _engine_helpers import MSK
from store_contract import make_document, make_firing
from store_contract import make_request as store_request

from edo_rules._codec import document_to_dict
from edo_rules._untrusted import Trusted, neutralise, one_line, printable
from edo_rules.actions.log import LogAction
from edo_rules.calendar import ProductionCalendar
from edo_rules.cli import main
from edo_rules.model import (
    ActionRequest,
    Counterparty,
    Document,
    Outcome,
    OutcomeStatus,
    RequestState,
    Status,
)
from edo_rules.playbook import load_playbook_text, make_names, render_params
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.runner.logs import remove_logging, setup_logging
from edo_rules.sources.base import sync
from edo_rules.sources.jsonl import JsonlSource
from edo_rules.store.sqlite import SQLiteStore

#: What the review's proof of concept put into 1C: a phishing link, a mention, a forged line.
COMMENT = (
    "[URL=https://evil.example/phish]Подробности[/URL] [USER=1]Директор[/USER]"
    "\r\n2026-12-04 10:00:00 INFO  forged line\u202egnp.exe"
)
NAME = "ООО «Ромашка»\r\n[URL=https://evil.example/pay]Оплатить[/URL]\x85\u2066x\u2069"
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_neutralise_replaces_what_opens_markup_with_look_alikes() -> None:
    text = neutralise("[B]x[/B] <b>y</b> a#BR#b #br# >>quote\n" + "-" * 54 + "\n\u202ex\x00")
    assert text == ("［B］x［/B］ ＜b＞y＜/b＞ a＃BR＃b ＃br＃ ＞＞quote\n" + "\u2010" * 54 + "\nx")
    assert neutralise("Договор № 17 — 12 500,00 ₽ (a-b)") == "Договор № 17 — 12 500,00 ₽ (a-b)"
    assert neutralise(Trusted("[B]x[/B]")) == "[B]x[/B]"


def test_one_line_and_printable() -> None:
    assert one_line(NAME) == "ООО «Ромашка» [URL=https://evil.example/pay]Оплатить[/URL] x"
    assert one_line("a\tb\u2028c  d") == "a b c  d"
    assert printable("Ромашка\r\nINFO x\u202e\x85") == "Ромашка\\r\\nINFO x\\u202e\\x85"
    assert printable("обычная строка") == "обычная строка"


PLAYBOOK = """\
version: 1
name: esc
rules:
  - id: r
    match: {status: rejected}
    when: {status_changed: {to: rejected}}
    do:
      - notify:
          to: responsible
          text: "[B]Отклонён[/B] {{ doc.title }}: {{ doc.rejection_comment }} · {{ '[I]' }}"
      - task:
          responsible: responsible
          title: "Исправить {{ doc.title }}: {{ doc.counterparty.name }}"
          description: >-
            [URL=https://crm.example/x]Карточка[/URL] {{ doc.rejection_comment | trusted }}
"""


def _render(doc: Document) -> list[dict[str, object]]:
    rule = load_playbook_text(PLAYBOOK).rules[0]
    names = make_names(
        doc, now=NOW, calendar=ProductionCalendar.russia(), since=None, step="event", rule=rule
    )
    actions = rule.trigger.actions  # type: ignore[union-attr]
    return [render_params(spec.params, names) for spec in actions]


def test_templates_escape_values_and_keep_the_admins_markup() -> None:
    doc = replace(
        make_document("d1", status=Status.REJECTED),
        rejection_comment=COMMENT,
        counterparty=Counterparty(NAME, "7701234567"),
    )
    notify, task = _render(doc)
    text = str(notify["text"])
    assert text.startswith("[B]Отклонён[/B] ")  # the admin's own markup
    assert "[URL" not in text and "[USER" not in text and "\u202e" not in text
    assert "［URL=https://evil.example/phish］Подробности［/URL］ ［USER=1］" in text
    assert text.endswith(" · ［I］")  # a literal in an expression is a value, as in autoescape
    assert "[URL" not in str(task["title"]) and "［URL=https://evil.example/pay］" in task["title"]
    # |trusted: the admin vouches for the field, it goes as it is
    assert str(task["description"]).startswith("[URL=https://crm.example/x]Карточка[/URL] [URL=")


def test_the_budget_free_sandbox_escapes_alike() -> None:
    from edo_rules.playbook._budget import Budget, use_budget

    doc = replace(make_document("d1", status=Status.REJECTED), rejection_comment="[B]x[/B]")
    with use_budget(Budget(enabled=False)):
        notify, task = _render(doc)
    assert str(notify["text"]).startswith("[B]Отклонён[/B] ")
    assert "［B］x［/B］" in str(notify["text"]) and "[B]x[/B]" in str(task["description"])


def test_jsonl_source_cleans_one_line_fields(tmp_path: Path) -> None:
    doc = replace(
        make_document("d1", status=Status.REJECTED),
        number="17\r\nINFO forged",
        counterparty=Counterparty(NAME, "7701234567"),
        rejection_comment="строка 1\r\nстрока 2\u202e",
    )
    path = tmp_path / "docs.jsonl"
    record = {"type": "document", **document_to_dict(doc)}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    store = SQLiteStore(tmp_path / "store.sqlite3")
    sync(JsonlSource(path), store)
    stored = store.get_document("d1")
    assert stored is not None
    assert stored.number == "17 INFO forged"
    assert stored.counterparty.name == one_line(NAME) and "\n" not in stored.title
    assert stored.rejection_comment == "строка 1\nстрока 2"


def _request(message: str) -> ActionRequest:
    return ActionRequest(
        action="log",
        params={"message": message},
        idempotency_key="k",
        document_id="d1",
        rule_key="esc/r",
        created_at=NOW,
    )


def test_log_action_and_runner_logs_print_one_line_per_record() -> None:
    stream = io.StringIO()
    echoed: list[str] = []
    handler = setup_logging(stream=stream)
    try:
        LogAction(clock=lambda: NOW, echo=echoed.append).execute([_request(COMMENT)])
        logging.getLogger("edo_rules.test").warning("reason: %s", COMMENT, extra={"reason": NAME})
    finally:
        remove_logging(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and not any(line.startswith("2026-12-04 10:00") for line in lines)
    assert "\\r\\n2026-12-04 10:00:00 INFO  forged line\\u202egnp.exe" in lines[0]
    assert "reason=ООО «Ромашка»\\r\\n[URL" in lines[1]
    assert len(echoed) == 1 and echoed[0].isprintable()


@pytest.mark.parametrize("bad", ["\u2028", "\x85", "\u202e", "\U000e0001"])
def test_json_logs_stay_one_valid_line(bad: str) -> None:
    stream = io.StringIO()
    handler = setup_logging(stream=stream, fmt="json")
    try:
        logging.getLogger("edo_rules.test").info("a%sb", bad, extra={"reason": f"c{bad}d"})
    finally:
        remove_logging(handler)
    (line,) = stream.getvalue().splitlines()
    data = json.loads(line)
    assert (data["message"], data["reason"]) == (f"a{bad}b", f"c{bad}d")


def test_digest_lets_only_its_own_link_be_markup(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        friday = datetime(2026, 11, 27, 12, 0, tzinfo=MSK)
        world.clock.now = friday
        number = "5[/URL] [URL=https://evil.example/x]Оплатить"
        world.add_doc("d0", number=number, counterparty=Counterparty(NAME, "7700000001"))
        params = {"to": "responsible", "text": "Напоминание", "delivery": "digest"}
        request = replace(make_request("notify", params, "d0"), created_at=friday)
        world.store.record_firings([(make_firing("d0"), [request])])
        Dispatcher(world.store, world.actions(), clock=world.clock).dispatch()
        world.clock.now = datetime(2026, 11, 30, 9, 0, 30, tzinfo=MSK)
        Dispatcher(world.store, world.actions(), clock=world.clock).dispatch()
        (digest,) = world.emulator.portal.notifications(user_id=world.manager)
    finally:
        world.close()
    text = digest["message"]
    assert text.count("[URL=") == 1 and text.count("[/URL]") == 1, text
    assert "5［/URL］ ［URL=https://evil.example/x］Оплатить" in text
    assert "［URL=https://evil.example/pay］" in text and "\u202e" not in text


def test_a_traceback_cannot_forge_a_record() -> None:
    stream = io.StringIO()
    handler = setup_logging(stream=stream)
    try:
        try:
            raise ValueError("bad answer\n2026-12-04 10:00:00 INFO  forged\u202e")
        except ValueError:
            logging.getLogger("edo_rules.test").exception("sync failed")
    finally:
        remove_logging(handler)
    first, *rest = stream.getvalue().splitlines()
    assert first.endswith("ERROR sync failed") and rest
    assert all(line.startswith("  ") for line in rest), rest
    assert "\u202e" not in stream.getvalue()


def test_outbox_escapes_what_1c_and_bitrix24_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A store filled before the mapping cleaned names, and a Bitrix24 error with a line break.
    path = tmp_path / "edo.db"
    store = SQLiteStore(path)
    store.upsert_documents([make_document("d1", number="17\r\n2026-12-04 10:00:00 INFO  x")])
    store.record_firings([(make_firing("d1"), [store_request("d1", "k1")])])
    (request,) = store.requests([RequestState.PENDING])
    error = "ERROR_CORE: bad\r\n2026-12-04 10:00:00 INFO  forged\u202e"
    assert request.id is not None
    store.record_outcomes([Outcome(request.id, OutcomeStatus.FAILED, NOW, reason=error)])
    store.close()
    assert main(["outbox", "--store", str(path), "--failed"]) == 0
    assert main(["outbox", "--store", str(path), "show", str(request.id)]) == 0
    out = capsys.readouterr().out
    assert "forged" in out and "17\\r\\n2026" in out and "\u202e" not in out
    assert not any(line.startswith("2026-12-04") for line in out.splitlines()), out


def test_document_titles_in_listings_are_escaped() -> None:
    from edo_rules.cli._names import Names

    names = Names(documents={"d1": "Акт № 1\r\n2026-12-04 10:00:00 INFO  x"})
    assert names.doc("d1") == "Акт № 1\\r\\n2026-12-04 10:00:00 INFO  x"
    assert names.doc("d2") == "d2"


@pytest.mark.parametrize(
    "field",
    ["number", "name", "inn", "organization", "contract", "comment", "responsible", "signer"],
)
def test_clean_document_cleans_each_field_and_keeps_a_printable_document_as_it_is(
    field: str,
) -> None:
    from store_contract import make_document

    from edo_rules.model import ContractRef, Side, Signer
    from edo_rules.sources._clean import clean_document

    doc = make_document(
        "d",
        contract=ContractRef("К-1", None),
        rejection_comment="Неверная сумма",
        signers=(Signer(Side.OURS, "Иванов И. И.", None),),
    )
    assert clean_document(doc) is doc  # nothing to clean: no copy
    bad = "Иван\u202eов\tИ.\x07"
    changed = {
        "number": lambda d: replace(d, number=bad),
        "name": lambda d: replace(d, counterparty=replace(d.counterparty, name=bad)),
        "inn": lambda d: replace(d, counterparty=replace(d.counterparty, inn=bad)),
        "organization": lambda d: replace(d, organization=bad),
        "contract": lambda d: replace(d, contract=ContractRef(bad, None)),
        "comment": lambda d: replace(d, rejection_comment=bad),
        "responsible": lambda d: replace(d, responsible=bad),
        "signer": lambda d: replace(d, signers=(Signer(Side.OURS, bad, None),)),
    }[field](doc)
    cleaned = clean_document(changed)
    text = repr(cleaned)
    assert cleaned != changed
    assert "\u202e" not in text and "\\x07" not in text
    assert field == "comment" or "\\t" not in text  # a comment keeps its tabs
