"""The 1С:Бухгалтерия 3.0 source: documents and their EDO states over OData.

``OneCSource(settings, documents=store.get_documents, clock=…)`` satisfies
the :class:`~edo_rules.sources.base.Source` protocol; ``OneCSettings`` is
built from the ``onec:`` section of the config with ``from_mapping``.
"""

from edo_rules.sources.onec._client import ODataClient, PageRequest, basic_auth, parse_page
from edo_rules.sources.onec._errors import describe_set, parse_error_body
from edo_rules.sources.onec._presets import PRESETS, Preset, load_preset
from edo_rules.sources.onec._settings import OneCSettings
from edo_rules.sources.onec._source import (
    HEALED_AT,
    WATERMARK,
    OneCSource,
    SyncReport,
    run_sync,
)

__all__ = [
    "HEALED_AT",
    "PRESETS",
    "WATERMARK",
    "ODataClient",
    "OneCSettings",
    "OneCSource",
    "PageRequest",
    "Preset",
    "SyncReport",
    "basic_auth",
    "describe_set",
    "load_preset",
    "parse_error_body",
    "parse_page",
    "run_sync",
]
