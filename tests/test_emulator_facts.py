"""Bad paths and details of the emulator behaviour the conformance tests pin (tests/conformance)."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import trustme
from _onec_helpers import LOGIN, PASSWORD, make_base

from edo_rules.emulators.bitrix24 import Bitrix24Emulator, PlanLimits
from edo_rules.emulators.onec import COUNTERPARTIES, OUTGOING, OneCBase, OneCEmulator
from edo_rules.emulators.onec._wire import EMPTY_REF

FAST = PlanLimits(capacity=10_000, rate=10_000.0)


# -- Bitrix24 ---------------------------------------------------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def emu(clock: _Clock) -> Iterator[Bitrix24Emulator]:
    emulator = Bitrix24Emulator(seed=1, plan=FAST, clock=clock).start()
    yield emulator
    emulator.stop()


def _post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, json=body, timeout=10.0)


def test_an_untyped_item_value_is_refused_and_nothing_is_stored(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(1)
    bad = _post(hook + "crm.item.add", {"entityTypeId": 31, "fields": {"opportunity": "много"}})
    assert bad.status_code == 400
    assert bad.json()["error"] == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
    assert "opportunity" in bad.json()["error_description"]
    assert emu.portal.items(31) == []


def test_item_update_converts_moves_the_stage_and_keeps_read_only_fields(
    emu: Bitrix24Emulator, clock: _Clock
) -> None:
    hook = emu.add_webhook(1)
    emu.portal.add_smart_process(1046)
    added = _post(hook + "crm.item.add", {"entityTypeId": 1046, "fields": {"categoryId": 7}})
    item = added.json()["result"]["item"]
    assert item["stageId"] == "DT1046_7:NEW" and item["categoryId"] == 7
    clock.now += 60
    changes = {"id": 1, "entityTypeId": 2, "stageId": "DT1046_7:WON", "opportunity": "12.5"}
    body = {"entityTypeId": 1046, "id": str(item["id"]), "fields": changes}
    updated = _post(hook + "crm.item.update", body).json()["result"]["item"]
    assert updated["id"] == item["id"] and updated["entityTypeId"] == 1046
    assert updated["opportunity"] == 12.5 and updated["previousStageId"] == "DT1046_7:NEW"
    assert updated["updatedTime"] > item["updatedTime"] == item["createdTime"]
    assert updated["movedTime"] == updated["updatedTime"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("x", "Parameter 'fields' must be array."),
        ({"CATEGORY_ID": 42}, "Category with ID '42' is not found."),
        ({"STAGE_ID": "C1:NEW"}, "Stage 'C1:NEW' is not found"),
        ({"OPPORTUNITY": "abc"}, "Amount"),
    ],
)
def test_a_bad_deal_is_refused_the_legacy_way(
    emu: Bitrix24Emulator, fields: Any, message: str
) -> None:
    before = emu.counts()["deals"]
    answer = _post(emu.add_webhook(1) + "crm.deal.add", {"fields": fields})
    assert answer.status_code == 400 and answer.json()["error"] == ""
    assert message in answer.json()["error_description"]
    assert emu.counts()["deals"] == before


def test_added_records_take_the_documented_defaults(emu: Bitrix24Emulator) -> None:
    hook = emu.add_webhook(3)
    company = _post(hook + "crm.company.add", {"fields": {}}).json()["result"]
    deal = _post(hook + "crm.deal.add", {"fields": {"CATEGORY_ID": "1"}}).json()["result"]
    record = _post(hook + "crm.deal.get", {"id": deal}).json()["result"]
    assert record["TITLE"] == f"Сделка #{deal}" and record["STAGE_ID"] == "C1:NEW"
    assert record["ASSIGNED_BY_ID"] == "3" and record["OPPORTUNITY"] == "0.00"
    got = _post(hook + "crm.company.get", {"id": company}).json()["result"]
    assert got["TITLE"] == f"Компания #{company}" and got["ASSIGNED_BY_ID"] == "3"


def test_an_app_without_the_scope_hears_about_its_access_token() -> None:
    emulator = Bitrix24Emulator(seed=1, plan=FAST, scope_error_status=401).start()
    try:
        access, _ = emulator.add_oauth_app("a", "b", scopes={"user"})
        answer = _post(f"{emulator.url}/rest/crm.deal.list", {"auth": access})
        assert answer.status_code == 401
        assert answer.json()["error_description"].endswith("provided by the access token")
    finally:
        emulator.stop()


def test_https_only_holds_for_plain_http_and_not_over_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    plain = Bitrix24Emulator(seed=1, plan=FAST, https_only=True).start()
    secure = Bitrix24Emulator(seed=1, plan=FAST, https_only=True, tls=context).start()
    try:
        refused = _post(plain.add_webhook(1) + "user.get", {"ID": 1})
        assert refused.status_code == 400 and refused.json()["error"] == "INVALID_REQUEST"
        trust = ssl.create_default_context(cafile=str(ca_file))
        answer = httpx.post(secure.add_webhook(1) + "user.get", json={"ID": 1}, verify=trust)
        assert answer.status_code == 200 and answer.json()["result"][0]["ID"] == "1"
        with pytest.raises(httpx.ConnectError):  # an unknown CA is refused by the client
            httpx.post(secure.add_webhook(1) + "user.get", json={"ID": 1})
    finally:
        plain.stop()
        secure.stop()


_CLI = "import sys; from edo_rules.cli import main; sys.exit(main(sys.argv[1:]))"


def test_the_emulate_command_serves_https_with_a_given_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    tls = ["--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]
    process = subprocess.Popen(
        [sys.executable, "-c", _CLI, "emulate", "bitrix24", *tls],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        hook = process.stdout.readline().strip().removeprefix("Webhook URL: ")
        assert hook.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        answer = httpx.post(hook + "user.get", json={"ID": 1}, verify=trust, timeout=10.0)
        assert answer.json()["result"][0]["ID"] == "1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_emulate_command_explains_a_bad_certificate(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    cases = [
        (["--tls-key", "k.pem"], "--tls-key needs --tls-cert"),
        (["--tls-cert", str(tmp_path / "cert.pem")], "cannot load the TLS certificate"),
    ]
    for args, reason in cases:
        done = subprocess.run(
            [sys.executable, "-c", _CLI, "emulate", "bitrix24", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode != 0 and reason in done.stderr


# -- 1C -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base() -> OneCBase:
    return make_base(20)


@pytest.fixture(scope="module")
def onec(base: OneCBase) -> Iterator[OneCEmulator]:
    with OneCEmulator(base) as emulator:
        yield emulator


def _get(emulator: OneCEmulator, path: str, **options: str) -> httpx.Response:
    query = "&".join(f"{k}={quote(v, safe=chr(39) + ',()/:$')}" for k, v in options.items())
    url = f"{emulator.service_url}{quote(path, safe=chr(39) + '()/$')}?$format=json&{query}"
    return httpx.get(url, auth=(LOGIN.encode(), PASSWORD.encode()), timeout=10.0)


def _code(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["odata.error"]["code"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"$expand": "Нет"}, (400, "14")),
        ({"$expand": "Контрагент/Owner"}, (400, "21")),
        ({"$select": "Ref_Key,Нет/Description", "$expand": "Контрагент"}, (400, "14")),
        ({"$select": "Контрагент/Нет", "$expand": "Контрагент"}, (400, "14")),
        ({"$select": "Контрагент/Owner/Code"}, (400, "21")),
    ],
)
def test_bad_navigation_paths_are_refused(
    onec: OneCEmulator, options: dict[str, str], expected: tuple[int, str]
) -> None:
    assert _code(_get(onec, OUTGOING, **options)) == expected


def test_bad_paths_by_key(onec: OneCEmulator, base: OneCBase) -> None:
    row = base.sets[OUTGOING].rows[0]
    key = row["Ref_Key"]
    assert _code(_get(onec, f"{OUTGOING}(guid'{key}')/Нет")) == (404, "6")
    assert _code(_get(onec, f"{OUTGOING}/Нет")) == (404, "6")
    assert _code(_get(onec, "Catalog_Неопубликованный/$count")) == (404, "6")
    missing = "0" * 7 + "1-0000-0000-0000-000000000000"
    assert _code(_get(onec, f"{OUTGOING}(guid'{missing}')/Контрагент")) == (404, "9")
    base.edit(key, ДоговорКонтрагента_Key=EMPTY_REF)
    assert _code(_get(onec, f"{OUTGOING}(guid'{key}')/ДоговорКонтрагента")) == (404, "9")


def test_a_selected_navigation_gives_its_link_and_an_empty_reference_expands_to_null(
    onec: OneCEmulator, base: OneCBase
) -> None:
    rows = _get(onec, OUTGOING, **{"$select": "Ref_Key,Организация", "$top": "2"}).json()
    for row in rows["value"]:
        assert row["Организация@navigationLinkUrl"].endswith("/Организация")
        assert set(row) == {"Ref_Key", "Организация@navigationLinkUrl"}
    key = base.sets[OUTGOING].rows[1]["Ref_Key"]
    base.edit(key, ВидДокумента_Key=EMPTY_REF)
    options = {"$filter": f"Ref_Key eq guid'{key}'", "$expand": "ВидДокумента,Контрагент"}
    (row,) = _get(onec, OUTGOING, **options).json()["value"]
    assert row["ВидДокумента"] is None
    counterparty = base.sets[COUNTERPARTIES].get(row["Контрагент_Key"])
    assert counterparty is not None and row["Контрагент"]["ИНН"] == counterparty["ИНН"]


def test_a_register_row_has_no_link_of_its_own(onec: OneCEmulator) -> None:
    journal = "InformationRegister_ЖурналДействийПоЭДО"
    rows = _get(onec, journal, **{"$select": "Действие,Пользователь", "$top": "3"}).json()
    assert rows["value"] and all(set(row) == {"Действие"} for row in rows["value"])
