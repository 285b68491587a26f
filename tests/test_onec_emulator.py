"""The emulated 1C answers exactly as the reference says a real BP 3.0 server does."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import pytest
from _onec_helpers import LOGIN, PASSWORD, make_base, settings_for

from edo_rules.emulators.onec import (
    COUNTERPARTIES,
    JOURNAL,
    OBJECTS,
    OUTGOING,
    SALES,
    STATES,
    OneCBase,
    OneCEmulator,
)
from edo_rules.sources.onec import ODataClient
from edo_rules.sources.onec._pager import fetch_by_keys

EMPTY_REF = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def base() -> OneCBase:
    return make_base(80, seed=11)


@pytest.fixture(scope="module")
def emulator(base: OneCBase) -> Iterator[OneCEmulator]:
    with OneCEmulator(base) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    with httpx.Client(headers={"Authorization": f"Basic {token}"}) as client:
        yield client


def get(http: httpx.Client, emulator: OneCEmulator, entity_set: str, **options: str) -> Any:
    query = "&".join(f"{k}={quote(v, safe=chr(39) + ',()/:')}" for k, v in options.items())
    answer = http.get(f"{emulator.service_url}{quote(entity_set)}?{query}")
    return answer


def rows(http: httpx.Client, emulator: OneCEmulator, entity_set: str, **options: str) -> Any:
    answer = get(http, emulator, entity_set, **{"$format": "json", **options})
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def error(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()["odata.error"]
    return answer.status_code, body["code"], body["message"]["value"]


def test_the_envelope_dates_references_and_navigation_links(http, emulator) -> None:
    answer = get(http, emulator, OUTGOING, **{"$format": "json", "$top": "3"})
    body = answer.json()
    assert body["odata.metadata"] == f"{emulator.service_url}$metadata#{OUTGOING}"
    row = body["value"][0]
    assert len(row["Date"]) == 19 and "+" not in row["Date"] and "Z" not in row["Date"]
    assert row["Контрагент@navigationLinkUrl"] == f"{OUTGOING}(guid'{row['Ref_Key']}')/Контрагент"
    kinds = {r["Ref_Key"] for r in rows(http, emulator, "Catalog_ВидыДокументовЭДО")}
    assert row["ВидДокумента_Key"] in kinds  # a reference to the library's kinds catalog
    unsent = [
        r for r in rows(http, emulator, OUTGOING) if r["ДатаОтправки"] == "0001-01-01T00:00:00"
    ]
    assert unsent, "some documents are not sent yet: the empty date"
    lines = [line for r in rows(http, emulator, OUTGOING) for line in r["СписокПодписантов"]]
    assert lines and all(line["LineNumber"] == "1" for line in lines)  # Int64 as a string


def test_composite_references_carry_their_type_with_and_without_the_prefix(http, emulator) -> None:
    types = {row["ЭлектронныйДокумент_Type"] for row in rows(http, emulator, STATES)}
    assert f"StandardODATA.{OUTGOING}" in types and OUTGOING in types
    links = rows(http, emulator, OBJECTS, **{"$top": "50"})
    assert {row["ОбъектУчета_Type"].removeprefix("StandardODATA.") for row in links} >= {SALES}
    assert {row["Состояние"] for row in rows(http, emulator, STATES)} >= {"ОбменЗавершен"}


def test_filter_operators_and_literals(http, emulator, base) -> None:
    everything = rows(http, emulator, OUTGOING)
    cut = sorted(r["Date"] for r in everything)[len(everything) // 2]
    later = rows(http, emulator, OUTGOING, **{"$filter": f"Date ge datetime'{cut}'"})
    assert {r["Ref_Key"] for r in later} == {r["Ref_Key"] for r in everything if r["Date"] >= cut}
    signed = rows(
        http,
        emulator,
        OUTGOING,
        **{
            "$filter": "not (ДатаПодписания eq datetime'0001-01-01T00:00:00')"
            " and СуммаДокумента gt 5000"
        },
    )
    assert signed and all(r["СуммаДокумента"] > 5000 for r in signed)
    first, second = everything[0]["Ref_Key"], everything[1]["Ref_Key"]
    chunk = rows(
        http,
        emulator,
        OUTGOING,
        **{"$filter": f"Ref_Key eq guid'{first}' or Ref_Key eq guid'{second}'"},
    )
    assert {r["Ref_Key"] for r in chunk} == {first, second}
    name = base.sets[COUNTERPARTIES].rows[0]["Description"].split("«")[-1][:4]
    found = rows(
        http, emulator, COUNTERPARTIES, **{"$filter": f"substringof('{name}', Description)"}
    )
    assert found and all(name.lower() in r["Description"].lower() for r in found)
    typed = rows(
        http, emulator, OUTGOING, **{"$filter": "ТипРегламента eq 'УПД' and Остановлен eq false"}
    )
    assert typed and {r["ТипРегламента"] for r in typed} == {"УПД"}
    signer = everything[0]["Ответственный_Key"]
    lam = rows(
        http,
        emulator,
        OUTGOING,
        **{"$filter": f"СписокПодписантов/any(d: d/Подписант_Key eq guid'{signer}')"},
    )
    assert lam
    assert all(any(x["Подписант_Key"] == signer for x in r["СписокПодписантов"]) for r in lam)


def test_select_orderby_top_skip_and_inlinecount(http, emulator) -> None:
    body = get(
        http,
        emulator,
        STATES,
        **{
            "$format": "json",
            "$select": "ЭлектронныйДокумент,ДатаИзменения",
            "$orderby": "ДатаИзменения desc",
            "$top": "5",
            "$skip": "2",
            "$inlinecount": "allpages",
        },
    ).json()
    assert body["odata.count"] == "80"  # a string
    dates = [r["ДатаИзменения"] for r in body["value"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 5
    assert set(body["value"][0]) == {
        "ЭлектронныйДокумент",
        "ЭлектронныйДокумент_Type",
        "ДатаИзменения",
    }
    everything = rows(http, emulator, STATES, **{"$orderby": "ДатаИзменения desc"})
    assert [r["ДатаИзменения"] for r in everything[2:7]] == dates
    two_keys = rows(http, emulator, OUTGOING, **{"$orderby": "ТипРегламента asc,Number desc"})
    pairs = [(r["ТипРегламента"], r["Number"]) for r in two_keys]
    assert pairs == sorted(pairs, key=lambda p: (p[0], [-ord(c) for c in p[1]]))


def test_query_errors_have_1c_codes_as_strings(http, emulator) -> None:
    bad_in = get(http, emulator, OUTGOING, **{"$format": "json", "$filter": "Number in ('1','2')"})
    assert error(bad_in)[:2] == (400, "14")
    two_digit = get(
        http,
        emulator,
        OUTGOING,
        **{"$format": "json", "$filter": "Date ge datetime'26-01-01T00:00:00'"},
    )
    assert error(two_digit)[:2] == (400, "14")
    unknown = get(http, emulator, OUTGOING, **{"$format": "json", "$select": "Ref_Key,Нету"})
    assert error(unknown)[:2] == (400, "14") and "Нету" in error(unknown)[2]
    missing = get(http, emulator, "Catalog_НетТакого", **{"$format": "json"})
    assert error(missing)[:2] == (404, "6") and "Catalog_НетТакого" in error(missing)[2]
    function = get(http, emulator, OUTGOING, **{"$format": "json", "$filter": "year(Date) eq 2026"})
    assert error(function)[:2] == (400, "21")
    key = get(http, emulator, f"{OUTGOING}(guid'{EMPTY_REF}')", **{"$format": "json"})
    assert error(key)[:2] == (404, "9")


def test_ref_key_greater_than_is_a_platform_failure(http, emulator) -> None:
    answer = get(
        http, emulator, OUTGOING, **{"$format": "json", "$filter": f"Ref_Key gt guid'{EMPTY_REF}'"}
    )
    assert answer.status_code == 500
    assert "неограниченной длины" in answer.json()["exception"]["inner"]["descr"]


def test_plus_is_not_a_space(http, emulator) -> None:
    answer = http.get(f"{emulator.service_url}{quote(OUTGOING)}?$format=json&$filter=Number+eq+'1'")
    assert error(answer)[:2] == (400, "14")


def test_without_format_json_data_is_atom_and_errors_are_xml(http, emulator) -> None:
    feed = get(http, emulator, OUTGOING, **{"$top": "2"})
    root = ElementTree.fromstring(feed.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 2
    failed = get(http, emulator, "Catalog_НетТакого")
    node = ElementTree.fromstring(failed.content)
    ns = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
    assert node.find(f"{ns}code").text == "6"  # type: ignore[union-attr]


def test_basic_auth_with_a_utf8_login(emulator) -> None:
    url = f"{emulator.service_url}{quote(OUTGOING)}?$format=json&$top=1"
    latin1 = httpx.get(
        url,
        headers={
            "Authorization": "Basic "
            + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode("cp1251")).decode()
        },
    )
    assert latin1.status_code == 401 and "Basic" in latin1.headers["WWW-Authenticate"]
    assert httpx.get(url, auth=(LOGIN, "wrong")).status_code == 401
    assert httpx.get(url, auth=(LOGIN, PASSWORD)).status_code == 200


def test_an_entity_by_key_and_the_service_document(http, emulator, base) -> None:
    key = base.sets[OUTGOING].rows[0]["Ref_Key"]
    one = get(http, emulator, f"{OUTGOING}(guid'{key}')", **{"$format": "json"}).json()
    assert one["Ref_Key"] == key and one["odata.metadata"].endswith("/@Element")
    names = {s["name"] for s in http.get(emulator.service_url + "?$format=json").json()["value"]}
    assert {OUTGOING, STATES, JOURNAL, COUNTERPARTIES} <= names


def test_acting_like_1c_moves_states_and_writes_the_journal() -> None:
    base = make_base(5)
    user = base.sets["Catalog_Пользователи"].rows[0]["Ref_Key"]
    counterparty = base.sets[COUNTERPARTIES].rows[0]["Ref_Key"]
    org = base.sets["Catalog_Организации"].rows[0]["Ref_Key"]
    doc = base.create_document(
        counterparty=counterparty, responsible=user, organization=org, kind="upd"
    )
    assert base.state(doc) == "ТребуетсяПодписание"
    base.advance(hours=1)
    base.send(doc)
    assert base.state(doc) == "ОжидаетсяПодтверждение"
    assert base.document(doc)["ДатаОтправки"] != "0001-01-01T00:00:00"
    base.reject(doc, "Не тот договор")
    assert base.sets[STATES].get(doc)["Комментарий"] == "Не тот договор"  # type: ignore[index]
    base.annul(doc)
    assert base.state(doc) == "Аннулирован"
    actions = [r["СостояниеДокумента"] for r in base.sets[JOURNAL].find("ЭлектронныйДокумент", doc)]
    assert actions == [
        "ТребуетсяПодписание",
        "ТребуетсяОтправка",
        "ОжидаетсяПодтверждение",
        "ТребуетсяУточнение",
        "ОжидаетсяПодтверждениеАннулирования",
        "Аннулирован",
    ]


def test_allowed_only_and_access_denied(http, emulator, base) -> None:
    hidden = base.sets[COUNTERPARTIES].rows[1]["Ref_Key"]
    base.restrict(LOGIN, [hidden])
    try:
        denied = get(http, emulator, OUTGOING, **{"$format": "json"})
        allowed = rows(http, emulator, OUTGOING, allowedOnly="true")
    finally:
        base.restrict(LOGIN, [])
    assert error(denied)[:2] == (403, "20")
    assert allowed and all(r["Контрагент_Key"] != hidden for r in allowed)


def test_the_emulate_command_prints_the_url_and_serves(tmp_path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from edo_rules.cli import main; sys.exit(main(sys.argv[1:]))",
            *("emulate", "1c", "--documents", "15", "--user", "Бухгалтер", "--password", "секрет"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/buh/odata/standard.odata/")
        answer = httpx.get(f"{url}{quote(OUTGOING)}?$format=json", auth=("Бухгалтер", "секрет"))
        assert answer.status_code == 200
        assert (
            len(answer.json()["value"])
            + len(
                httpx.get(
                    f"{url}{quote('Document_ЭлектронныйДокументВходящийЭДО')}?$format=json",
                    auth=("Бухгалтер", "секрет"),
                ).json()["value"]
            )
            == 15
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_query_string_over_the_iis_limit_is_refused(http, emulator) -> None:
    keys = " or ".join(f"Ref_Key eq guid'{EMPTY_REF}'" for _ in range(40))
    answer = get(http, emulator, OUTGOING, **{"$format": "json", "$filter": keys})
    assert answer.status_code == 404 and "404.15" in answer.text


def test_key_chunks_stay_under_the_iis_limit(emulator) -> None:
    client = ODataClient(settings_for(emulator))
    journal = list(emulator.base.sets[JOURNAL].rows)
    docs = list(dict.fromkeys(row["ЭлектронныйДокумент"] for row in journal))[:30]
    select = ("ЭлектронныйДокумент", "ДатаИзменения", "СостояниеДокумента", "Пользователь_Key")
    found = list(fetch_by_keys(client, JOURNAL, "ЭлектронныйДокумент", docs, select))
    client.close()
    assert {row["ЭлектронныйДокумент"] for row in found} == set(docs)
    assert len(found) == sum(1 for row in journal if row["ЭлектронныйДокумент"] in set(docs))
    assert client.requests > 30 // 20 + 1  # the Cyrillic field name forces smaller chunks
