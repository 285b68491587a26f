"""The emulator's documented portal behaviour, seen over raw HTTP (no client in between)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from edo_rules.emulators.bitrix24 import Bitrix24Emulator, Fault, PlanLimits
from edo_rules.emulators.bitrix24._limits import OperatingTime


@pytest.fixture
def emu() -> Iterator[Bitrix24Emulator]:
    with Bitrix24Emulator(plan=PlanLimits(10_000, 10_000.0), seed=3) as emulator:
        yield emulator


def _post(url: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, json=body, **kwargs) if body is not None else httpx.post(url, **kwargs)


def test_webhook_auth_and_scopes(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(1, scopes={"user"})
    ok = _post(hook + "user.get.json", {"ID": 1})
    assert ok.status_code == 200 and ok.json()["result"][0]["ID"] == "1"
    wrong = _post(hook.replace("/rest/1/", "/rest/1/0") + "user.get", {})
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_CREDENTIALS"
    scope = _post(hook + "crm.deal.list", {})
    assert scope.status_code == 403 and scope.json()["error"] == "insufficient_scope"
    missing = _post(emu.url + "/rest/user.get", {})
    assert missing.status_code == 401 and missing.json()["error"] == "NO_AUTH_FOUND"
    unknown = _post(hook + "no.such", {})
    assert unknown.status_code == 404 and unknown.json()["error"] == "ERROR_METHOD_NOT_FOUND"


def test_bracket_forms_query_strings_and_the_envelope(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(1)
    form = httpx.post(
        hook + "tasks.task.add",
        data={
            "fields[TITLE]": "Позвонить",
            "fields[RESPONSIBLE_ID]": "1",
            "fields[UF_CRM_TASK][]": "D_1",
        },
    )
    task = form.json()["result"]["task"]
    assert task["title"] == "Позвонить" and task["ufCrmTask"] == ["D_1"]
    query = httpx.get(hook + "tasks.task.list?filter[XML_ID]=none&select[]=ID").json()
    assert query["result"] == {"tasks": []} and query["total"] == 0
    assert set(form.json()["time"]) >= {
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating",
        "operating_reset_at",
    }


def test_lists_page_by_50_with_total_and_next(emu: Bitrix24Emulator) -> None:
    for n in range(45):
        emu.portal.add_company(f"Extra {n}")
    hook = emu.add_webhook(1)
    first = _post(
        hook + "crm.company.list", {"order": {"ID": "ASC"}, "select": ["ID", "TITLE"]}
    ).json()
    assert len(first["result"]) == 50 and first["total"] == 65 and first["next"] == 50
    assert set(first["result"][0]) == {"ID", "TITLE"}
    second = _post(hook + "crm.company.list", {"start": 50}).json()
    assert len(second["result"]) == 15 and "next" not in second
    fast = _post(hook + "crm.company.list", {"start": -1}).json()
    assert "total" not in fast


def test_legacy_crm_errors_have_an_empty_code(emu: Bitrix24Emulator) -> None:
    answer = _post(emu.add_webhook(1) + "crm.deal.get", {"id": 999999})
    assert answer.status_code == 400 and answer.json() == {
        "error": "",
        "error_description": "Not found",
    }


def test_batch_quirks(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(1)
    deal = emu.portal.t.deals[min(emu.portal.t.deals)]
    cmd = {"d": f"crm.deal.get?id={deal['ID']}", "c": "crm.company.get?id=$result[d][COMPANY_ID]"}
    answer = _post(hook + "batch", {"halt": 0, "cmd": cmd}).json()["result"]
    assert answer["result"]["c"]["ID"] == deal["COMPANY_ID"]
    assert answer["result_error"] == [] and answer["result_next"] == []
    listed = _post(hook + "batch", {"cmd": ["user.get?ID=1", "user.get?ID=2"]}).json()["result"]
    assert isinstance(listed["result"], list) and len(listed["result"]) == 2
    halted = _post(
        hook + "batch", {"halt": 1, "cmd": {"a": "crm.deal.get?id=0", "b": "user.get?ID=1"}}
    ).json()
    assert set(halted["result"]["result_error"]) == {"a"} and halted["result"]["result"] == []
    nested = _post(hook + "batch", {"cmd": {"a": "batch?cmd[x]=user.get"}}).json()["result"]
    assert nested["result_error"]["a"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    too_long = _post(hook + "batch", {"cmd": {f"k{i}": "user.get" for i in range(51)}})
    assert too_long.status_code == 400 and too_long.json()["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"


def test_the_bucket_counts_a_batch_once() -> None:
    with Bitrix24Emulator(plan=PlanLimits(3, 0.01), seed=1) as emu:
        hook = emu.add_webhook(1)
        big = {"cmd": {f"k{i}": "user.get?ID=1" for i in range(50)}}
        codes = [_post(hook + "batch", big).status_code for _ in range(3)]
        refused = _post(hook + "user.get", {})
        assert codes == [200, 200, 200]
        assert refused.status_code == 503 and refused.json()["error"] == "QUERY_LIMIT_EXCEEDED"


def test_operating_time_limit_blocks_only_that_method() -> None:
    with Bitrix24Emulator(
        plan=PlanLimits(100, 100.0), operating_limit=1.0, operating_cost={"user.get": 0.6}
    ) as emu:
        hook = emu.add_webhook(1)
        assert [_post(hook + "user.get", {}).status_code for _ in range(2)] == [200, 200]
        blocked = _post(hook + "user.get", {})
        assert blocked.status_code == 429 and blocked.json()["error"] == "OPERATION_TIME_LIMIT"
        assert blocked.json()["time"]["operating_reset_at"] > blocked.json()["time"]["start"]
        assert _post(hook + "department.get", {}).status_code == 200
        inner = _post(hook + "batch", {"cmd": {"a": "user.get", "b": "department.get"}}).json()[
            "result"
        ]
        assert (
            inner["result_error"]["a"]["error"] == "OPERATION_TIME_LIMIT" and "b" in inner["result"]
        )


def test_notification_tag_replaces_and_needs_client_id_via_webhook(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(1)
    no_client = _post(hook + "im.notify.system.add", {"USER_ID": 2, "MESSAGE": "a", "TAG": "t"})
    assert no_client.json()["error"] == "WRONG_AUTH_TYPE"
    for text in ("first", "second", "third"):
        _post(
            hook + "im.notify.system.add",
            {"USER_ID": 2, "MESSAGE": text, "TAG": "t", "CLIENT_ID": "app"},
        )
    _post(hook + "im.notify.personal.add", {"USER_ID": 2, "MESSAGE": "untagged"})
    assert [n["message"] for n in emu.notifications(user_id=2)] == ["third", "untagged"]
    assert _post(hook + "im.notify.system.add", {"USER_ID": 2}).json()["error"] == "MESSAGE_EMPTY"
    assert _post(hook + "im.notify.system.add", {"MESSAGE": "x"}).json()["error"] == "USER_ID_EMPTY"


def test_list_elements_are_unique_by_code_and_update_replaces(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(1)
    base = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 42, "ELEMENT_CODE": "doc-1"}
    _post(
        hook + "lists.element.add",
        {**base, "FIELDS": {"NAME": "Акт", "PROPERTY_1": "sent", "PROPERTY_2": "Y"}},
    )
    again = _post(hook + "lists.element.add", {**base, "FIELDS": {"NAME": "Акт"}})
    assert again.json()["error"] == "ERROR_ELEMENT_ALREADY_EXISTS"
    _post(
        hook + "lists.element.update", {**base, "FIELDS": {"NAME": "Акт", "PROPERTY_1": "signed"}}
    )
    [element] = _post(hook + "lists.element.get", base).json()["result"]
    assert list(element["PROPERTY_1"].values()) == ["signed"] and "PROPERTY_2" not in element


def test_oauth_expiry_and_refresh(emu: Bitrix24Emulator) -> None:
    access, refresh = emu.add_oauth_app("app", "secret-1")
    assert _post(emu.url + "/rest/user.get", {"auth": access, "ID": 1}).status_code == 200
    emu.expire_tokens()
    expired = _post(emu.url + "/rest/user.get", {"auth": access})
    assert expired.status_code == 401 and expired.json()["error"] == "expired_token"
    params = {
        "grant_type": "refresh_token",
        "client_id": "app",
        "client_secret": "secret-1",
        "refresh_token": refresh,
    }
    renewed = httpx.get(emu.url + "/oauth/token/", params=params).json()
    assert renewed["access_token"] != access and renewed["refresh_token"] != refresh
    assert httpx.get(emu.url + "/oauth/token/", params=params).json()["error"] == "invalid_grant"
    assert _post(emu.url + "/rest/user.get", {"auth": renewed["access_token"]}).status_code == 200


def test_injected_faults(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(1)
    emu.inject(Fault("redirect", location="https://new.bitrix24.ru"))
    moved = httpx.post(hook + "user.get")
    assert moved.status_code == 302 and moved.headers["location"].startswith(
        "https://new.bitrix24.ru/rest/1/"
    )
    emu.inject(Fault("html"))
    html = httpx.post(hook + "user.get")
    assert html.status_code == 502 and html.text.startswith("<html>")
    emu.inject(Fault("500", method="tasks.task.add", ran=True))
    assert httpx.post(hook + "user.get").status_code == 200  # another method is untouched
    lost = _post(hook + "tasks.task.add", {"fields": {"TITLE": "t", "RESPONSIBLE_ID": 1}})
    assert lost.status_code == 500 and len(emu.tasks()) == 1  # it ran, the answer was lost


def test_the_cli_prints_the_webhook_and_stops_on_ctrl_c() -> None:
    # Ctrl-C's handler as in a terminal's foreground: a shell's background job (a CI run
    # started with `&`) ignores SIGINT, and its children inherit that.
    code = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from edo_rules.emulators.bitrix24.cli import main; "
        "raise SystemExit(main(['--plan', 'enterprise']))"
    )
    # -X faulthandler: a process that does not stop is aborted and says where each thread was.
    process = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner, webhook = process.stdout.readline(), process.stdout.readline()
        assert "enterprise" in banner and "/rest/1/" in webhook
        url = webhook.split(": ", 1)[1].strip()
        assert httpx.post(url + "user.get", json={"ID": 1}).json()["result"][0]["ID"] == "1"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, errors = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            _, errors = process.communicate(timeout=10)
            raise AssertionError(f"the emulator did not stop on Ctrl-C:\n{errors}") from None
    assert process.returncode == 0, errors


def test_operating_time_slides_its_window() -> None:
    now = [0.0]
    meter = OperatingTime(limit=5.0, window=10.0, clock=lambda: now[0])
    for at, seconds in ((0.0, 2.0), (4.0, 2.5), (6.0, 1.0)):
        now[0] = at
        meter.spend("hook", "im.notify", seconds)
    assert meter.operating("hook", "im.notify") == pytest.approx(5.5)
    assert meter.blocked("hook", "im.notify") and not meter.blocked("hook", "tasks.task.add")
    assert meter.reset_at("hook", "im.notify") == pytest.approx(10.0)  # the first call leaves
    now[0] = 10.5
    assert meter.operating("hook", "im.notify") == pytest.approx(3.5)
    now[0] = 16.5
    assert meter.operating("hook", "im.notify") == 0.0 and not meter.blocked("hook", "im.notify")
