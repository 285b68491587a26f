"""Every outbound request is bounded: a size cap, a wall-clock deadline, a stage deadline.

The 1C and Bitrix24 clients talk over real HTTP to a small hostile server on
127.0.0.1 (tests/_hostile.py): an endless page, a body dripped one byte at a
time (each read well inside the per-read timeout), a header phase that never
ends and a server that never answers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from _hostile import HostileServer, elapsed

from edo_rules._bounds import (
    StageDeadlineError,
    bound,
    check_stage,
    in_context,
    request_deadline,
    stage_expired,
    stage_limit,
)
from edo_rules._messages import in_language
from edo_rules.actions.bitrix24 import Bitrix24Error
from edo_rules.actions.bitrix24._bucket import PLANS
from edo_rules.actions.bitrix24._redact import Redactor
from edo_rules.actions.bitrix24.client import Bitrix24Client, RetryPolicy
from edo_rules.actions.bitrix24.errors import ErrorClass
from edo_rules.actions.bitrix24.oauth import OAuthAuth, WebhookAuth
from edo_rules.actions.bitrix24.settings import OAuthSettings, Secret
from edo_rules.config import load_config
from edo_rules.errors import ConfigError, SourceError
from edo_rules.sources.onec._client import ODataClient, PageRequest
from edo_rules.sources.onec._pager import iter_pages
from edo_rules.sources.onec._settings import OneCSettings

SECRET = "s3cr3tw3bh00kt0k3n"


def onec(url: str, **overrides: object) -> ODataClient:
    values: dict[str, object] = {
        "url": url,
        "base": "base",
        "user": "Администратор",
        "password": "pa55word",
        "timeout": 1.0,
        "first_timeout": 1.0,
        "connect_timeout": 1.0,
        "retries": 0,
        "backoff": 0.01,
        "request_deadline": 2.0,
        **overrides,
    }
    return ODataClient(OneCSettings(**values))  # type: ignore[arg-type]


def bitrix(url: str, **overrides: float) -> Bitrix24Client:
    options = {"timeout": 1.0, "request_deadline": 2.0, "max_response_mb": 16.0, **overrides}
    return Bitrix24Client(
        WebhookAuth(f"{url}/rest/1/{SECRET}/", Redactor()),
        Redactor(),
        plan=PLANS["enterprise"],
        retry=RetryPolicy(uncertain_attempts=1, unreachable_attempts=1, backoff=0.01),
        sleep=lambda _: None,
        **options,
    )


PAGE = PageRequest("Document_ПоступлениеТоваровУслуг", ("Ref_Key",), top=1000)


# -- 1C -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["drip", "stall"])
def test_onec_request_ends_at_its_deadline_however_the_server_drips(mode: str) -> None:
    with HostileServer(mode, every=0.3) as server:
        client = onec(server.url)
        start = time.monotonic()
        with pytest.raises(SourceError) as caught:
            client.get(PAGE)
        took = elapsed(start)
        client.close()
    text = str(caught.value)
    assert took < 3.0, f"the request ran {took:.1f} s past its 2 s deadline"
    assert "полный ответ не получен: исчерпан лимит запроса 2 с (onec.request_deadline)" in text
    with in_language("en"):
        assert "no complete answer within the request deadline of 2 s (onec.request_deadline)" in (
            str(caught.value)
        )
    assert "127.0.0.1" in text and "Document_ПоступлениеТоваровУслуг" in text  # server, request
    assert "pa55word" not in text and "Basic" not in text
    assert caught.value.retryable


def test_onec_silent_server_is_a_read_timeout_not_a_deadline() -> None:
    with HostileServer("silent") as server:
        client = onec(server.url, timeout=0.5, first_timeout=0.5)
        with pytest.raises(SourceError, match=r"1С не ответила за 0\.5 с"):
            client.get(PAGE)
        client.close()


def test_onec_endless_page_is_cut_at_the_cap() -> None:
    with HostileServer("endless") as server:
        client = onec(server.url, max_page_mb=1, request_deadline=30.0)
        start = time.monotonic()
        with pytest.raises(SourceError) as caught:
            client.get(PAGE)
        took = elapsed(start)
        client.close()
    assert str(caught.value).startswith(
        "запрос к 1С остановлен: ответ больше лимита 1 МБ (onec.max_page_mb): передача"
        " продолжалась и дальше (запрос: http://"
    )
    assert str(caught.value).endswith(
        "\nЧто сделать: синхронизация повторит запрос страницей меньшего размера; если 1С просто"
        " медленная, увеличьте request_deadline / max_page_mb в разделе onec или уменьшите"
        " page_size"
    )
    with in_language("en"):
        assert "larger than the limit of 1 MB (onec.max_page_mb)" in str(caught.value)
    assert took < 5.0
    # The client stopped reading soon after the cap (socket buffers aside).
    assert server.sent_bytes < 20 * 1024 * 1024


def test_onec_retries_a_capped_page_smaller_then_gives_up() -> None:
    with HostileServer("endless") as server:
        client = onec(server.url, max_page_mb=0.25, retries=2)
        with pytest.raises(SourceError, match=r"onec\.max_page_mb"):
            client.fetch(PAGE)
        client.close()
        assert server.served == 3
    assert client.failures and all("max_page_mb" in failure for failure in client.failures)


def test_onec_sync_stage_limit_cuts_a_request_and_stops_retries() -> None:
    with HostileServer("drip", every=0.3) as server:
        client = onec(server.url, request_deadline=60.0, retries=4)
        start = time.monotonic()
        with stage_limit("sync", 1.5), pytest.raises(SourceError) as caught:
            # The pager fetches in a background thread: the stage's deadline goes along.
            list(iter_pages(client, PAGE, key=lambda row: row.get("Ref_Key")))
        took = elapsed(start)
        client.close()
    text = str(caught.value)
    assert took < 2.5
    assert "исчерпан лимит этапа sync: 1.5 с (schedule.stage_limits.sync)" in text
    assert not caught.value.retryable and server.served == 1


def test_stage_limit_is_checked_between_steps() -> None:
    with stage_limit("evaluate", 0.05):
        check_stage()
        time.sleep(0.1)
        with pytest.raises(StageDeadlineError, match=r"schedule.stage_limits.evaluate"):
            check_stage()
    check_stage()  # outside the stage: no limit
    with stage_limit("refresh", 0.0, "sync"), pytest.raises(StageDeadlineError) as caught:
        check_stage()  # a refresh runs under the sync's limit: the message names that setting
    assert str(caught.value) == (
        "этап refresh остановлен: исчерпан лимит этапа refresh: 0 с (schedule.stage_limits.sync)"
        "\nЧто сделать: остальное будет сделано на следующем тике; если это повторяется,"
        " увеличьте schedule.stage_limits.sync или найдите в журнале выше, что работает медленно"
    )
    with in_language("en"):
        assert "the refresh stage's limit of 0 s (schedule.stage_limits.sync)" in str(caught.value)


def test_a_whole_set_under_the_caps_syncs_over_a_bounded_client() -> None:
    from _onec_helpers import make_base, serving, settings_for

    base = make_base(60)
    with serving(base) as emulator:
        # Pages of two rows, far below 1 MB; the deadline is per request, not per set.
        settings = settings_for(emulator, max_page_mb=1, request_deadline=5.0, page_size=2)
        client = ODataClient(settings)
        request = PageRequest("Catalog_Контрагенты", ("Ref_Key",), orderby="Ref_Key", top=2)
        with stage_limit("sync", 30.0):
            pages = list(iter_pages(client, request, key=lambda row: row["Ref_Key"]))
        client.close()
    expected = len(base.entity_set("Catalog_Контрагенты").rows)
    assert sum(len(page) for page in pages) == expected > 2


# -- Bitrix24 -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["drip", "stall"])
def test_bitrix24_request_ends_at_its_deadline(mode: str) -> None:
    with HostileServer(mode, every=0.3) as server:
        client = bitrix(server.url)
        start = time.monotonic()
        with pytest.raises(Bitrix24Error) as caught:
            client.call("crm.deal.get", {"id": 1})
        took = elapsed(start)
        client.close()
    text = str(caught.value)
    assert took < 3.0
    assert "исчерпан лимит запроса 2 с (bitrix24.request_deadline)" in text
    assert "crm.deal.get" in text and "webhook http://127.0.0.1:" in text
    assert SECRET not in text
    assert caught.value.error_class is ErrorClass.UNCERTAIN  # the call may have run


def test_bitrix24_endless_answer_is_cut_at_the_cap() -> None:
    with HostileServer("endless") as server:
        client = bitrix(server.url, max_response_mb=0.5, request_deadline=30.0)
        with pytest.raises(Bitrix24Error) as caught:
            client.call("tasks.task.list", {}, idempotent=True)
        client.close()
    text = str(caught.value)
    assert "ответ больше лимита 0.5 МБ (bitrix24.max_response_mb)" in text
    assert SECRET not in text and server.sent_bytes < 20 * 1024 * 1024


def test_bitrix24_call_after_the_stage_limit_is_not_sent() -> None:
    with HostileServer("silent") as server:
        client = bitrix(server.url)
        with stage_limit("dispatch", 0.01):
            time.sleep(0.02)
            with pytest.raises(Bitrix24Error) as caught:
                client.call("im.notify.system.add", {"USER_ID": 1, "MESSAGE": "x"})
        client.close()
        assert server.served == 0
    assert caught.value.refused and "schedule.stage_limits.dispatch" in str(caught.value)


def test_the_stage_deadline_reaches_threads_started_for_it() -> None:
    seen: list[object] = []
    with stage_limit("sync", 0.01):
        time.sleep(0.02)
        worker = threading.Thread(target=in_context(lambda: seen.append(stage_expired())))
        worker.start()
        worker.join()
    assert seen and seen[0] is not None


# -- configuration ---------------------------------------------------------------------


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    path = tmp_path / "edo-rules.yaml"
    path.write_text("version: 1\n" + text, encoding="utf-8")
    return path


def test_the_limits_are_read_from_the_config(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "schedule: {interval: 60, stage_limits: {sync: 2 minutes, dispatch: 90}}\n"
        "onec: {url: 'http://127.0.0.1', base: b, user: u, password: p,"
        " request_deadline: 45, max_page_mb: 8}\n",
    )
    config = load_config(path, env={})
    assert config.schedule.stage_limits == {"sync": 120.0, "evaluate": 1800.0, "dispatch": 90.0}
    assert config.onec is not None
    assert (config.onec.request_deadline, config.onec.max_page_mb) == (45, 8)
    defaults = load_config(_config(tmp_path, ""), env={})
    assert defaults.schedule.stage_limits == {
        "sync": 3600.0,
        "evaluate": 1800.0,
        "dispatch": 1800.0,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule: {stage_limits: {sync: 3 working days}}\n", "schedule.stage_limits.sync"),
        ("schedule: {stage_limits: {tick: 60}}\n", "tick"),
        (
            "onec: {url: 'http://127.0.0.1', base: b, user: u, password: p, max_page_mb: 0}\n",
            "onec.max_page_mb: наибольшая страница: должно быть больше 0",
        ),
    ],
)
def test_a_bad_limit_is_a_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, text), env={})
    assert expected in str(caught.value)


@pytest.mark.parametrize("mode", ["endless", "drip"])
def test_an_oauth_token_refresh_is_bounded_too(tmp_path: Path, mode: str) -> None:

    tokens = tmp_path / "tokens.json"
    tokens.write_text('{"access_token": "old-access", "refresh_token": "old-refresh"}')
    with HostileServer(mode, every=0.3) as server:
        settings = OAuthSettings(
            "http://127.0.0.1:1", "app.1", Secret("client-s3cret"), tokens, server_url=server.url
        )
        auth = OAuthAuth(settings, Redactor())
        http = bound(httpx.Client(timeout=1.0))
        start = time.monotonic()
        with (
            request_deadline(2.0, "bitrix24.request_deadline", check=False),
            pytest.raises(Bitrix24Error) as caught,
        ):
            auth.refresh(http, "old-access")
        http.close()
    assert elapsed(start) < 3.0
    assert caught.value.code == "TOKEN_REFRESH_FAILED" and "client-s3cret" not in str(caught.value)
    assert "old-refresh" in tokens.read_text()  # the pair on disk is kept
