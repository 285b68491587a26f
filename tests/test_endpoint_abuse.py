"""The HTTP endpoint stays up under abuse: idle and dripping connections, floods, big or
malformed requests, and (open on loopback) other sites and rebound host names."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from edo_rules.runner.metrics import Metrics
from edo_rules.web import Control, Endpoint, WebServer, build_app
from edo_rules.web._guard import ServerLimits, loopback_problem

TOKEN = "a-long-enough-token-123"


class _Ticks:
    count = 0

    def trigger(self, wait: bool, timeout: float) -> dict[str, Any] | None:
        self.count += 1
        return {"ok": True} if wait else None


def _serve(
    *, token: str | None, guard: bool, limits: ServerLimits | None = None
) -> tuple[WebServer, _Ticks]:
    ticks = _Ticks()
    control = Control(
        trigger=ticks.trigger,
        health=lambda: (True, {"status": "ok", "ticks": ticks.count, "last_tick": {"errors": []}}),
        metrics=Metrics(),
        token=token,
    )
    server = WebServer(
        build_app(control), Endpoint("127.0.0.1", 0), guard_loopback=guard, limits=limits
    )
    server.start()
    return server, ticks


@pytest.fixture
def guarded() -> Iterator[tuple[str, _Ticks]]:
    """An open endpoint on loopback (no token), with short limits for the tests."""
    limits = ServerLimits(request_timeout=0.6, keep_alive=1, max_connections=20, max_body=1000)
    server, ticks = _serve(token=None, guard=True, limits=limits)
    yield server.url, ticks
    server.stop()


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=5)
    return conn


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``conn`` within ``seconds`` (reading what it sends)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        conn.settimeout(left)
        try:
            if conn.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except OSError:  # reset by the server
            return True
    return False


def _raw(url: str, request: bytes) -> bytes:
    with _connect(url) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def test_a_connection_that_sends_nothing_is_closed(guarded: tuple[str, _Ticks]) -> None:
    url, _ = guarded
    with _connect(url) as conn:
        start = time.monotonic()
        assert _closed_within(conn, 3.0)
        assert time.monotonic() - start < 2.0


def test_a_request_head_dripped_byte_by_byte_is_cut(guarded: tuple[str, _Ticks]) -> None:
    url, _ = guarded
    with _connect(url) as conn:
        start = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)
            if time.monotonic() - start > 3.0:
                break
        closed = closed or _closed_within(conn, 0.5)
    assert closed and time.monotonic() - start < 2.5


def test_a_flood_of_idle_connections_leaves_room_for_healthz(
    guarded: tuple[str, _Ticks],
) -> None:
    url, _ = guarded
    idle = [_connect(url) for _ in range(60)]  # three times the cap of 20
    try:
        time.sleep(0.2)
        reply = httpx.get(f"{url}/healthz", timeout=5)
        # No token configured (loopback only): the details are shown.
        assert reply.status_code == 200 and reply.json()["status"] == "ok"
        # The oldest idle connections were closed to make room.
        assert sum(_closed_within(conn, 0.05) for conn in idle[:30]) >= 25
    finally:
        for conn in idle:
            conn.close()


def test_a_large_body_is_refused_with_413(guarded: tuple[str, _Ticks]) -> None:
    url, ticks = guarded
    reply = httpx.post(f"{url}/sync", content=b"x" * 5000)
    assert reply.status_code == 413 and ticks.count == 0


def test_a_streamed_body_is_counted_as_it_comes() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        return Response(str(len(await request.body())))

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    server = WebServer(app, Endpoint("127.0.0.1", 0), limits=ServerLimits(max_body=1000))
    server.start()

    def chunks(count: int) -> Iterator[bytes]:
        yield from (b"y" * 400 for _ in range(count))  # no Content-Length: chunked

    try:
        assert httpx.post(f"{server.url}/echo", content=chunks(2)).text == "800"
        assert httpx.post(f"{server.url}/echo", content=chunks(5)).status_code == 413
    finally:
        server.stop()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12<script>\r\n\r\n",
        b"POST /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
        b"GET /\xff\xfe<script>alert(1)</script> HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        # Past the 16 KB head limit, never finished.
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 20_000,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03<script>\r\n\r\n",
    ],
    ids=["content-length-text", "content-length-negative", "non-ascii-path", "huge-head", "tls"],
)
def test_a_malformed_request_is_a_400_through_the_logger(
    guarded: tuple[str, _Ticks],
    request_bytes: bytes,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, ticks = guarded
    answer = _raw(url, request_bytes)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"<script>" not in answer and b"\xff" not in answer
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "<script>" not in out + err
    assert all("<script>" not in record.getMessage() for record in caplog.records)
    assert any(record.levelname == "WARNING" for record in caplog.records)
    assert ticks.count == 0


def test_other_sites_and_rebound_host_names_are_refused(guarded: tuple[str, _Ticks]) -> None:
    url, ticks = guarded
    evil = {"Origin": "http://evil.example"}
    assert httpx.post(f"{url}/sync", headers=evil).status_code == 403
    assert httpx.post(f"{url}/sync", headers={"Origin": "null"}).status_code == 403
    cross = {"Sec-Fetch-Site": "cross-site"}
    assert httpx.get(f"{url}/metrics", headers=cross).status_code == 403
    rebound = {"Host": f"evil.example:{url.rsplit(':', 1)[1]}"}
    assert httpx.get(f"{url}/metrics", headers=rebound).status_code == 403
    assert ticks.count == 0
    # The endpoint's own pages (same origin) and tools without a browser still work.
    own = {"Origin": url}
    assert httpx.post(f"{url}/sync", headers=own).status_code == 202
    assert httpx.post(f"{url}/sync").status_code == 202
    local = {"Host": f"localhost:{url.rsplit(':', 1)[1]}"}
    assert httpx.get(f"{url}/metrics", headers=local).status_code == 200
    assert ticks.count == 2


def test_loopback_problem_names_what_is_wrong_escaped() -> None:
    assert loopback_problem("127.0.0.1:8080", None) is None
    assert loopback_problem("[::1]:8080", "http://[::1]:8080") is None
    assert loopback_problem("LOCALHOST:8080", "http://localhost:8080") is None
    assert loopback_problem("localhost", None) is None
    problem = loopback_problem("evil.example\r\nX: y", None)
    assert problem is not None and "\r\n" not in problem and "DNS rebinding" in problem
    problem = loopback_problem("127.0.0.1:8080", "http://127.0.0.1:8081")
    assert problem is not None and "another site" in problem
    # A browser posting the dashboard's own form under Referrer-Policy: no-referrer.
    assert loopback_problem("127.0.0.1:8080", "null", "same-origin") is None
    assert loopback_problem("127.0.0.1:8080", None, "none") is None  # an address typed in
    assert loopback_problem("127.0.0.1:8080", "null", None) is not None
    assert loopback_problem("127.0.0.1:8080", "null", "cross-site") is not None
    # Another local app (localhost:3000) is "same-site", not the same origin.
    assert loopback_problem("127.0.0.1:8080", None, "same-site") is not None


def test_healthz_without_the_token_says_only_up_or_down() -> None:
    server, _ = _serve(token=TOKEN, guard=False)
    try:
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert "last_tick" in httpx.get(f"{server.url}/healthz", headers=auth).json()
    finally:
        server.stop()


def test_a_slow_answer_is_not_cut_by_the_request_timeout() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    def slow(request: Request) -> Response:
        time.sleep(1.0)  # longer than the request timeout: the request itself came in time
        return Response("done")

    app = Starlette(routes=[Route("/slow", slow)])
    limits = ServerLimits(request_timeout=0.4, keep_alive=5)
    server = WebServer(app, Endpoint("127.0.0.1", 0), limits=limits)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            assert client.get("/slow").text == "done"
            assert client.get("/slow").text == "done"  # the same kept-alive connection
    finally:
        server.stop()
