"""The demo's ``edo-rules.yaml``: written to its work folder and loaded like any config.

The 1C password and the webhook URL go through ``${ENV}`` references, as an
admin would write them, and are handed to the loader in its ``env``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from edo_rules.config import Config, load_config
from edo_rules.demo._company import MIRROR_LIST, Company
from edo_rules.demo._world import ONEC_LOGIN, World
from edo_rules.emulators.bitrix24._portal import DEMO_LIST_FIELDS

_MONTH = 30 * 24 * 3600
CARD_FIELD = "UF_CRM_EDO_STATUS"
#: Enterprise's bucket (250 requests) draining 10× faster: the demo runs a month in about a
#: minute, so waiting out a real drain rate would only measure the compression.
DEMO_PLAN = {"capacity": 250, "rate": 50.0}


def write_config(
    folder: Path, world: World, company: Company, playbooks: Path, store: Path | None
) -> Config:
    """Write ``edo-rules-demo.yaml`` into ``folder`` and load it."""
    data = {
        "version": 1,
        "timezone": "Europe/Moscow",
        "store": {"path": str(store or folder / "edo-rules.db")},
        "playbooks": str(playbooks),
        "onec": {
            "url": world.onec.url,
            "base": world.onec.publication,
            "user": ONEC_LOGIN,
            "password": "${EDO_DEMO_1C_PASSWORD}",
        },
        "bitrix24": {
            "webhook_url": "${EDO_DEMO_WEBHOOK}",
            "plan": dict(DEMO_PLAN),
            "users": dict(company.user_ids),
            "deal": {"strategy": "latest_open"},
            "mirror": {"target": "list", "iblock_id": MIRROR_LIST, "fields": DEMO_LIST_FIELDS},
            "card": {"deal_field": CARD_FIELD, "company_field": CARD_FIELD},
            "accounting": {"department": company.accounting_department},
            # Bindings cached for the whole simulated month (the clock jumps by hours).
            "cache_ttl": _MONTH,
        },
        "dispatch": {"backoff": 60},
    }
    path = folder / "edo-rules-demo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {"EDO_DEMO_1C_PASSWORD": world.onec_password, "EDO_DEMO_WEBHOOK": world.webhook_url}
    return load_config(path, env=env)
