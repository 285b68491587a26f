"""The demo's Bitrix24 card: ``bitrix24 setup`` before the first tick, and at the end one
deal's card as a manager sees it — the summary field and the timeline entries."""

from __future__ import annotations

from typing import TextIO

from edo_rules.actions.bitrix24 import make_client
from edo_rules.actions.bitrix24.setup import State, setup_portal
from edo_rules.config import Config
from edo_rules.emulators.bitrix24 import Portal
from edo_rules.emulators.bitrix24.card import DEAL, logmessages

_SHOWN_ENTRIES = 6


def run_setup(out: TextIO, config: Config) -> None:
    """Create the card fields the config needs, as an admin does once."""
    assert config.bitrix24 is not None
    client = make_client(config.bitrix24)
    try:
        report = setup_portal(client, config.bitrix24)
    finally:
        client.close()
    created = [str(s.what) for s in report.steps if s.state is State.CREATED]
    print(f"  Настройка:   edo-rules bitrix24 setup — создано: {'; '.join(created)}", file=out)


def print_card(out: TextIO, portal: Portal, field: str) -> None:
    """The deal whose card has the longest signing history, as the manager sees it."""
    with portal.lock:
        deals = {deal_id: dict(record) for deal_id, record in portal.t.deals.items()}
    histories = {deal_id: logmessages(portal, DEAL, deal_id) for deal_id in deals}
    deal_id = max(deals, key=lambda d: (len(histories[d]), bool(deals[d].get(field)), -d))
    deal = deals[deal_id]
    print(f"\nКарточка сделки «{deal['TITLE']}» (ID {deal_id}) в Битрикс24", file=out)
    print("  Поле «Документы ЭДО»:", file=out)
    for line in str(deal.get(field) or "—").splitlines():
        print(f"    {line}", file=out)
    entries = histories[deal_id]
    print(f"  Таймлайн, записей ЭДО: {len(entries)}", file=out)
    for entry in entries[-_SHOWN_ENTRIES:]:
        text = " ".join(str(entry["text"]).split())
        print(f"    • {entry['title']} — {text}", file=out)
