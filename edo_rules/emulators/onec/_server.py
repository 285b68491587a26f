"""The emulator's HTTP server: ``/<base>/odata/standard.odata/`` on 127.0.0.1."""

from __future__ import annotations

import base64
import binascii
import collections
import re
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from edo_rules.emulators.onec import _atompub, _edm, _navigation, _render
from edo_rules.emulators.onec._base import OneCBase
from edo_rules.emulators.onec._conduct import KEY_RANGE, Conduct
from edo_rules.emulators.onec._errors import ODataError, not_found_segment, parse_error
from edo_rules.emulators.onec._faults import Fault, Faults
from edo_rules.emulators.onec._query import Query, parse_query, split_query

_TEXT_FIELD = re.compile('"(?:Description|НомерДокумента|Комментарий|Number)": "'.encode())
#: ``Set``, ``Set/$count``, ``Set(guid'…')`` and ``Set(guid'…')/Navigation``.
_PATH = re.compile(
    r"^(?P<set>[^(/]+)(?:\(guid'(?P<key>[0-9a-fA-F-]{36})'\))?(?:/(?P<tail>[^/]+))?$"
)
_SINGLE_EXPAND = "Опция $expand не поддерживается при запросе одиночных сущностей"


class OneCEmulator:
    """A running emulated 1C publication; use as a context manager or start()/stop().

    ``publication`` is the name the base is published under (the first path
    segment); ``faults`` are the knobs to make it misbehave.
    """

    def __init__(
        self,
        base: OneCBase | None = None,
        *,
        publication: str = "buh",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        conduct: Conduct | None = None,
    ):
        self.base = base or OneCBase()
        #: The behaviours public sources leave open (see :class:`Conduct`).
        self.conduct = conduct or Conduct()
        self.publication = publication
        #: The longest query string the web server accepts (IIS ``maxQueryString`` default).
        self.max_query = 2048
        self.faults = faults or Faults()
        self.requests: collections.deque[str] = collections.deque(maxlen=10000)
        self.stopping = threading.Event()
        self._first_done = False
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.emulator = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def service_url(self) -> str:
        return f"{self.url}/{self.publication}/odata/standard.odata/"

    def start(self) -> OneCEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="onec-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (or Ctrl-C)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def inject(self, fault: Fault) -> Fault:
        """Add a fault (see :class:`Fault`); returns it so a test can check ``hits``."""
        return self.faults.add(fault)

    def __enter__(self) -> OneCEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def first_request(self) -> bool:
        """True once: the first data request pays the cold-start delay."""
        if self._first_done:
            return False
        self._first_done = True
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the body waits
    # for the client's delayed ACK (40 ms a request on Linux loopback).
    disable_nagle_algorithm = True
    server_version = "Apache/2.4 1C-Enterprise-emulator"

    @property
    def emulator(self) -> OneCEmulator:
        return self.server.emulator  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is kept in ``OneCEmulator.requests``."""

    def do_GET(self) -> None:
        self.emulator.requests.append(self.path)
        parts = urlsplit(self.path)
        if len(parts.query) > self.emulator.max_query:
            # IIS rejects a long query string before 1C sees it (404.15).
            self._send(404, b"<html><body>HTTP Error 404.15 - Not Found</body></html>", "text/html")
            return
        raw_options = split_query(parts.query)
        as_json = raw_options.get("$format", "").lower() in ("json", "application/json")
        if self.emulator.conduct.accept_json and "$format" not in raw_options:
            as_json = "application/json" in self.headers.get("Accept", "")
        KEY_RANGE.set(self.emulator.conduct.key_range == "compare")
        try:
            self._dispatch(unquote(parts.path), parts.query, as_json)
        except ODataError as error:
            self._error(error, as_json)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout): nothing to answer

    def _dispatch(self, path: str, raw_query: str, as_json: bool) -> None:
        prefix = f"/{self.emulator.publication}/odata/standard.odata/"
        if not path.startswith(prefix):
            self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
            return
        if not self._authorized():
            return
        rest = path[len(prefix) :]
        if rest == "$metadata" and self._fault(rest, Query()):
            return  # a cold server is slow on its first request, whichever it is
        if rest in ("", "$metadata"):
            self._service(rest, as_json)
            return
        match = _PATH.match(rest)
        name = match.group("set") if match else rest
        query = parse_query(raw_query)
        if self._fault(name, query):
            return
        key, tail = (match.group("key"), match.group("tail")) if match else (None, None)
        if key is not None:
            self._entity(name, key.lower(), tail, query, as_json)
        elif tail == "$count":
            self._count(name, query)
        elif tail is not None:
            raise not_found_segment(tail)
        else:
            self._collection(name, query, as_json)

    def _collection(self, name: str, query: Query, as_json: bool) -> None:
        base = self.emulator.base
        entity_set = base.entity_set(name)
        if query.expand and self.emulator.conduct.expand != "expand":
            if self.emulator.conduct.expand == "refuse":
                raise parse_error("параметр запроса '$expand' не поддерживается")
            query = replace(query, expand=())
        _navigation.check(entity_set, query)
        shape = None
        if _navigation.needs_shape(entity_set, query):
            shape = _navigation.Shaper(base, entity_set, query)
        rows, count = base.query(name, self._quirks(name, query), self._login, shape)
        self._rows(name, rows, count, as_json)

    def _count(self, name: str, query: Query) -> None:
        """``Set/$count``: the size of the (filtered) collection as a bare number."""
        whole = replace(self._quirks(name, query), top=None, skip=0, inlinecount=True)
        _, count = self.emulator.base.query(name, whole, self._login)
        self._send(200, str(count or 0).encode("ascii"), "text/plain;charset=utf-8")

    # -- auth ----------------------------------------------------------------
    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        login = password = None
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
                login, _, password = decoded.partition(":")
            except (binascii.Error, UnicodeDecodeError):
                login = None
        if login is None or not self.emulator.base.check_login(login, password or ""):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="1C:Enterprise"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        self._login = login
        return True

    # -- answers ---------------------------------------------------------------
    def _service(self, rest: str, as_json: bool) -> None:
        base = self.emulator.base
        names = sorted(base.published & set(base.sets))
        if rest == "$metadata":
            published = {name: base.sets[name] for name in names}
            self._send(200, _edm.metadata(published), "application/xml")
            return
        service = self.emulator.service_url
        if as_json:
            self._send(200, _atompub.service_json(service, names), "application/json")
        else:
            document = _atompub.service_document(service, names)
            self._send(200, document, "application/atomsvc+xml;charset=utf-8")

    def _entity(self, name: str, key: str, nav: str | None, query: Query, as_json: bool) -> None:
        if query.expand:
            raise ODataError(400, "21", _SINGLE_EXPAND)
        base = self.emulator.base
        if nav is not None:
            name, row = _navigation.navigate(base, name, key, nav)
        else:
            entity_set = base.entity_set(name)
            row = entity_set._project(base.entity(name, key), query.select)
        url = f"{self.emulator.service_url}$metadata#{name}/@Element"
        if as_json:
            self._send(200, _render.json_body({"odata.metadata": url, **row}), "application/json")
        else:
            self._send(
                200,
                _render.atom_feed(self.emulator.service_url, name, [row]),
                "application/atom+xml",
            )

    def _rows(
        self, name: str, rows: list[dict[str, Any]], count: int | None, as_json: bool
    ) -> None:
        service = self.emulator.service_url
        if not as_json:
            self._send(200, _render.atom_feed(service, name, rows), "application/atom+xml")
            return
        body = _render.envelope(service, name, rows, count)
        fault = getattr(self, "_body_fault", None)
        if fault is not None:
            body = _corrupt(fault, body)
        self._send(200, body, "application/json;charset=utf-8")

    def _error(self, error: ODataError, as_json: bool) -> None:
        if as_json:
            self._send(error.status, _render.json_error(error), "application/json;charset=utf-8")
        else:
            self._send(error.status, _render.xml_error(error), "application/xml;charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # -- faults ------------------------------------------------------------------
    def _fault(self, name: str, query: Query) -> bool:
        """Apply the fault knobs; True when the answer has been sent already."""
        emulator = self.emulator
        if name not in emulator.base.published and name != "$metadata":
            raise not_found_segment(name)
        delay = emulator.faults.first_request_delay
        if delay and emulator.first_request():
            emulator.stopping.wait(delay)
        if emulator.faults.latency:
            emulator.stopping.wait(emulator.faults.latency)
        _, fault = emulator.faults.next_request(name, query.skip)
        self._body_fault: Fault | None = None
        if fault is None:
            return False
        return self._apply(fault)

    def _quirks(self, name: str, query: Query) -> Query:
        faults = self.emulator.faults
        if name in faults.ignore_filter:
            query = replace(query, filter=None)
        if name in faults.ignore_top:
            query = replace(query, top=None)
        return query

    def _apply(self, fault: Fault) -> bool:
        if fault.kind == "status500":
            self._error(ODataError(500, "-1", "Внутренняя ошибка сервера 1С:Предприятия"), True)
        elif fault.kind == "status503":
            self._send(503, b"<html><body>503 Service Unavailable</body></html>", "text/html")
        elif fault.kind == "html":
            self._send(500, _render.html_error("Недостаточно памяти"), "text/html; charset=utf-8")
        elif fault.kind == "hang":
            self.emulator.stopping.wait(self.emulator.faults.hang_seconds)
            return False
        else:
            self._body_fault = fault
            return False
        return True


def _corrupt(fault: Fault, body: bytes) -> bytes:
    if fault.kind == "truncated":
        return body[: max(1, len(body) // 2)]
    if fault.kind == "malformed":
        return b'{"odata.metadata": "x", "value": [{"Ref_Key": ' + body[-40:]
    if fault.kind == "control_char":
        # 1C writes some control characters unescaped: the body is no longer strict JSON.
        found = _TEXT_FIELD.search(body, max(0, body.find(b'"value": [')))
        return body if found is None else body[: found.end()] + b"\x01" + body[found.end() :]
    return fault.body
