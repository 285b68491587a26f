"""The 1C emulator on the wire, with requests built as clients written for real bases build them.

odata1c 0.0.2 (Python 2 only, so its parsing is reproduced here line for line),
odata1c-gate 0.3 and odata1c-client 0.1.5 (Python >= 3.12) are the models: the
service document, ``/$count``, navigation by key, the ``$expand`` on a single
entity that a live base refuses, and an unknown system option.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from _onec_helpers import LOGIN, PASSWORD, make_base

from edo_rules.emulators.onec import (
    COUNTERPARTIES,
    OUTGOING,
    STATES,
    Conduct,
    OneCBase,
    OneCEmulator,
)

_APP = "{http://www.w3.org/2007/app}"


@pytest.fixture(scope="module")
def base() -> OneCBase:
    return make_base(40)


@pytest.fixture(scope="module")
def emulator(base: OneCBase) -> Iterator[OneCEmulator]:
    with OneCEmulator(base) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(auth=(LOGIN.encode(), PASSWORD.encode()), timeout=10.0) as client:
        yield client


def _get(http: httpx.Client, emulator: OneCEmulator, path: str, **options: str) -> httpx.Response:
    query = "&".join(f"{k}={quote(v, safe=chr(39) + ',()/:$')}" for k, v in options.items())
    return http.get(f"{emulator.service_url}{quote(path, safe=chr(39) + '()/$')}?{query}")


def _error(answer: httpx.Response) -> tuple[int, str, str]:
    body: Any = answer.json()["odata.error"]
    return answer.status_code, body["code"], body["message"]["value"]


def test_the_service_root_is_an_atompub_service_document(
    http: httpx.Client, emulator: OneCEmulator
) -> None:
    """Without ``$format`` the service root answers an AtomPub ``<service>`` whose workspace
    lists one ``app:collection`` per published set (the document odata1c 0.0.2 reads:
    ``root[0].findall(app:collection)``, the name in ``collection[0].text``); with
    ``$format=json`` the same list as JSON (OData v3 service document)."""
    atom = http.get(emulator.service_url)
    assert atom.status_code == 200 and "atomsvc+xml" in atom.headers["content-type"]
    root = ET.fromstring(atom.text.encode("utf-8"))
    names = {collection[0].text for collection in root[0].findall(f"{_APP}collection")}
    assert {OUTGOING, STATES, COUNTERPARTIES} <= names
    as_json = http.get(emulator.service_url, params={"$format": "json"}).json()
    assert {item["name"] for item in as_json["value"]} == names


def test_count_answers_a_bare_number(
    http: httpx.Client, emulator: OneCEmulator, base: OneCBase
) -> None:
    """``Set/$count`` (also with ``$filter``) answers only the number of the collection's
    elements, "formatted as a plain number" (42clouds manual «Интерфейс OData: параметры
    запроса», section $count)."""
    everything = _get(http, emulator, f"{OUTGOING}/$count")
    assert everything.status_code == 200 and everything.text == str(len(base.sets[OUTGOING].rows))
    state = "ОбменЗавершен"
    expected = sum(row["Состояние"] == state for row in base.sets[STATES].rows)
    filtered = _get(http, emulator, f"{STATES}/$count", **{"$filter": f"Состояние eq '{state}'"})
    assert int(filtered.text) == expected and 0 < expected < len(base.sets[STATES].rows)


def test_navigation_by_key_answers_the_referenced_object(
    http: httpx.Client, emulator: OneCEmulator, base: OneCBase
) -> None:
    """``Set(guid'…')/Контрагент`` answers the referenced entity itself (project reference,
    «1С OData»: the URL each row's ``Контрагент@navigationLinkUrl`` holds)."""
    row = base.sets[OUTGOING].rows[3]
    link = _get(http, emulator, f"{OUTGOING}(guid'{row['Ref_Key']}')", **{"$format": "json"})
    target = link.json()["Контрагент@navigationLinkUrl"]
    answer = _get(http, emulator, target, **{"$format": "json"}).json()
    assert answer["Ref_Key"] == row["Контрагент_Key"]
    assert answer["odata.metadata"].endswith(f"#{COUNTERPARTIES}/@Element")
    assert "ИНН" in answer


def test_expand_on_a_single_entity_is_refused(
    http: httpx.Client, emulator: OneCEmulator, base: OneCBase
) -> None:
    """A live base refuses ``$expand`` on a path by key: «Опция $expand не поддерживается
    при запросе одиночных сущностей»; the same expansion through a collection filtered by
    the key works (odata1c-gate 0.3, ``tools/odata_query.py`` ``build_get``)."""
    key = base.sets[OUTGOING].rows[0]["Ref_Key"]
    refused = _get(
        http, emulator, f"{OUTGOING}(guid'{key}')", **{"$format": "json", "$expand": "Контрагент"}
    )
    status, _, message = _error(refused)
    assert status == 400 and "одиночных сущностей" in message
    workaround = _get(
        http,
        emulator,
        OUTGOING,
        **{
            "$format": "json",
            "$filter": f"Ref_Key eq guid'{key}'",
            "$top": "1",
            "$select": "Ref_Key,Контрагент",
            "$expand": "Контрагент",
        },
    )
    (row,) = workaround.json()["value"]
    assert row["Контрагент"]["Ref_Key"] == base.sets[OUTGOING].rows[0]["Контрагент_Key"]


def test_an_unknown_system_option_is_refused(http: httpx.Client, emulator: OneCEmulator) -> None:
    """1C answers an unsupported query parameter with an error naming it («Параметр … не
    поддерживается», odata1c-gate 0.3 notes) instead of ignoring it; the code is 14, "query
    options parse error" (project reference, «1С OData», Errors)."""
    status, code, message = _error(
        _get(http, emulator, OUTGOING, **{"$format": "json", "$foo": "1"})
    )
    assert (status, code) == (400, "14") and "$foo" in message


@pytest.mark.parametrize("accept_json", [False, True])
def test_accept_header_alone(base: OneCBase, http: httpx.Client, accept_json: bool) -> None:
    """Unverified: whether ``Accept: application/json`` without ``$format`` gives JSON
    (odata1c-client and odata1c-gate rely on it; 1C's documentation names only
    ``$format``). The emulator answers either way (``Conduct.accept_json``); Atom by
    default."""
    with OneCEmulator(base, conduct=Conduct(accept_json=accept_json)) as emulator:
        answer = http.get(
            emulator.service_url + quote(STATES),
            params={"$top": "2"},
            headers={"Accept": "application/json"},
        )
    assert answer.status_code == 200
    if accept_json:
        assert len(answer.json()["value"]) == 2
    else:
        assert "atom+xml" in answer.headers["content-type"]
        assert ET.fromstring(answer.content).tag == "{http://www.w3.org/2005/Atom}feed"


@pytest.mark.parametrize("key_range", ["error", "compare"])
def test_ref_key_ranges(base: OneCBase, http: httpx.Client, key_range: Any) -> None:
    """Unverified: the answer to ``Ref_Key gt guid'…'`` (keyset paging) — a platform failure
    «Нельзя сравнивать поля неограниченной длины» was seen on a live base. The emulator
    answers either way (``Conduct.key_range``)."""
    key = sorted(row["Ref_Key"] for row in base.sets[OUTGOING].rows)[10]
    options = {"$format": "json", "$filter": f"Ref_Key gt guid'{key}'", "$select": "Ref_Key"}
    with OneCEmulator(base, conduct=Conduct(key_range=key_range)) as emulator:
        answer = _get(http, emulator, OUTGOING, **options)
    if key_range == "error":
        assert answer.status_code == 500 and "неограниченной длины" in answer.text
    else:
        keys = [row["Ref_Key"] for row in answer.json()["value"]]
        assert keys and all(k > key for k in keys)
        assert len(keys) == len(base.sets[OUTGOING].rows) - 11
