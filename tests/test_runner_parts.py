"""The runner's small parts: the store lock, schedules, metrics, logging, the HTTP endpoint."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from edo_rules._messages import in_language
from edo_rules.errors import EdoRulesError, LockError
from edo_rules.runner.lock import StoreLock, read_holder
from edo_rules.runner.logs import remove_logging, setup_logging
from edo_rules.runner.metrics import Metrics
from edo_rules.runner.schedule import CronSchedule, IntervalSchedule, ScheduleError
from edo_rules.web import Control, Endpoint, WebServer, build_app
from edo_rules.web._wiring import check_exposure

MSK = ZoneInfo("Europe/Moscow")

# -- the lock ---------------------------------------------------------------------------

_HOLD = """
import sys, time
from pathlib import Path
from edo_rules.runner.lock import StoreLock
lock = StoreLock(Path(sys.argv[1]), command="run --config test.yaml")
lock.acquire()
print("locked", flush=True)
sys.stdin.readline()
"""


def test_a_second_holder_is_refused_with_the_holders_name(tmp_path: Path) -> None:
    store = tmp_path / "edo.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockError) as caught:
            StoreLock(store).acquire()
        message = str(caught.value)
        assert f"занято другой службой edo-rules: процесс {holder.pid} на " in message
        assert "(run --config test.yaml) с " in message and "сначала остановите ту" in message
        with in_language("en"):  # the log's text
            english = str(caught.value)
        assert f"pid {holder.pid} on " in english and "stop that runner first" in english
        assert caught.value.message_key == "lock_busy"
        found = read_holder(store)
        assert found is not None and found.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()
    # The kernel released the lock of the killed process: a new runner gets it.
    with StoreLock(store) as lock:
        assert lock.path.exists()
    assert read_holder(store) is None


def test_the_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    first = StoreLock(tmp_path / "edo.db")
    first.acquire()
    try:
        with pytest.raises(LockError):
            StoreLock(tmp_path / "edo.db").acquire()
    finally:
        first.release()
    StoreLock(tmp_path / "edo.db").acquire()


# -- schedules --------------------------------------------------------------------------


def test_interval_schedule_counts_from_the_end_of_the_tick() -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=MSK)
    assert IntervalSchedule(300).next_after(start) == datetime(2026, 3, 2, 10, 5, tzinfo=MSK)
    with pytest.raises(ScheduleError):
        IntervalSchedule(0)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/5 * * * *", (2026, 3, 2, 10, 3), (2026, 3, 2, 10, 5)),
        ("*/5 8-20 * * 1-5", (2026, 3, 6, 20, 58), (2026, 3, 9, 8, 0)),  # Fri → Mon
        ("0 9 * * 0", (2026, 3, 2, 10, 0), (2026, 3, 8, 9, 0)),  # Sunday as 0
        ("0 9 * * 7", (2026, 3, 2, 10, 0), (2026, 3, 8, 9, 0)),  # and as 7
        ("30 6 1 * 1", (2026, 3, 2, 10, 0), (2026, 3, 9, 6, 30)),  # day OR weekday
        ("0 0 29 2 *", (2026, 3, 1, 0, 0), (2028, 2, 29, 0, 0)),
        ("15,45 10 * * *", (2026, 3, 2, 10, 15), (2026, 3, 2, 10, 45)),
    ],
)
def test_cron_schedule(expression: str, after: tuple[int, ...], expected: tuple[int, ...]) -> None:
    schedule = CronSchedule.parse(expression, MSK)
    assert schedule.next_after(datetime(*after, tzinfo=MSK)) == datetime(*expected, tzinfo=MSK)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "в выражении cron '* * * *' полей: 4, а нужно 5 (минута, час, день месяца,"),
        ("61 * * * *", "cron, поле «минута»: '61' вне диапазона 0-59"),
        ("* * * * mon", "cron, поле «день недели»: в 'mon' значение 'mon' — не число"),
        ("*/0 * * * *", "cron, поле «минута»: '*/0' вне диапазона 0-59"),
        ("0 0 31 2 *", "выражение cron '0 0 31 2 *' не совпадает ни с одной реальной датой"),
    ],
)
def test_bad_cron_expressions_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        CronSchedule.parse(expression, MSK).next_after(datetime(2026, 1, 1, tzinfo=MSK))
    assert str(caught.value).startswith(message)


def test_a_bad_cron_expression_in_english() -> None:
    with pytest.raises(ScheduleError) as caught:
        CronSchedule.parse("61 * * * *", MSK)
    with in_language("en"):
        assert str(caught.value) == "cron minute field '61' is out of range 0-59"


# -- metrics ----------------------------------------------------------------------------


def test_metrics_render_in_prometheus_text_format() -> None:
    metrics = Metrics()
    metrics.inc("edo_rules_actions_total", action="notify", outcome="done")
    metrics.inc("edo_rules_actions_total", 2, action="task", outcome='we"ird')
    metrics.set("edo_rules_outbox_lag_seconds", 1.5)
    metrics.set_callback("edo_rules_documents", lambda: 300)
    text = metrics.render()
    assert "# TYPE edo_rules_actions_total counter" in text
    assert 'edo_rules_actions_total{action="notify",outcome="done"} 1' in text
    assert 'edo_rules_actions_total{action="task",outcome="we\\"ird"} 2' in text
    assert "edo_rules_outbox_lag_seconds 1.5" in text
    assert "edo_rules_documents 300" in text
    # Known label values are shown before their first tick.
    assert 'edo_rules_ticks_total{result="error"} 0' in text


# -- logging ----------------------------------------------------------------------------


def test_json_logs_carry_the_fields_and_never_a_secret() -> None:
    stream = io.StringIO()
    handler = setup_logging(fmt="json", secrets=["s3cr3t-webhook"], stream=stream)
    log = logging.getLogger("edo_rules.dispatch")
    extra = {"rule": "pb/remind", "document": "doc-1", "key": "notify:doc-1:do"}
    log.warning("POST https://portal/rest/1/s3cr3t-webhook/im.notify failed", extra=extra)
    try:
        raise RuntimeError("token s3cr3t-webhook leaked into an exception")
    except RuntimeError:
        log.exception("boom")
    remove_logging(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["rule"] == "pb/remind" and lines[0]["key"] == "notify:doc-1:do"
    assert lines[0]["message"] == "POST https://portal/rest/1/***/im.notify failed"
    assert "s3cr3t-webhook" not in stream.getvalue()
    assert "***" in lines[1]["exception"]


def test_text_logs_are_readable() -> None:
    stream = io.StringIO()
    handler = setup_logging(fmt="text", stream=stream)
    logging.getLogger("edo_rules.dispatch").info("action notify done", extra={"rule": "pb/r"})
    remove_logging(handler)
    assert stream.getvalue().rstrip().endswith("INFO  action notify done  rule=pb/r")


# -- the HTTP endpoint ------------------------------------------------------------------


class _Ticks:
    def __init__(self) -> None:
        self.count = 0
        self.ran = threading.Event()

    def trigger(self, wait: bool, timeout: float) -> dict[str, Any] | None:
        self.count += 1
        self.ran.set()
        return {"ok": True, "fired": 3} if wait else None

    def health(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ok", "ticks": self.count}


@pytest.fixture
def endpoint() -> Any:
    ticks = _Ticks()
    metrics = Metrics()
    metrics.inc("edo_rules_ticks_total", result="ok")
    control = Control(
        trigger=ticks.trigger,
        health=ticks.health,
        metrics=metrics,
        token="a-long-enough-token-123",
    )
    server = WebServer(build_app(control), Endpoint("127.0.0.1", 0))
    server.start()
    host, port = server.address
    yield f"http://{host}:{port}", ticks
    server.stop()


def test_sync_needs_the_token_and_triggers_a_tick(endpoint: Any) -> None:
    base, ticks = endpoint
    assert httpx.post(f"{base}/sync").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.post(f"{base}/sync", headers=wrong).status_code == 401
    auth = {"Authorization": "Bearer a-long-enough-token-123"}
    reply = httpx.post(f"{base}/sync", headers=auth)
    assert reply.status_code == 202 and reply.json() == {"queued": True}
    waited = httpx.post(f"{base}/sync?wait=1", headers=auth)
    assert waited.status_code == 200 and waited.json()["fired"] == 3
    assert ticks.count == 2


def test_health_is_open_and_metrics_need_the_token(endpoint: Any) -> None:
    base, _ = endpoint
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}  # up/down only
    assert httpx.get(f"{base}/metrics").status_code == 401
    auth = {"Authorization": "Bearer a-long-enough-token-123"}
    assert httpx.get(f"{base}/healthz", headers=auth).json() == {"status": "ok", "ticks": 0}
    wrong = {"Authorization": "Bearer a-wrong-token-of-length"}
    assert httpx.get(f"{base}/healthz", headers=wrong).json() == {"status": "ok"}
    reply = httpx.get(f"{base}/metrics", headers=auth)
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'edo_rules_ticks_total{result="ok"} 1' in reply.text
    assert httpx.get(f"{base}/nope").status_code == 404
    assert httpx.get(f"{base}/sync").status_code == 405


def test_the_endpoint_refuses_a_public_address_without_a_token() -> None:
    with pytest.raises(EdoRulesError, match="without a token"):
        check_exposure(Endpoint.parse("0.0.0.0:8080"), None)
    check_exposure(Endpoint.parse("127.0.0.1:8080"), None)
    with pytest.raises(EdoRulesError, match="expected HOST:PORT"):
        Endpoint.parse("localhost")
    assert Endpoint.parse("[::1]:8080") == Endpoint("::1", 8080)


def test_an_unwritable_store_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", "utf-8")
    refused = r"не удалось создать файл блокировки .* нужны права на запись"
    with pytest.raises(LockError, match=refused):
        StoreLock(blocker / "edo.db").acquire()  # a file where the folder should be
