"""Random and mutated 1C pages: only SourceError comes out, and a rejected page writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from _onec_helpers import LOGIN, MOSCOW, PASSWORD, make_base, open_store, snapshot, sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edo_rules.emulators.onec import OUTGOING, STATES, Fault, OneCEmulator
from edo_rules.errors import SourceError
from edo_rules.sources.onec import load_preset, parse_page
from edo_rules.sources.onec._lookups import Lookups, read_state
from edo_rules.sources.onec._mapping import Context, map_document
from edo_rules.sources.onec._sets import DOCUMENT_FIELDS

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[OneCEmulator]:
    with OneCEmulator(make_base(12, seed=5)) as running:
        yield running


@pytest.fixture(scope="module")
def real_pages(emulator: OneCEmulator) -> dict[str, bytes]:
    select = ",".join((*DOCUMENT_FIELDS, "ДатаОтправки"))
    pages = {}
    for name, query in ((OUTGOING, f"$select={select}"), (STATES, "")):
        url = f"{emulator.service_url}{name}?$format=json&{query}"
        pages[name] = httpx.get(url, auth=(LOGIN, PASSWORD)).content
    return pages


def _mutate(data: st.DataObject, body: bytes) -> bytes:
    how = data.draw(st.sampled_from(["truncate", "byte", "value", "drop", "random"]))
    if how == "random":
        return data.draw(st.binary(max_size=200))
    if how == "truncate":
        return body[: data.draw(st.integers(0, len(body)))]
    if how == "byte":
        at = data.draw(st.integers(0, len(body) - 1))
        return body[:at] + bytes([data.draw(st.integers(0, 255))]) + body[at + 1 :]
    page: dict[str, Any] = json.loads(body)
    row = data.draw(st.sampled_from(page["value"]))
    key = data.draw(st.sampled_from(sorted(row)))
    if how == "drop":
        del row[key]
    else:
        row[key] = data.draw(JSON_VALUES)
    return json.dumps(page, ensure_ascii=False).encode()


def _process(entity_set: str, body: bytes) -> None:
    """What the source does with a page before writing it: parse, read, map."""
    preset = load_preset("bp30")
    ctx = Context(preset, Lookups(), MOSCOW, datetime(2026, 11, 27, tzinfo=MOSCOW), True)
    for row in parse_page(body, "http://1c.local/page"):
        if entity_set == STATES:
            read_state(preset, row)
        else:
            map_document(ctx, entity_set, row, None, None)


@given(data=st.data())
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_mutated_pages_raise_only_source_error(
    real_pages: dict[str, bytes], data: st.DataObject
) -> None:
    entity_set = data.draw(st.sampled_from(sorted(real_pages)))
    body = _mutate(data, real_pages[entity_set])
    try:
        _process(entity_set, body)
    except SourceError as exc:
        assert exc.retryable  # bad data from 1C: the page is retried, the next sync heals


@given(data=st.data())
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_mutated_pages_from_the_emulator_leave_the_store_unchanged(
    emulator: OneCEmulator,
    real_pages: dict[str, bytes],
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
) -> None:
    store = open_store(Path(tmp_path_factory.mktemp("fuzz")))
    sync(emulator, store)
    before = snapshot(store)
    body = _mutate(data, real_pages[OUTGOING])
    emulator.faults.clear()
    emulator.inject(Fault("body", entity_set=OUTGOING, body=body))
    try:
        sync(emulator, store, full=True, retries=0)
    except SourceError:
        assert snapshot(store) == before
    finally:
        emulator.faults.clear()
        store.close()
