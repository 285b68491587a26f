"""``edo-rules bitrix24 setup``: create or check what the config needs in the portal.

From ``bitrix24.card`` and ``bitrix24.mirror`` (target ``smart_process``):

- the deal's and company's user fields — the summary (``string``) and the link
  (``url``), labelled in Russian (``crm.deal.userfield.*`` / ``crm.company.userfield.*``);
- the document register: a smart process (``crm.type.add``) with parent
  relations to deals (2) and companies (4) shown as a list inside their cards
  (``isChildrenListEnabled``), and one Russian-named stage per status in its
  category (``crm.status.add`` under ``DYNAMIC_{type}_STAGE_{category}``);
- a universal list as the register (target ``list``) is only checked: every
  field of ``bitrix24.mirror.fields`` must be among the list's fields
  (``lists.field.get``); the admin adds a missing one in the list's settings.

Every step first reads; in ``apply`` mode it creates what is missing, in
``plan`` mode (``--dry-run``) and ``check`` mode (``validate --online``) it
writes nothing and says what is missing. Running it twice creates once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from edo_rules import ru
from edo_rules._messages import Joined, Text, msg, t
from edo_rules.actions.bitrix24 import _register
from edo_rules.actions.bitrix24.client import Bitrix24Client
from edo_rules.actions.bitrix24.settings import Bitrix24Settings, MirrorSettings
from edo_rules.model import Status

Mode = Literal["apply", "plan", "check"]
_DEFAULT_REGISTER = ("status", "overdue", "signers", "pdf_url")
_FACT_TYPES = {
    "overdue": "boolean",
    "pdf_url": "url",
    "date": "date",
    "sent_at": "datetime",
    "our_signed_at": "datetime",
    "counterparty_signed_at": "datetime",
    "rejected_at": "datetime",
}
_PARENTS = {2: "b24_parent_deals", 4: "b24_parent_companies"}  # entityTypeId → its name


class State(StrEnum):
    MATCHED = "matched"  # already as needed
    CREATED = "created"  # created (or completed) now
    MISSING = "missing"  # absent: plan/check mode wrote nothing
    CONFLICT = "conflict"  # present but different: the admin must decide


@dataclass(frozen=True, slots=True)
class Step:
    """One thing checked: what, its state, and a detail (an id, or what is wrong).

    The texts are rendered when shown, in the language in force (``--lang``);
    the portal's own words (labels, stage names) stay Russian inside them.
    """

    what: Text
    state: State
    detail: Text | None = None
    #: Setup never makes it (a universal list's field): the admin adds it by hand.
    by_hand: bool = False

    def __str__(self) -> str:
        word = t(f"b24_state_{self.state.value}")
        tail = f" ({self.detail})" if self.detail is not None else ""
        return f"{word:>12}: {self.what}{tail}"


@dataclass(slots=True)
class SetupReport:
    """Every step in order; ``nothing_to_do`` when everything already matched."""

    steps: list[Step] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)

    def add(
        self, what: Text, state: State, detail: Text | None = None, *, by_hand: bool = False
    ) -> None:
        self.steps.append(Step(what, state, detail, by_hand))

    @property
    def nothing_to_do(self) -> bool:
        return all(s.state is State.MATCHED for s in self.steps)

    @property
    def problems(self) -> list[Step]:
        return [s for s in self.steps if s.state in (State.MISSING, State.CONFLICT)]


def setup_portal(
    client: Bitrix24Client, settings: Bitrix24Settings, *, mode: Mode = "apply"
) -> SetupReport:
    """Create (``apply``) or only check (``plan``, ``check``) the portal objects; see the module.

    Raises :class:`~edo_rules.actions.bitrix24.errors.Bitrix24Error` when the
    portal refuses a call (e.g. 403 ``insufficient_scope`` or ``ACCESS_DENIED``:
    creating a smart process needs a CRM administrator).
    """
    report = SetupReport()
    _Setup(client, mode, report).run(settings)
    if not report.steps:
        report.notes.append(msg("b24_nothing_configured"))
    return report


class _Setup:
    def __init__(self, client: Bitrix24Client, mode: Mode, report: SetupReport) -> None:
        self._client, self._mode, self._report = client, mode, report

    @property
    def _writes(self) -> bool:
        return self._mode == "apply"

    def run(self, settings: Bitrix24Settings) -> None:
        card = settings.card
        if card is not None:
            for entity in ("deal", "company"):
                summary = card.field_for(entity)
                if summary is None:
                    continue
                self._userfield(entity, summary, "string", "Документы ЭДО")
                if card.url_field:
                    self._userfield(entity, card.url_field, "url", "Документы ЭДО: страница")
        mirror = settings.mirror
        if mirror is not None and mirror.target == "smart_process":
            self._register(mirror)
        elif mirror is not None:
            self._list_fields(mirror)

    # -- user fields -------------------------------------------------------------------------
    def _userfield(self, entity: str, name: str, user_type: str, label: str) -> None:
        where = msg("b24_deal" if entity == "deal" else "b24_company")
        what = msg("b24_userfield", entity=where, name=name, type=user_type)
        found = self._call(f"crm.{entity}.userfield.list", {"filter": {"FIELD_NAME": name}})
        existing = next(
            (f for f in _rows(found) if str(f.get("FIELD_NAME", "")).upper() == name), None
        )
        if existing is not None:
            kind = str(existing.get("USER_TYPE_ID"))
            if kind != user_type:
                self._report.add(what, State.CONFLICT, msg("b24_portal_type", type=kind))
            else:
                self._report.add(what, State.MATCHED, msg("b24_id", id=existing.get("ID")))
            return
        if not self._writes:
            self._report.add(what, State.MISSING)
            return
        fields = {
            "FIELD_NAME": name,
            "USER_TYPE_ID": user_type,
            "XML_ID": name,
            "EDIT_FORM_LABEL": {"ru": label, "en": label},
            "LIST_COLUMN_LABEL": {"ru": label, "en": label},
            "LIST_FILTER_LABEL": {"ru": label, "en": label},
        }
        created = self._call(f"crm.{entity}.userfield.add", {"fields": fields}, write=True)
        self._report.add(what, State.CREATED, msg("b24_id", id=created))

    # -- the universal list: only checked --------------------------------------------------
    def _list_fields(self, mirror: MirrorSettings) -> None:
        """Each field of ``bitrix24.mirror.fields`` must be a field of the list.

        Read with ``lists.field.get`` (a property's FIELD_ID is ``PROPERTY_<id>``);
        setup does not make list fields: the admin adds them in the list's settings.
        """
        where = {"IBLOCK_TYPE_ID": mirror.iblock_type}
        if mirror.iblock_id is not None:
            where["IBLOCK_ID"] = str(mirror.iblock_id)
        else:
            where["IBLOCK_CODE"] = str(mirror.iblock_code)
        found = self._call("lists.field.get", where)
        have = {str(key).upper() for key in found} if isinstance(found, Mapping) else set()
        if isinstance(found, Mapping):
            have |= {str(f.get("FIELD_ID", "")).upper() for f in _rows(list(found.values()))}
        name = mirror.iblock_id if mirror.iblock_id is not None else mirror.iblock_code
        for fact, code in mirror.fields.items():
            label = ru.FIELD_LABELS.get(fact, fact)
            what = msg("b24_list_field", list=name, code=code, label=label, fact=fact)
            if code.upper() in have:
                self._report.add(what, State.MATCHED)
            else:
                self._report.add(what, State.MISSING, msg("b24_add_in_list"), by_hand=True)
        self._report.notes.append(msg("b24_list_note"))

    # -- the smart process -----------------------------------------------------------------------
    def _register(self, mirror: MirrorSettings) -> None:
        type_id = mirror.entity_type_id
        assert type_id is not None
        what = msg("b24_smart_process", title=mirror.title, type_id=type_id)
        found = self._call("crm.type.list", {"filter": {"entityTypeId": type_id}})
        types = found.get("types") if isinstance(found, Mapping) else None
        record = next((t for t in types or [] if isinstance(t, Mapping)), None)
        if record is None:
            if not self._writes:
                self._report.add(what, State.MISSING)
                self._report.add(msg("b24_relations_and_stages"), State.MISSING)
                return
            record = self._create_type(mirror, type_id)
            self._report.add(what, State.CREATED, msg("b24_settings_id", id=record.get("id")))
        else:
            self._report.add(what, State.MATCHED, msg("b24_settings_id", id=record.get("id")))
            self._relations(record)
        self._stages(mirror, type_id)
        if record.get("id") is not None:
            self._register_fields(mirror, int(record["id"]))

    def _create_type(self, mirror: MirrorSettings, type_id: int) -> Mapping[str, Any]:
        fields = {
            "title": mirror.title,
            "entityTypeId": type_id,
            "isStagesEnabled": "Y",
            "isClientEnabled": "Y",
            "relations": {"parent": _parent_relations(), "child": []},
        }
        result = self._call("crm.type.add", {"fields": fields}, write=True)
        record = result.get("type") if isinstance(result, Mapping) else None
        return record if isinstance(record, Mapping) else {}

    def _relations(self, record: Mapping[str, Any]) -> None:
        raw = record.get("relations")
        relations: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        parents: dict[int, Mapping[str, Any]] = {
            int(r.get("entityTypeId") or 0): r
            for r in relations.get("parent") or []
            if isinstance(r, Mapping)
        }
        lacking = [
            name
            for type_id, name in _PARENTS.items()
            if parents.get(type_id, {}).get("isChildrenListEnabled") not in ("Y", True)
        ]
        what = msg("b24_relations")
        names = Joined(tuple(msg(key) for key in lacking), sep=", ")
        if not lacking:
            self._report.add(what, State.MATCHED)
        elif not self._writes:
            self._report.add(what, State.MISSING, msg("b24_relations_lacking", entities=names))
        else:
            merged = [r for t, r in parents.items() if t not in _PARENTS] + _parent_relations()
            fields = {"relations": {"parent": merged, "child": relations.get("child") or []}}
            self._call("crm.type.update", {"id": record.get("id"), "fields": fields}, write=True)
            self._report.add(what, State.CREATED, msg("b24_relations_added", entities=names))

    # -- the register's own fields (userfieldconfig) -----------------------------------------
    def _register_fields(self, mirror: MirrorSettings, settings_id: int) -> None:
        entity = f"CRM_{settings_id}"
        wanted = {f: c for f, c in mirror.fields.items() if c.upper().startswith("UF_CRM_")}
        if not wanted:
            wanted = {fact: f"UF_{entity}_EDO_{fact.upper()}" for fact in _DEFAULT_REGISTER}
            shown = ", ".join(f"{fact}: {code}" for fact, code in wanted.items())
            self._report.notes.append(msg("b24_register_fields_note", fields=shown))
        found = self._call(
            "userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": entity}}
        )
        rows = found.get("fields") if isinstance(found, Mapping) else found
        have = {str(r.get("fieldName")).upper(): r for r in _rows(rows)}
        for fact, code in wanted.items():
            self._register_field(entity, fact, code.upper(), have)

    def _register_field(
        self, entity: str, fact: str, code: str, have: Mapping[str, Mapping[str, Any]]
    ) -> None:
        user_type = _FACT_TYPES.get(fact, "string")
        label = ru.FIELD_LABELS.get(fact, fact)
        what = msg("b24_register_field", code=code, label=label, type=user_type)
        existing = have.get(code)
        if existing is not None:
            kind = str(existing.get("userTypeId"))
            state = State.MATCHED if kind == user_type else State.CONFLICT
            wrong = msg("b24_portal_type", type=kind)
            self._report.add(what, state, None if state is State.MATCHED else wrong)
        elif not code.startswith(f"UF_{entity}_"):
            self._report.add(what, State.CONFLICT, msg("b24_other_smart_process", entity=entity))
        elif not self._writes:
            self._report.add(what, State.MISSING)
        else:
            field = {
                "entityId": entity,
                "fieldName": code,
                "userTypeId": user_type,
                "editFormLabel": {"ru": label, "en": label},
            }
            self._call("userfieldconfig.add", {"moduleId": "crm", "field": field}, write=True)
            self._report.add(what, State.CREATED)

    def _stages(self, mirror: MirrorSettings, type_id: int) -> None:
        category = mirror.category_id or self._default_category(type_id)
        if category is None:
            self._report.add(msg("b24_stage_category"), State.MISSING)
            return
        if mirror.category_id is None:
            self._report.notes.append(msg("b24_category_note", category=category))
        entity = _register.stage_entity(type_id, category)
        rows = _rows(self._call("crm.status.list", {"filter": {"ENTITY_ID": entity}}))
        have = {str(r.get("STATUS_ID")): r for r in rows}
        for n, status in enumerate(Status):
            self._stage(entity, _register.stage_id(type_id, category, status), status, n, have)

    def _stage(
        self, entity: str, stage: str, status: Status, n: int, have: Mapping[str, Any]
    ) -> None:
        name = _register.stage_name(status)
        what = msg("b24_stage", name=name, stage=stage)
        if stage in have:
            self._report.add(what, State.MATCHED)
            return
        if not self._writes:
            self._report.add(what, State.MISSING)
            return
        fields = {"ENTITY_ID": entity, "STATUS_ID": stage, "NAME": name, "SORT": 100 + 10 * n}
        self._call("crm.status.add", {"fields": fields}, write=True)
        self._report.add(what, State.CREATED)

    def _default_category(self, type_id: int) -> int | None:
        found = self._call("crm.category.list", {"entityTypeId": type_id})
        rows = found.get("categories") if isinstance(found, Mapping) else None
        for row in rows or []:
            if isinstance(row, Mapping) and row.get("isDefault") in ("Y", True):
                return int(row["id"])
        return None

    def _call(self, method: str, params: Mapping[str, Any], *, write: bool = False) -> Any:
        assert self._writes or not write, f"{method} must not run in {self._mode} mode"
        return self._client.call(method, params, idempotent=not write).result


def _parent_relations() -> list[dict[str, Any]]:
    return [{"entityTypeId": t, "isChildrenListEnabled": "Y"} for t in _PARENTS]


def _rows(result: Any) -> list[Mapping[str, Any]]:
    return [r for r in result if isinstance(r, Mapping)] if isinstance(result, list) else []
