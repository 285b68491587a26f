"""The reports' part of the message catalogue (merged into ``CATALOGUE``).

key → (Russian, English): ``edo-rules diff`` (what a playbook edit changes) and
``edo-rules bitrix24 setup`` / ``validate --online`` (what the portal lacks).
The runner's hot-reload log line renders the diff's summary under English.
Names the admin wrote (rule ids, steps, ``since``, ``catch_up``, ``after``) and
the portal's own words (field labels, stage names) are fields, never translated.
"""

from __future__ import annotations

REPORTS: dict[str, tuple[str, str]] = {
    # -- edo-rules diff ----------------------------------------------------------------------
    "diff_simulated": (
        "обе версии смоделированы в {count} моментах, с {first} по {last}",
        "simulated {count} moment(s) from {first} to {last} for both versions",
    ),
    "diff_unchanged": (
        "изменений нет: обе версии делают одно и то же",
        "no change: both versions do the same",
    ),
    "diff_section": ("{title} ({count}):", "{title} ({count}):"),
    "diff_rules": ("правила", "rules"),
    "diff_added": ("добавлено", "added"),
    "diff_removed": ("убрано", "removed"),
    "diff_moved": ("перенесено", "moved"),
    "diff_other_params": ("другие параметры", "other parameters"),
    "diff_replayed": (
        "повторно (уже сделано под прежним id правила, будет сделано снова)",
        "replayed (already done under the old rule id, done again)",
    ),
    "diff_skipped": (
        "пропущено (новая версия запишет как пропущенное по catch_up, не отправит)",
        "skipped (recorded as skipped by the new version's catch-up, never sent)",
    ),
    "diff_per_rule": ("по правилам", "per rule"),
    "diff_per_recipient": ("по получателям", "per recipient"),
    "diff_no_recipient": ("(без получателя)", "(none)"),
    "diff_was": ("было {params}", "was {params}"),
    "diff_now": ("стало {params}", "now {params}"),
    "diff_summary_none": (
        "в действиях ближайших дней ничего не меняется",
        "no change in the actions of the coming days",
    ),
    "diff_summary": (
        "правил изменено: {rules}; действия ближайших дней: добавлено +{added},"
        " убрано -{removed}, перенесено {moved}, с другими параметрами {changed},"
        " повторно {replayed}, пропущено {skipped}",
        "rules: {rules} changed; actions in the coming days: +{added} added,"
        " -{removed} removed, {moved} moved, {changed} with other parameters,"
        " {replayed} replayed, {skipped} skipped",
    ),
    # how a rule changed: the mark (+ - ~ >) is shown before the rule, the word after it
    "diff_rule_added": ("добавлено", "added"),
    "diff_rule_removed": ("удалено", "removed"),
    "diff_rule_changed": ("изменено", "changed"),
    "diff_rule_renamed": ("переименовано", "renamed"),
    "diff_renamed_from": ("прежний id {rule}", "renamed from {rule}"),
    "diff_replay_note": (
        "его срабатывания не переносятся: уже обработанные документы будут обработаны снова",
        "its firings do not carry over: documents already handled are handled again",
    ),
    "diff_new_ladder": (
        "новая лестница: документы, уже прошедшие ступень, получат её по catch_up {policy}",
        "a new ladder: documents already past a step get it by catch-up {policy}",
    ),
    "diff_new_status_rule": (
        "срабатывает на смены статуса, записанные с этого момента",
        "fires for status events recorded from now on",
    ),
    "diff_trigger_kind": (
        "триггер сменился: лестница по времени ↔ смена статуса",
        "the trigger changed between a time ladder and a status change",
    ),
    "diff_actions_or_match": (
        "изменились действия или match",
        "actions or match changed",
    ),
    "diff_actions_match_repeat": (
        "изменились действия, match или repeat",
        "actions, match or repeat changed",
    ),
    "diff_since": (
        "since: {old} → {new} (новые эпизоды: лестницы начнутся заново)",
        "since: {old} → {new} (new episodes: ladders start again)",
    ),
    "diff_new_step": (
        "новая ступень {step} через {after} (сработает для документов, уже прошедших её)",
        "new step {step} after {after} (fires for documents past it)",
    ),
    "diff_setting": ("{name}: {old} → {new}", "{name}: {old} → {new}"),
    "diff_step_removed": ("ступень {step} удалена", "step {step} removed"),
    "diff_step_after": (
        "{step}: срок {old} → {new}",
        "{step}: after {old} → {new}",
    ),
    # -- edo-rules bitrix24 setup / validate --online -----------------------------------------
    "b24_state_matched": ("уже есть", "present"),
    "b24_state_created": ("создано", "created"),
    "b24_state_missing": ("нет", "missing"),
    "b24_state_conflict": ("не совпадает", "differs"),
    "b24_deal": ("сделки", "deal"),
    "b24_company": ("компании", "company"),
    "b24_parent_deals": ("сделки", "deals"),
    "b24_parent_companies": ("компании", "companies"),
    "b24_userfield": ("поле {entity} {name} ({type})", "{entity} field {name} ({type})"),
    "b24_portal_type": ("в портале тип {type}", "the portal has type {type}"),
    "b24_id": ("ID {id}", "ID {id}"),
    "b24_settings_id": ("настройки ID {id}", "settings ID {id}"),
    "b24_list_field": (
        "поле списка {list} {code} «{label}» ({fact})",
        "list {list} field {code} «{label}» ({fact})",
    ),
    "b24_add_in_list": (
        "добавьте его в настройках списка",
        "add it in the list's settings",
    ),
    "b24_list_note": (
        "реестр — универсальный список: его поля setup проверяет, но не создаёт"
        " (docs/bitrix24.md, раздел 7); смарт-процесс (target: smart_process)"
        " setup создаёт целиком",
        "the register is a universal list: setup checks its fields but does not create"
        " them (docs/bitrix24.md, section 7); a smart process (target: smart_process)"
        " setup creates whole",
    ),
    "b24_nothing_configured": (
        "в конфигурации нет bitrix24.card и bitrix24.mirror (target: smart_process):"
        " создавать нечего",
        "the config has no bitrix24.card and no bitrix24.mirror (target: smart_process):"
        " nothing to create",
    ),
    "b24_smart_process": (
        "смарт-процесс «{title}» (entityTypeId {type_id})",
        "smart process «{title}» (entityTypeId {type_id})",
    ),
    "b24_relations_and_stages": (
        "привязка к сделкам и компаниям, стадии по статусам",
        "links to deals and companies, stages by status",
    ),
    "b24_relations": (
        "список документов в карточке сделки и компании (связь parent)",
        "the documents' list in the deal and company cards (parent relation)",
    ),
    "b24_relations_lacking": ("нет для {entities}", "lacking for {entities}"),
    "b24_relations_added": ("добавлено для {entities}", "added for {entities}"),
    "b24_register_fields_note": (
        "поля реестра для bitrix24.mirror.fields: {{{fields}}}",
        "the register's fields for bitrix24.mirror.fields: {{{fields}}}",
    ),
    "b24_register_field": (
        "поле реестра {code} «{label}» ({type})",
        "register field {code} «{label}» ({type})",
    ),
    "b24_other_smart_process": (
        "поле другого смарт-процесса, не {entity}",
        "a field of another smart process, not {entity}",
    ),
    "b24_stage_category": (
        "направление смарт-процесса для стадий",
        "the smart process's category for the stages",
    ),
    "b24_category_note": (
        "укажите bitrix24.mirror.category_id: {category}, чтобы документы вставали"
        " на стадию своего статуса",
        "set bitrix24.mirror.category_id: {category} so that documents move to"
        " their status's stage",
    ),
    "b24_stage": ("стадия «{name}» ({stage})", "stage «{name}» ({stage})"),
}
