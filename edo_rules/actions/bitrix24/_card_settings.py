"""The ``bitrix24.card``, ``bitrix24.accounting`` and ``bitrix24.remind`` settings.

Example::

    bitrix24:
      card:
        deal_field: UF_CRM_EDO_STATUS      # the summary line per document, in the deal
        company_field: UF_CRM_EDO_STATUS   # … and in the company (omit to skip)
        url_field: UF_CRM_EDO_URL          # a link to the runner's page of the record
        url: "https://edo.example.ru/deals/{id}"   # {entity} = deal | company, {id}
        overdue_after: 3                   # working days before «⚠»
      accounting: {user: 12}               # or {department: 5}: the department's head
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edo_rules._messages import msg
from edo_rules.actions.bitrix24._settings_reader import Reader

_FIELD = re.compile(r"^UF_CRM_[A-Z0-9_]{1,13}$")
_UNSET = object()


@dataclass(frozen=True, slots=True)
class CardSettings:
    """Which user fields of the deal and company hold the documents' summary and link."""

    deal_field: str | None = "UF_CRM_EDO_STATUS"
    company_field: str | None = None
    url_field: str | None = None
    url: str | None = None
    overdue_after: int = 3
    max_lines: int = 20

    def field_for(self, entity: str) -> str | None:
        return self.deal_field if entity == "deal" else self.company_field

    def url_for(self, entity: str, record_id: int) -> str | None:
        if self.url is None:
            return None
        return self.url.replace("{entity}", entity).replace("{id}", str(record_id))


@dataclass(frozen=True, slots=True)
class AccountingSettings:
    """Who accounting is: one user, or the head of a department."""

    user: int | None = None
    department: int | None = None


def read_card(reader: Reader) -> CardSettings:
    reader.allow("deal_field company_field url_field url overdue_after max_lines")
    fields = {}
    for key in ("deal_field", "company_field", "url_field"):
        value = reader.optional_string(key)
        if value is not None and not _FIELD.match(value):
            reader.problem(key, msg("b24_set_field_name", value=value))
        fields[key] = value
    url = reader.optional_string("url")
    if url is not None and not url.startswith(("https://", "http://")):
        reader.problem("url", msg("b24_set_card_url", value=url))
    return CardSettings(
        # an explicit null turns the deal's field off; an absent key keeps the default
        deal_field=fields["deal_field"]
        if reader.raw("deal_field", _UNSET) is not _UNSET
        else "UF_CRM_EDO_STATUS",
        company_field=fields["company_field"],
        url_field=fields["url_field"],
        url=url,
        overdue_after=int(reader.number("overdue_after", 3)),
        max_lines=int(reader.number("max_lines", 20)),
    )


def read_accounting(reader: Reader) -> AccountingSettings:
    reader.allow("user department")
    settings = AccountingSettings(reader.user_id("user"), reader.user_id("department"))
    if (settings.user is None) == (settings.department is None):
        reader.problem("", msg("b24_set_accounting"))
    return settings
