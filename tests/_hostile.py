"""A small hostile HTTP server on 127.0.0.1 for the bounds tests (raw sockets, no framework).

Behaviours (``HostileServer(mode)``):

* ``endless`` — a 200 with a JSON page that never ends (no length, closed never);
* ``drip`` — a 200 whose body arrives one byte every ``every`` seconds, for ever;
* ``stall`` — reads the request, then sends its status line and drips header
  bytes one every ``every`` seconds, never finishing the headers;
* ``silent`` — reads the request and sends nothing at all.

Each connection is served in its own daemon thread until the client goes
away or the server stops; ``served`` counts the requests read.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

_PAGE_HEAD = b'{"value": ['
_ROW = b'{"Ref_Key": "00000000-0000-0000-0000-000000000000", "Description": "x"},'


class HostileServer:
    def __init__(self, mode: str, *, every: float = 0.4) -> None:
        self.mode = mode
        self.every = every
        self.served = 0
        self.sent_bytes = 0
        self._stop = threading.Event()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                _read_request(conn)
                with self._lock:
                    self.served += 1
                getattr(self, f"_{self.mode}")(conn)
            except OSError:  # the client gave up: what the tests want
                return

    def _send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.sent_bytes += len(data)

    def _endless(self, conn: socket.socket) -> None:
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + _PAGE_HEAD)
        block = _ROW * 512
        while not self._stop.is_set():
            self._send(conn, block)

    def _drip(self, conn: socket.socket) -> None:
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        body = _PAGE_HEAD + _ROW * 1000
        for index in range(len(body)):
            if self._stop.wait(self.every):
                return
            self._send(conn, body[index : index + 1])

    def _stall(self, conn: socket.socket) -> None:
        self._send(conn, b"HTTP/1.1 200 OK\r\n")
        header = b"X-Slow: " + b"a" * 100_000
        for index in range(len(header)):
            if self._stop.wait(self.every):
                return
            self._send(conn, header[index : index + 1])

    def _silent(self, conn: socket.socket) -> None:
        self._stop.wait(3600)


def _read_request(conn: socket.socket) -> None:
    """Read the request head (and a body of the given length) so the client is not refused."""
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionResetError
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        rest += conn.recv(65536)
    conn.settimeout(None)


def elapsed(start: float) -> float:
    return time.monotonic() - start
