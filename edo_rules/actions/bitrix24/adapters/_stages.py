"""The order of a deal pipeline's stages, read from the portal and cached in the store.

``crm.status.list`` with ``ENTITY_ID`` ``DEAL_STAGE`` (pipeline 0) or
``DEAL_STAGE_{category}`` lists the stages with their ``SORT``; the order of
``SORT`` is the order a manager sees in the pipeline. Read once per pipeline
and kept in the store's cache for ``cache_ttl`` (a renamed or moved stage is
picked up after that).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from edo_rules.actions.bitrix24.client import Bitrix24Client
from edo_rules.store.base import Store

_PREFIX = "bitrix24:stages:"


class StageOrder:
    """Stage ids of each pipeline in their order (``SORT``), fetched lazily and cached."""

    def __init__(
        self, client: Bitrix24Client, store: Store, now: Callable[[], datetime], ttl: float
    ) -> None:
        self._client, self._store, self._now = client, store, now
        self._ttl = timedelta(seconds=ttl)

    def stages(self, category: int) -> list[str]:
        """The pipeline's stage ids in order; raises the client's error when it cannot read them."""
        key = f"{_PREFIX}{category}"
        cached = self._store.cache_get(key, self._now())
        if cached is not None:
            return list(json.loads(cached))
        entity = "DEAL_STAGE" if category == 0 else f"DEAL_STAGE_{category}"
        params = {"filter": {"ENTITY_ID": entity}, "order": {"SORT": "ASC"}}
        result = self._client.call("crm.status.list", params, idempotent=True).result
        stages = [str(row["STATUS_ID"]) for row in _rows(result) if "STATUS_ID" in row]
        stages.sort(key=lambda stage: _sort_of(result, stage))
        self._store.cache_put(key, json.dumps(stages), self._now() + self._ttl)
        return stages


def _rows(result: Any) -> list[dict[str, Any]]:
    return [row for row in result if isinstance(row, dict)] if isinstance(result, list) else []


def _sort_of(result: Any, stage: str) -> float:
    for row in _rows(result):
        if row.get("STATUS_ID") == stage:
            try:
                return float(row.get("SORT") or 0)
            except (TypeError, ValueError):
                return 0.0
    return 0.0
