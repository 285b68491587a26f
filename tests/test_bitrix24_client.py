"""The client against the emulator over HTTP: limits, batch, retries, OAuth, faults, redaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from _bitrix24_helpers import NOW, World, make_request, make_world, statuses

from edo_rules._messages import in_language
from edo_rules.actions.bitrix24 import (
    Bitrix24Error,
    Bitrix24Settings,
    Call,
    ErrorClass,
    LeakyBucket,
    Plan,
    Redactor,
    RetryPolicy,
    WebhookAuth,
    make_client,
)
from edo_rules.actions.bitrix24._query import encode
from edo_rules.actions.bitrix24.client import Bitrix24Client
from edo_rules.emulators.bitrix24 import Fault, PlanLimits
from edo_rules.emulators.bitrix24._php import decode
from edo_rules.model import Firing


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


# -- the bucket and the encoding, on virtual time ---------------------------------------
class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_lets_a_burst_through_then_paces_to_the_rate() -> None:
    time = VirtualTime()
    bucket = LeakyBucket(Plan(50, 2.0), headroom=0, clock=time.clock, sleep=time.sleep)
    for _ in range(50):
        assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.5)
    for _ in range(10):
        bucket.acquire()
    assert time.now == pytest.approx(5.5)  # 11 requests over the capacity at 2 per second


def test_penalize_makes_the_next_request_wait() -> None:
    time = VirtualTime()
    bucket = LeakyBucket(Plan(10, 5.0), headroom=2, clock=time.clock, sleep=time.sleep)
    bucket.acquire()
    bucket.penalize()
    assert bucket.acquire() == pytest.approx(0.2)


def test_room_is_what_goes_out_without_waiting() -> None:
    time = VirtualTime()
    bucket = LeakyBucket(Plan(10, 5.0), headroom=2, clock=time.clock, sleep=time.sleep)
    assert bucket.room() == 8.0  # the headroom is never ours
    for _ in range(8):
        bucket.acquire()
    assert bucket.room() == 0.0
    time.sleep(0.4)
    assert bucket.room() == pytest.approx(2.0)  # drained at 5 a second


def test_bracket_encoding_round_trips_through_the_emulators_decoder() -> None:
    params = {
        "fields": {
            "TITLE": "Счёт & акт",
            "UF_CRM_TASK": ["D_1", "CO_2"],
            "FLAG": True,
            "NONE": None,
        },
        "select": ["ID", "TITLE"],
        "id": 5,
    }
    decoded = decode(encode(params))
    assert decoded == {
        "fields": {"TITLE": "Счёт & акт", "UF_CRM_TASK": ["D_1", "CO_2"], "FLAG": "1", "NONE": ""},
        "select": ["ID", "TITLE"],
        "id": "5",
    }


# -- error mapping (a unit test of the client's mapping, on httpx.MockTransport) ------------
def _mock_client(
    handler: httpx.MockTransport, **retry: float
) -> tuple[Bitrix24Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler.handle_request(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    auth = WebhookAuth("https://portal.example/rest/1/s3cr3tvalue/", Redactor())
    policy = RetryPolicy(backoff=0.0, **retry)  # type: ignore[arg-type]
    return Bitrix24Client(
        auth,
        Redactor(["s3cr3tvalue"]),
        plan=Plan(1000, 1000.0),
        http_client=http,
        retry=policy,
        sleep=lambda s: None,
    ), seen


def _answer(status: int, body: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


def test_codes_decide_not_statuses_and_compare_case_insensitively() -> None:
    client, seen = _mock_client(
        _answer(200, {"error": "Query_Limit_Exceeded", "error_description": "x"}),
        rate_limit_attempts=3,
    )
    with pytest.raises(Bitrix24Error) as caught:
        client.call("user.get")
    assert caught.value.error_class is ErrorClass.RATE_LIMIT and len(seen) == 3


def test_scope_error_names_the_scope_to_add() -> None:
    client, _ = _mock_client(
        _answer(403, {"error": "insufficient_scope", "error_description": "no"})
    )
    with pytest.raises(Bitrix24Error) as caught:
        client.call("tasks.task.add")
    error = caught.value
    assert not error.retryable and error.hint is not None
    assert error.hint.startswith("добавьте право «tasks» входящему вебхуку")
    with in_language("en"):
        assert "add the scope 'tasks' to the incoming webhook" in (error.hint or "")


def test_a_5xx_without_code_is_retried_only_for_idempotent_calls() -> None:
    client, seen = _mock_client(_answer(502, {}), uncertain_attempts=3)
    with pytest.raises(Bitrix24Error) as caught:
        client.call("tasks.task.add", {"fields": {}})
    assert caught.value.error_class is ErrorClass.UNCERTAIN and len(seen) == 1
    with pytest.raises(Bitrix24Error):
        client.call("crm.deal.get", {"id": 1}, idempotent=True)
    assert len(seen) == 4


def test_legacy_crm_error_with_empty_code_is_permanent() -> None:
    client, _ = _mock_client(_answer(400, {"error": "", "error_description": "Not found"}))
    with pytest.raises(Bitrix24Error) as caught:
        client.call("crm.deal.get", {"id": 1})
    assert caught.value.legacy and not caught.value.retryable and "Not found" in str(caught.value)


# -- limits against the emulator -----------------------------------------------
def test_a_burst_never_surfaces_a_503(tmp_path: Path) -> None:
    world = make_world(tmp_path, plan=PlanLimits(capacity=5, rate=20.0))
    try:
        matched = world.client(world.settings(plan={"capacity": 5, "rate": 20}))
        replies = [
            matched.call_many([Call("user.get", {"ID": 1}, idempotent=True)])[0] for _ in range(20)
        ]
        assert all(r.ok for r in replies) and "refused_rate" not in world.emulator.stats()
        optimistic = world.client(world.settings(plan="enterprise"))
        replies = [
            optimistic.call_many([Call("user.get", {"ID": 1}, idempotent=True)])[0]
            for _ in range(20)
        ]
        assert all(r.ok for r in replies)
        assert world.emulator.stats()["refused_rate"] > 0  # the portal refused, the client coped
    finally:
        world.close()


def test_operation_time_limit_blocks_one_method_while_others_go_on(tmp_path: Path) -> None:
    world = make_world(
        tmp_path,
        operating_limit=1.0,
        operating_window=600.0,
        operating_cost={"tasks.task.add": 0.6},
    )
    try:
        world.add_doc("d1")
        task = world.actions()["task"]
        first = task.execute(
            [make_request("task", {"responsible": 5, "title": "t"}, "d1") for _ in range(2)]
        )
        assert statuses(first) == ["done", "done"]  # the call that crosses the limit completes
        [blocked] = task.execute([make_request("task", {"responsible": 5, "title": "t"}, "d1")])
        assert blocked.status.value == "retry" and blocked.retry_after is not None
        assert 500 < blocked.retry_after <= 600
        requests_before = world.emulator.stats()["requests"]
        [still] = task.execute([make_request("task", {"responsible": 5, "title": "t"}, "d1")])
        assert still.status.value == "retry"
        assert world.emulator.stats()["requests"] == requests_before  # paused locally, not sent
        other = world.actions()["notify"].execute(
            [make_request("notify", {"to": 5, "text": "x"}, "d1")]
        )
        assert statuses(other) == ["done"]
    finally:
        world.close()


# -- batch ---------------------------------------------------------------------
def test_call_many_packs_50_per_batch_and_maps_errors_back(world: World) -> None:
    client = world.client()
    calls = [
        Call("crm.deal.get", {"id": world.deal if i % 7 else 999_999}, idempotent=True)
        for i in range(120)
    ]
    before = world.emulator.stats().get("method:batch", 0)
    replies = client.call_many(calls)
    assert world.emulator.stats()["method:batch"] - before == 3
    for i, reply in enumerate(replies):
        if i % 7:
            assert reply.ok and reply.result["ID"] == str(world.deal)
        else:
            assert (
                reply.error is not None
                and reply.error.legacy
                and reply.error.method == "crm.deal.get"
            )


# -- auth ----------------------------------------------------------------------
def test_oauth_refreshes_an_expired_token_and_persists_the_new_pair(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        access, refresh = world.emulator.add_oauth_app(
            "app.1", "app-secret-xyz", user_id=world.director
        )
        token_file = tmp_path / "tokens.json"
        token_file.write_text(json.dumps({"access_token": access, "refresh_token": refresh}))
        settings = Bitrix24Settings.from_mapping(
            {
                "oauth": {
                    "portal_url": world.emulator.url,
                    "server_url": world.emulator.url,
                    "client_id": "app.1",
                    "client_secret": "app-secret-xyz",
                    "token_file": str(token_file),
                }
            },
            where="edo-rules.yaml",
        )
        client = world.client(settings)
        assert client.call("user.get", {"ID": 1}).result[0]["ID"] == "1"
        world.emulator.expire_tokens()
        assert client.call("user.get", {"ID": 1}).result[0]["ID"] == "1"
        saved = json.loads(token_file.read_text())
        assert saved["access_token"] != access and saved["refresh_token"] != refresh
        assert token_file.stat().st_mode & 0o777 == 0o600
        again = world.client(settings)  # a restart reads the new pair
        assert again.call("user.get", {"ID": 1}).ok
        token_file.write_text(json.dumps({"access_token": access, "refresh_token": refresh}))
        world.emulator.expire_tokens()
        with pytest.raises(Bitrix24Error) as caught:
            world.client(settings).call("user.get", {"ID": 1})
        assert caught.value.code == "invalid_grant"
        assert "сервер OAuth отказался обновить токен" in str(caught.value)
        assert "\nЧто сделать: сервер OAuth отклонил токен обновления" in str(caught.value)
    finally:
        world.close()


def test_concurrent_expiry_renews_the_single_use_refresh_token_once(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        access, refresh = world.emulator.add_oauth_app("app.2", "app-secret-abc")
        token_file = tmp_path / "tokens.json"
        token_file.write_text(json.dumps({"access_token": access, "refresh_token": refresh}))
        oauth = {
            "portal_url": world.emulator.url,
            "server_url": world.emulator.url,
            "client_id": "app.2",
            "client_secret": "app-secret-abc",
            "token_file": str(token_file),
        }
        client = world.client(Bitrix24Settings.from_mapping({"oauth": oauth}, where="x.yaml"))
        world.emulator.expire_tokens()
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: client.call("user.get", {"ID": 1}), range(16)))
        assert all(r.ok for r in replies)
    finally:
        world.close()


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("wrong_secret", "INVALID_CREDENTIALS"),
        ("unknown_method", "ERROR_METHOD_NOT_FOUND"),
        ("https", "INVALID_REQUEST"),
    ],
)
def test_permanent_errors_stop_with_what_to_do(tmp_path: Path, setup: str, code: str) -> None:
    world = make_world(tmp_path, https_only=setup == "https")
    try:
        if setup == "wrong_secret":
            world.webhook = world.webhook.replace("/rest/1/", "/rest/1/x")
        client = world.client()
        with pytest.raises(Bitrix24Error) as caught:
            client.call("no.such.method" if setup == "unknown_method" else "user.get")
        error = caught.value
        assert error.code == code and error.error_class is ErrorClass.PERMANENT
        assert error.hint and "\nЧто сделать: " in str(error)
        assert world.emulator.stats()["requests"] == 1  # not retried
    finally:
        world.close()


# -- faults --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["html", "500", "500_nocode"])
def test_faults_are_retried_for_idempotent_calls(world: World, kind: str) -> None:
    world.emulator.inject(Fault(kind))  # type: ignore[arg-type]
    assert world.client().call("user.get", {"ID": 1}, idempotent=True).ok
    world.emulator.inject(Fault(kind, ran=True))  # type: ignore[arg-type]
    with pytest.raises(Bitrix24Error) as caught:
        world.client().call("im.notify.personal.add", {"USER_ID": 1, "MESSAGE": "x"})
    assert caught.value.error_class is ErrorClass.UNCERTAIN
    assert str(caught.value).endswith("; вызов мог выполниться")


def test_a_timeout_is_uncertain(world: World) -> None:
    world.emulator.inject(Fault("timeout", delay=0.6))
    settings = world.settings(timeout=0.2)
    with pytest.raises(Bitrix24Error) as caught:
        world.client(settings).call(
            "tasks.task.add", {"fields": {"TITLE": "t", "RESPONSIBLE_ID": 1}}
        )
    assert caught.value.error_class is ErrorClass.UNCERTAIN


def test_a_domain_move_is_permanent_and_names_the_new_host(world: World) -> None:
    world.emulator.inject(Fault("redirect", location="https://moved.bitrix24.ru"))
    with pytest.raises(Bitrix24Error) as caught:
        world.client().call("user.get")
    assert caught.value.code == "PORTAL_MOVED" and "https://moved.bitrix24.ru" in str(caught.value)


# -- secrets -------------------------------------------------------------------
def test_no_secret_in_logs_errors_outcomes_or_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = make_world(
        tmp_path, operating_limit=0.5, operating_cost={"crm.timeline.comment.add": 1.0}
    )
    secret = world.webhook.rstrip("/").rsplit("/", 1)[-1]
    texts: list[str] = []
    try:
        world.add_doc("d1")
        for fault in (
            Fault("redirect", location="https://moved.example"),
            Fault("html"),
            Fault("500", ran=True),
        ):
            world.emulator.inject(fault)
            try:
                world.client().call("user.get", {"ID": 1})
            except Bitrix24Error as exc:
                texts += [str(exc), repr(exc), repr(exc.args)]
        actions = world.actions()
        requests = [make_request("comment", {"text": "x"}, "d1") for _ in range(3)]
        requests.append(make_request("task", {"responsible": 9999, "title": "x"}, "d1"))
        firing = Firing("pb/rule", "d1", "do", "e1", NOW, NOW, "hash")
        world.store.record_firings([(firing, [replace(r, id=None) for r in requests])])
        claimed = world.store.claim_requests(NOW, 10)
        outcomes = actions["comment"].execute(claimed[:3]) + actions["task"].execute(claimed[3:])
        world.store.record_outcomes(outcomes)
        texts += [o.reason or "" for o in outcomes] + [repr(actions), repr(world.settings())]
        texts.append(str(httpx.get(world.webhook.replace(secret, "nope") + "user.get").json()))
    finally:
        world.close()
    assert {o.status.value for o in outcomes} >= {"done", "retry", "failed"}
    assert secret in world.webhook and len(secret) >= 8
    everything = (
        "\n".join(texts) + caplog.text + (tmp_path / "store.db").read_bytes().decode("latin-1")
    )
    assert secret not in everything
    assert "/rest/1/***" in caplog.text  # httpx logged the URLs, masked


def test_settings_and_client_reprs_hide_the_secret(world: World) -> None:
    settings = world.settings()
    secret = world.webhook.rstrip("/").rsplit("/", 1)[-1]
    with make_client(settings) as client:
        assert secret not in repr(settings) and secret not in repr(client)
