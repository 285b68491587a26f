"""The OData client: URLs, credentials, and every 1C error shape turned into one SourceError."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from edo_rules.errors import SourceError
from edo_rules.sources.onec import (
    ODataClient,
    OneCSettings,
    PageRequest,
    basic_auth,
    parse_error_body,
    parse_page,
)

STATES = "InformationRegister_СостоянияДокументовЭДО"
SETTINGS = OneCSettings(
    url="http://1c.local",
    base="buh",
    user="Администратор",
    password="тайна-7Zq",
    retries=2,
    backoff=0.0,
)


def _client(handler: Callable[[httpx.Request], httpx.Response], **changes: object) -> ODataClient:
    from dataclasses import replace

    settings = replace(SETTINGS, **changes)  # type: ignore[arg-type]
    return ODataClient(settings, transport=httpx.MockTransport(handler), sleep=lambda _: None)


def _answer(
    status: int, body: object, content_type: str = "application/json"
) -> Callable[[httpx.Request], httpx.Response]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return lambda request: httpx.Response(
        status, content=raw, headers={"Content-Type": content_type}
    )


def _error(status: int, body: object, **changes: object) -> SourceError:
    client = _client(_answer(status, body), **changes)
    with pytest.raises(SourceError) as caught:
        client.fetch(PageRequest(STATES, ("Состояние",), top=10))
    return caught.value


def test_the_url_uses_percent_20_and_encodes_cyrillic() -> None:
    client = _client(_answer(200, {"value": []}))
    url = client.url(
        PageRequest(
            STATES,
            ("ЭлектронныйДокумент", "Состояние"),
            filter="ДатаИзменения ge datetime'2026-11-27T10:00:00'",
            orderby="ДатаИзменения asc",
            top=100,
            skip=200,
        )
    )
    assert url.startswith("http://1c.local/buh/odata/standard.odata/InformationRegister_%D0%A1")
    assert "+" not in url and " " not in url and "%20ge%20datetime'2026-11-27T10:00:00'" in url
    assert "$format=json" in url and "$top=100" in url and "$skip=200" in url
    assert url.endswith("allowedOnly=true")
    assert all(ord(ch) < 128 for ch in url)


def test_basic_auth_is_built_from_utf8_bytes() -> None:
    header = basic_auth("Администратор", "тайна-7Zq")
    assert base64.b64decode(header.split()[1]).decode("utf-8") == "Администратор:тайна-7Zq"
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"value": [{"Состояние": "ОбменЗавершен"}]})

    rows, _ = _client(handler).fetch(PageRequest(STATES, ("Состояние",)))
    assert rows == [{"Состояние": "ОбменЗавершен"}] and seen == [header]


def test_an_unpublished_set_names_the_set_and_how_to_publish_it() -> None:
    body = {
        "odata.error": {
            "code": "6",
            "message": {"lang": "ru", "value": f"Сегмент пути '{STATES}' не найден"},
        }
    }
    error = _error(404, body)
    assert error.code == "6" and not error.retryable
    assert STATES in str(error) and "Настройка стандартного интерфейса OData" in str(error)
    assert "Регистр сведений «СостоянияДокументовЭДО»" in (error.hint or "")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (403, "20", "оставьте allowed_only: true"),
        (400, "14", "сообщите о ней, приложив запрос"),
        (400, "21", "обновите платформу"),
        (404, "9", "следующая синхронизация это исправит"),
    ],
)
def test_1c_codes_get_a_hint(status: int, code: str, expected: str) -> None:
    body = {"odata.error": {"code": code, "message": {"lang": "ru", "value": "Сообщение 1С"}}}
    error = _error(status, body)
    assert error.code == code and "Сообщение 1С" in str(error) and expected in (error.hint or "")
    assert not error.retryable


def test_a_401_says_to_check_the_login_and_never_shows_the_password() -> None:
    error = _error(401, b"")
    assert "1С ответила HTTP 401" in str(error)
    assert "проверьте user и password в разделе onec" in (error.hint or "")
    assert "тайна-7Zq" not in str(error)


def test_xml_html_and_exception_chain_bodies_are_read_for_their_message() -> None:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><m:error xmlns:m="x"><m:code>6</m:code>'
        '<m:message xml:lang="ru">Сегмент пути не найден</m:message></m:error>'
    ).encode()
    assert parse_error_body(xml) == ("6", "Сегмент пути не найден")
    page = (
        "<html><body><h1>Ошибка при выполнении операции</h1>"
        "<p>по причине:<br>Нет места</p></body></html>"
    )
    assert parse_error_body(page.encode()) == (
        None,
        "Ошибка при выполнении операции по причине: Нет места",
    )
    chain = {
        "exception": {
            "descr": "Ошибка при выполнении запроса",
            "inner": {"descr": "Нельзя сравнивать"},
        }
    }
    assert parse_error_body(json.dumps(chain).encode()) == (
        None,
        "Ошибка при выполнении запроса: Нельзя сравнивать",
    )
    assert parse_error_body(b"") == (None, None)
    error = _error(500, page.encode())
    assert error.retryable and "Нет места" in str(error)


def test_5xx_is_retried_with_half_the_page_then_reported() -> None:
    tops: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tops.append(request.url.params["$top"])
        return httpx.Response(503, content=b"<html>busy</html>")

    with pytest.raises(SourceError) as caught:
        _client(handler).fetch(PageRequest(STATES, ("Состояние",), top=100))
    assert tops == ["100", "50", "25"] and caught.value.retryable


def test_a_4xx_is_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"odata.error": {"code": "14", "message": {"value": "x"}}})

    with pytest.raises(SourceError):
        _client(handler).fetch(PageRequest(STATES, ("Состояние",), top=100))
    assert calls == [1]


def test_network_errors_are_retried_and_translated_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(SourceError) as caught:
        _client(handler).fetch(PageRequest(STATES, ("Состояние",)))
    assert caught.value.retryable and "не удалось подключиться к 1С" in str(caught.value)
    assert "\nЧто сделать: проверьте url в разделе onec" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"value": 5}',
        b"[1, 2]",
        b'{"value": [1]}',
        b'{"odata.metadata": "x"}',
        b"\xff\xfe",
    ],
)
def test_a_malformed_page_is_a_retryable_source_error(body: bytes) -> None:
    with pytest.raises(SourceError) as caught:
        parse_page(body, "http://1c.local/x")
    assert caught.value.retryable


def test_a_raw_control_character_in_a_string_is_accepted() -> None:
    assert parse_page(b'{"value": [{"Description": "a\x01b"}]}', "u") == [{"Description": "a\x01b"}]


def test_an_iis_refusal_of_a_long_query_points_to_max_query() -> None:
    error = _error(404, b"<html><body>HTTP Error 404.15 - Not Found</body></html>")
    assert "max_query" in (error.hint or "") and not error.retryable
