"""The one catalogue of admin-facing messages, in Russian (default) and English.

Admin-facing output — the CLI, its errors, the demo — goes through :func:`t`;
logs and developer docs stay in English. The language is chosen once at the
edge (``edo-rules --lang en``, or the ``EDO_RULES_LANG`` environment variable)
with :func:`set_language`; library code never guesses it.

A message is looked up by key; ``{name}`` fields are filled with
:meth:`str.format`. A key missing from the catalogue is a programming error
(``KeyError``), caught by the tests that render every command.

Library errors carry a :class:`Text` made by :func:`msg` instead of a string:
the key and the fields are kept, and the text is rendered only when it is
shown — in the language in force then. So one exception reads in Russian on
the admin's terminal and in English in the log (the log handler renders under
``in_language("en")``). The error texts live in :mod:`edo_rules._messages_errors`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

Lang = Literal["ru", "en"]
LANGUAGES: tuple[Lang, ...] = ("ru", "en")

_current: list[Lang] = []
# A temporary choice of one thread (the log handler's English), over the process's.
_override: ContextVar[Lang | None] = ContextVar("edo_rules_lang", default=None)


def language() -> Lang:
    """The language in force: set by :func:`set_language`, else ``EDO_RULES_LANG``, else ru."""
    override = _override.get()
    if override is not None:
        return override
    if _current:
        return _current[-1]
    wanted = os.environ.get("EDO_RULES_LANG", "ru").strip().lower()[:2]
    return "en" if wanted == "en" else "ru"


def set_language(lang: Lang | None) -> None:
    """Use ``lang`` for every later message (``None``: back to the environment's choice)."""
    _current.clear()
    if lang is not None:
        _current.append(lang)


@contextmanager
def in_language(lang: Lang) -> Iterator[None]:
    """Render in ``lang`` inside the block (this thread only), e.g. English for a log line."""
    token = _override.set(lang)
    try:
        yield
    finally:
        _override.reset(token)


def t(key: str, /, **values: object) -> str:
    """The message ``key`` in the current language, its ``{fields}`` filled from ``values``."""
    return Text(key, values).render()


@dataclass(frozen=True, slots=True)
class Text:
    """A message not yet rendered: its stable catalogue ``key`` and its fields.

    ``str()`` renders it in the language in force; a field that is itself a
    :class:`Text` (a hint inside an error, say) is rendered in the same language.
    """

    key: str
    params: Mapping[str, object]

    def render(self, lang: Lang | None = None) -> str:
        if lang is not None and lang != language():
            with in_language(lang):  # an exception among the fields renders in it too
                return self.render()
        lang = language()
        ru, en = CATALOGUE[self.key]
        text = en if lang == "en" else ru
        values = {
            name: value.render(lang) if isinstance(value, Text | Joined) else value
            for name, value in self.params.items()
        }
        return text.format(**values)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True, slots=True)
class Joined:
    """Parts (texts or plain strings) shown one after another, e.g. the optional parts of a name."""

    parts: tuple[Text | Joined | str, ...]
    sep: str = " "

    def render(self, lang: Lang | None = None) -> str:
        return self.sep.join(p if isinstance(p, str) else p.render(lang) for p in self.parts)

    def __str__(self) -> str:
        return self.render()


def reason(exc: BaseException) -> Text | str:
    """An exception's message kept unrendered when it is a :class:`Text` (for a wrapping text)."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Text) else str(exc)


def msg(key: str, /, **params: object) -> Text:
    """The message ``key`` with its fields, for an exception or a problem (rendered when shown).

    A key missing from the catalogue fails here, where the error is made.
    """
    if key not in CATALOGUE:
        raise KeyError(f"no message {key!r} in the catalogue")
    return Text(key, params)


#: key → (Russian, English). Grouped by where the message is shown.
CATALOGUE: dict[str, tuple[str, str]] = {
    # -- common ------------------------------------------------------------------------
    "error": ("edo-rules: ошибка: {message}", "edo-rules: error: {message}"),
    "interrupted": ("edo-rules: прервано", "edo-rules: interrupted"),
    "warning": ("edo-rules: предупреждение: {message}", "edo-rules: warning: {message}"),
    "no_store": (
        "нет хранилища {path}.\nЧто сделать: укажите --config ФАЙЛ или --store ПУТЬ, либо"
        " сначала выполните синхронизацию (она создаёт хранилище).",
        "no store at {path}.\nWhat to do: pass --config FILE or --store PATH, or run a sync"
        " first (it creates the store).",
    ),
    "no_config": (
        "нет файла конфигурации {path}.\nЧто сделать: укажите путь в --config или создайте"
        " его командой `edo-rules init`.",
        "no config file {path}.\nWhat to do: give its path in --config, or create one with"
        " `edo-rules init`.",
    ),
    "at_needs_dry_run": (
        "--at без --dry-run не выполняется: настоящий тик всегда идёт на текущий момент,"
        " иначе срабатывания были бы записаны задним (или будущим) числом.\nЧто сделать:"
        " добавьте --dry-run, чтобы посмотреть, что сработало бы в этот момент, или"
        " `edo-rules agenda`, чтобы увидеть план на ближайшие дни.",
        "--at is refused without --dry-run: a real tick always runs at the current moment,"
        " or its firings would be recorded at a false time.\nWhat to do: add --dry-run to see"
        " what would fire at that moment, or use `edo-rules agenda` for the coming days.",
    ),
    # -- documents by number -------------------------------------------------------------
    "doc_not_found": (
        "документ {ref!r} не найден в хранилище.\nЧто сделать: проверьте номер или id"
        " (`edo-rules docs --number …` ищет по номеру); новый документ появится после"
        " синхронизации.",
        "no document {ref!r} in the store.\nWhat to do: check the number or id"
        " (`edo-rules docs --number …` searches by number); a new document appears after"
        " a sync.",
    ),
    "doc_ambiguous": (
        "номеру {ref!r} соответствуют несколько документов:\n{found}\nЧто сделать: укажите"
        " id нужного документа (первый столбец).",
        "several documents have the number {ref!r}:\n{found}\nWhat to do: give the id of"
        " the one you mean (the first column).",
    ),
    "docs_none": ("документов не найдено", "no documents found"),
    "docs_count": ("найдено документов: {count}", "{count} document(s) found"),
    "docs_headers": (
        "id|номер|вид|дата|статус|контрагент|ИНН|сумма",
        "id|number|kind|date|status|counterparty|INN|amount",
    ),
    "docs_needs_filter": (
        "укажите, что искать: --number, --inn, --counterparty или --status (или --all).",
        "say what to look for: --number, --inn, --counterparty or --status (or --all).",
    ),
    # -- tick ----------------------------------------------------------------------------
    "tick_headers": ("правило|документ|ступень|срок|действия", "rule|document|step|due|actions"),
    "nothing_due": ("ничего не наступило", "nothing is due"),
    "skipped_catch_up": (
        "пропущено (догоняние): {rule} {doc} {step}",
        "skipped (catch-up): {rule} {doc} {step}",
    ),
    "failed_doc": ("ошибка: {rule} {doc}: {message}", "failed: {rule} {doc}: {message}"),
    "failed_rule": (
        "ошибка: {rule} на {count} док., первый {doc}: {message}",
        "failed: {rule} on {count} document(s), first {doc}: {message}",
    ),
    "tick_summary_dry": (
        "на {at}: сработало бы {fired}, действий {actions}, пропущено {skipped},"
        " документов с ошибкой {failed} (пробный прогон, ничего не записано)",
        "at {at}: {fired} firing(s) would fire (dry run, nothing recorded),"
        " {actions} action(s), {skipped} skipped, {failed} document(s) failed",
    ),
    "tick_summary_recorded": (
        "на {at}: сработало и записано {fired}, действий {actions}, пропущено {skipped},"
        " документов с ошибкой {failed}",
        "at {at}: {fired} firing(s) fired and recorded, {actions} action(s),"
        " {skipped} skipped, {failed} document(s) failed",
    ),
    "tick_partial": (
        "часть действий ждёт повтора: они будут отправлены на следующем тике (код выхода 3)",
        "some actions wait for a retry at the next tick (exit status 3)",
    ),
    "tick_failed": (
        "есть действия с ошибкой: `edo-rules outbox` покажет причину (код выхода 1)",
        "some actions failed: `edo-rules outbox` shows why (exit status 1)",
    ),
    # -- agenda --------------------------------------------------------------------------
    "agenda_day": ("{day}: {count}", "{day}: {count}"),
    "agenda_nothing": (
        "за {days} раб. дн. с {start} ничего не наступит",
        "nothing becomes due in {days} working day(s) from {start}",
    ),
    "agenda_summary": (
        "план на {days} раб. дн. ({start} … {end}): срабатываний {total}; хранилище не изменено",
        "agenda for {days} working day(s) ({start} … {end}): {total} firing(s);"
        " the store was not changed",
    ),
    # -- history -------------------------------------------------------------------------
    "history_head": (
        "{title} (id {id}): {status} ({status_1c})",
        "{title} (id {id}): {status} ({status_1c})",
    ),
    "history_counterparty": ("контрагент: {name}", "counterparty: {name}"),
    "history_inn": (", ИНН {inn}", ", INN {inn}"),
    "history_events": ("история статусов:", "status history:"),
    "history_no_events": ("история статусов: нет записей", "status history: none recorded"),
    "history_firing": (
        "{verb} {rule} {step} {at} (срок {due})",
        "{verb} {rule} {step} at {at} (due {due})",
    ),
    "history_no_titles": (
        "описания правил не показаны: в сценариях ошибок {count} (`edo-rules validate`)",
        "rule descriptions not shown: {count} problem(s) in the playbooks (`edo-rules validate`)",
    ),
    "fired": ("сработало", "fired"),
    "skipped": ("пропущено", "skipped"),
    "event_by": ("  кто: {actor}", "  by {actor}"),
    "event_history": ("  (история из первой синхронизации)", "  (history from the first sync)"),
    # -- snooze --------------------------------------------------------------------------
    "snooze_headers": (
        "id|документ|правило|до|состояние|причина",
        "id|document|rule|until|state|reason",
    ),
    "snooze_every_rule": ("(все правила)", "(every rule)"),
    "snooze_active": ("действует", "active"),
    "snooze_ended": ("закончилась", "ended"),
    "snooze_none": ("отсрочек нет", "no snoozes"),
    "snooze_none_active": ("действующих отсрочек нет", "no active snoozes"),
    "snooze_needs": (
        "для отсрочки нужны документ и длительность, например"
        ' `edo-rules snooze 183 --for "5 рабочих дней"` (или --list).',
        "snooze needs a document and a duration, e.g."
        ' `edo-rules snooze 183 --for "5 working days"` (or --list).',
    ),
    "snooze_scope_all": ("все правила", "every rule"),
    "snooze_scope_rule": ("правило {rule}", "rule {rule}"),
    "snoozed": (
        "отложено: {doc} ({scope}) до {until} (отсрочка #{id}); наступившее за это время"
        " выполнится, когда она закончится",
        "snoozed {doc} ({scope}) until {until} (snooze #{id}); what becomes due meanwhile"
        " fires when it ends",
    ),
    "unsnooze_was_over": ("она уже закончилась", "it had already ended"),
    "unsnoozed": (
        "закончена: отложенное выполнится на ближайшем тике",
        "ended: what it held back fires at the next tick",
    ),
    # -- simulate ------------------------------------------------------------------------
    "sim_nothing": ("ничего не срабатывает", "nothing fires"),
    "sim_summary": (
        "смоделировано моментов: {moments}, с {start} по {end}{scope}: срабатываний {total};"
        " хранилище не изменено",
        "simulated {moments} moment(s) from {start} to {end}{scope}: {total} firing(s);"
        " the store was not changed",
    ),
    "sim_scope": (" для документа {doc}", " for document {doc}"),
    "sim_fire": ("сработает", "fire"),
    "sim_skip": ("пропуск", "skip"),
    "sim_fail": ("ошибка", "fail"),
    "sim_due": ("срок {due}", "due {due}"),
    "sim_catch_up": ("(догоняние)", "(catch-up)"),
    # -- outbox --------------------------------------------------------------------------
    "outbox_empty": (
        "очередь пуста: все действия выполнены",
        "the outbox is empty: every action is done",
    ),
    "outbox_none_chosen": (
        "таких запросов в очереди нет",
        "no such requests in the outbox",
    ),
    "outbox_in_doubt": (
        "В СОМНЕНИИ — проверьте в Битрикс24, затем retry или drop",
        "IN DOUBT — check in Bitrix24, then retry or drop",
    ),
    "outbox_failed": ("С ОШИБКОЙ", "FAILED"),
    "outbox_in_flight": ("ОТПРАВЛЯЮТСЯ", "IN FLIGHT"),
    "outbox_pending": ("ОЖИДАЮТ", "PENDING"),
    "outbox_doc": ("док. {doc}", "doc {doc}"),
    "outbox_attempts": ("попыток {n}", "attempts {n}"),
    "outbox_next": ("следующая {at}", "next {at}"),
    "outbox_hint_doubt": (
        "В сомнении: найдите действие в Битрикс24 (`edo-rules outbox show ID`);\n"
        "  нет там → `edo-rules outbox retry ID`; есть → `edo-rules outbox drop ID`.",
        "In doubt: look for the action in Bitrix24 (see `edo-rules outbox show ID`);\n"
        "  not there → `edo-rules outbox retry ID`; there → `edo-rules outbox drop ID`.",
    ),
    "outbox_hint_failed": (
        "С ошибкой: устраните причину (выше), затем `edo-rules outbox retry --failed`.",
        "Failed: fix the cause shown above, then `edo-rules outbox retry --failed`.",
    ),
    "outbox_no_request": (
        "в очереди нет запроса #{id} (список: `edo-rules outbox`)",
        "no request #{id} in the outbox (list them with `edo-rules outbox`)",
    ),
    "outbox_say_which": (
        "укажите, какие запросы: ID, --failed или --in-doubt",
        "say which requests: IDs, --failed or --in-doubt",
    ),
    "outbox_left": (
        "#{id}: состояние {state}; оставлено как есть",
        "#{id}: is {state}; left as it is",
    ),
    "outbox_will_send": ("будет отправлено на следующем тике", "will be sent at the next tick"),
    "outbox_dropped": ("отменено", "dropped"),
    "outbox_state": (
        "  состояние: {state}; ключ идемпотентности: {idem}",
        "  state: {state}; idempotency key: {idem}",
    ),
    "outbox_created": ("  создан: {at}", "  created: {at}"),
    "outbox_params": ("  параметры: ", "  parameters: "),
    # -- emulate all / init --------------------------------------------------------------
    "emulate_ready": (
        "Эмуляторы запущены и связаны: 1С {onec}, Битрикс24 {b24}.\nГотовый конфиг записан"
        " в {config}:\n",
        "Both emulators are running and wired to each other: 1C {onec}, Bitrix24 {b24}.\n"
        "A ready config was written to {config}:\n",
    ),
    "emulate_try": (
        "Попробуйте в другом терминале:\n  edo-rules sync --config {config}\n"
        "  edo-rules tick --config {config} --dry-run\nОстановка: Ctrl-C.",
        "Try in another terminal:\n  edo-rules sync --config {config}\n"
        "  edo-rules tick --config {config} --dry-run\nStop with Ctrl-C.",
    ),
    "init_exists": (
        "{path} уже существует; ничего не перезаписано.\nЧто сделать: выберите другую папку"
        " (--dir) или добавьте --force.",
        "{path} already exists; nothing was overwritten.\nWhat to do: choose another folder"
        " (--dir) or add --force.",
    ),
    "init_done": (
        "Записано: {files}.\nДальше: поправьте {config} (раздел onec и bitrix24), затем\n"
        "  edo-rules validate --config {config}",
        "Written: {files}.\nNext: edit {config} (the onec and bitrix24 sections), then\n"
        "  edo-rules validate --config {config}",
    ),
}


# -- the engine's explain texts ---------------------------------------------------------
# The engine writes its arithmetic and condition details in English (developer
# facing, also in logs); the CLI shows them to admins through this table.
_ENGINE_RU: tuple[tuple[str, str], ...] = (
    (r"\bstatus changed\b", "статус изменён"),
    (r"\bsigned by the counterparty\b", "подписан контрагентом"),
    (r"\bsigned by us\b", "подписан нами"),
    (r"\bsent\b(?= \w{3} \d)", "отправлен"),
    (r"\brejected\b(?= \w{3} \d)", "отклонён"),
    (r"\brevoked\b(?= \w{3} \d)", "аннулирован"),
    (r"\bsynced\b(?= \w{3} \d)", "синхронизирован"),
    (r"outside working hours → delivered", "вне рабочего времени → доставка"),
    (r"\(working Saturday\)", "(рабочая суббота)"),
    (r"\(working Sunday\)", "(рабочее воскресенье)"),
    (r"→ (\S+) due ", r"→ \1: срок "),
    (r"→ due ", "→ срок "),
    (r"; repeat (\d+) ×", r"; повтор \1 ×"),
    (r"\bworking days?\b", "раб. дн."),
    (r"\b(\w+) is not set: the ladder has not started", r"\1 не задано: лестница не началась"),
    (r"\bthe due moments cannot be counted: ", "сроки не посчитать: "),
    (r"\b(\w+) not set, expected one of: ", r"\1 не задано, ожидается одно из: "),
    (r"\b(\w+) is (.+?), expected one of: ", r"\1 = \2, ожидается одно из: "),
    (r"\bamount not set, expected ", "amount не задано, ожидается "),
    (r"\bamount is (\S+), expected ", r"amount = \1, ожидается "),
    (r"\bwhere (.+) failed: ", r"where \1 — ошибка: "),
    (r": template failed: ", ": ошибка шаблона: "),
    (r"\bwhere (.+) is true$", r"where \1 — истина"),
    (r"\bwhere (.+) is false$", r"where \1 — ложь"),
    (r"\bMon\b", "пн"),
    (r"\bTue\b", "вт"),
    (r"\bWed\b", "ср"),
    (r"\bThu\b", "чт"),
    (r"\bFri\b", "пт"),
    (r"\bSat\b", "сб"),
    (r"\bSun\b", "вс"),
)


def error_text(text: str) -> str:
    """A library error's message for the admin: its fixed phrases in the current language.

    For the texts not yet in the catalogue (an error made with a plain string).
    """
    if language() == "en":
        return text
    return text.replace("What to do:", "Что сделать:")


def engine_text(text: str) -> str:
    """An engine explain text (arithmetic, a condition) in the current language."""
    if language() == "en":
        return text
    import re

    for pattern, replacement in _ENGINE_RU:
        text = re.sub(pattern, replacement, text)
    return text


CATALOGUE.update(
    {
        "explain_head": (
            "{title} (id {id}), статус {status}, контрагент {counterparty}; на {at}",
            "{title} (id {id}), status {status}, counterparty {counterparty}; at {at}",
        ),
        "explain_stats": (
            "статистика контрагента (ИНН {inn}): {signed}, отказов {rejections}",
            "counterparty.stats (ИНН {inn}): {signed}, rejections {rejections}",
        ),
        "explain_stats_none": ("подписей за 12 месяцев нет", "no signature in 12 months"),
        "explain_stats_signed": (
            "подписано {signed} за 12 месяцев, медиана {median:g} раб. дн., 90% — за {p90}",
            "signed {signed} in 12 months, median {median:g} working days, 90% within {p90}",
        ),
        "explain_match": ("  подходит: {verdict}", "  match: {verdict}"),
        "yes": ("да", "yes"),
        "no": ("нет", "no"),
        "explain_fired": ("сработало {at}", "fired at {at}"),
        "explain_skipped": ("пропущено (догоняние) {at}", "skipped (catch-up) at {at}"),
        "explain_due": ("наступило: сработает на ближайшем тике", "due: fires at the next tick"),
        "explain_due_skip": (
            "наступило, но наступила и следующая ступень: будет записано как пропущенное"
            " (догоняние)",
            "due, but a later step is due too: recorded as skipped (catch-up)",
        ),
        "explain_not_yet": ("ещё не наступило", "not yet due"),
        "explain_no_match": (
            "наступило, но документ не подходит под условия",
            "due, but the document does not match",
        ),
        "explain_held": (
            "задержано отсрочкой, сработает, когда она закончится",
            "held by the snooze, fires when it ends",
        ),
        "explain_snoozed": (
            "отложено до {until} (отсрочка #{id}{reason}): ничего не срабатывает до этого"
            " момента; наступившее за это время сработает, когда отсрочка закончится"
            " (по catch_up)",
            "snoozed until {until} (snooze #{id}{reason}): fires nothing until then; what"
            " becomes due meanwhile fires when the snooze ends (per catch_up)",
        ),
        "explain_event": (
            "  событие #{id} {at}: {change}: {state}",
            "  event #{id} {at}: {change}: {state}",
        ),
        "event_historical": (
            "история из первой синхронизации: не срабатывает",
            "history from the first sync: never fires",
        ),
        "event_before": (
            "записано до первого вычисления правила: не срабатывает",
            "recorded before the rule was first evaluated: never fires",
        ),
        "event_pending": ("сработает на ближайшем тике", "fires at the next tick"),
        "event_no_match": ("документ не подходит под условия", "the document does not match"),
        "explain_ledger": ("  журнал:", "  ledger:"),
        "explain_ledger_line": (
            "    {step}, эпизод {episode}: {verb} {at} (срок {due}, сценарий {hash})",
            "    {step} episode {episode}: {verb} at {at} (due {due}, playbook {hash})",
        ),
    }
)

CATALOGUE.update(
    {
        # -- sync ---------------------------------------------------------------------
        "sync_summary": (
            "синхронизация с 1С ({mode}): документов {documents}, новых событий {events},"
            " запросов {requests}",
            "1C sync ({mode}): {documents} documents, {events} new status events,"
            " {requests} requests",
        ),
        "sync_full": ("полная", "full"),
        "sync_incremental": ("изменения", "incremental"),
        "sync_unknown": (
            "неизвестные состояния 1С (сохранены как 'unknown'; сопоставьте их в onec.states):"
            " {states}",
            "unknown 1C states (stored as 'unknown'; map them under onec.states): {states}",
        ),
        "sync_unpublished": (
            "не опубликовано в 1С (пропущено): {sets}",
            "not published in 1C (skipped): {sets}",
        ),
        "sync_missing_fields": (
            "нет в этой публикации 1С (оставлено пустым): {fields}",
            "not in this 1C publication (left empty): {fields}",
        ),
        "sync_failed": (
            "ошибка 1С ×{count} (запрос повторён): {failure}",
            "1C failed {count}× (retried): {failure}",
        ),
        "sync_missing": (
            "документов в регистре состояний, которые не удалось прочитать: {count}",
            "documents in the state register but not readable: {count}",
        ),
        "sync_bar": (
            "1С: [{bar}] {share:4.0%} {done}/{total} документов",
            "1C: [{bar}] {share:4.0%} {done}/{total} documents",
        ),
        # -- validate -------------------------------------------------------------------
        "validate_ok": (
            "OK: файлов {files}, правил {rules}",
            "OK: {files} file(s), {rules} rule(s)",
        ),
        "validate_tests": (", файлов тестов {tests}", ", {tests} test file(s)"),
        "validate_ok_config": (
            "OK: {config} и файлов сценариев {files}, правил {rules}",
            "OK: {config} and {files} playbook file(s), {rules} rule(s)",
        ),
        "validate_problems": (
            "ошибок: {problems} в {bad} из {files} файлов",
            "{problems} problem(s) in {bad} of {files} file(s)",
        ),
        "validate_problems_config": (
            "ошибок: {problems} в файлах: {bad}",
            "{problems} problem(s) in {bad} file(s)",
        ),
        "validate_no_files": (
            "файлов сценариев не найдено (нужны *.yaml или *.yml)",
            "no playbook files found (expected *.yaml or *.yml)",
        ),
        "validate_usage": (
            "edo-rules validate: ошибка: укажите ПУТИ к сценариям или --config ФАЙЛ",
            "edo-rules validate: error: give playbook PATHs, or --config FILE",
        ),
        # -- the tick report --------------------------------------------------------------
        "tick_report": (
            "тик: синхронизировано документов {synced}, срабатываний {fired}, действия: {actions}"
            " ({seconds:.2f} с)",
            "tick: {synced} document(s) synced, {fired} firing(s), actions: {actions}"
            " ({seconds:.2f} s)",
        ),
        "tick_report_failed": ("; не удалось: {stages}", "; failed: {stages}"),
        "tick_report_docs_failed": (
            "; документов с ошибкой в правилах: {count} — {rules}",
            "; {count} document(s) failed: {rules}",
        ),
        "tick_nothing_to_send": ("отправлять нечего", "nothing to send"),
        "outcome_done": ("выполнено {n}", "{n} done"),
        "outcome_retry": ("ждут повтора {n}", "{n} retry"),
        "outcome_failed": ("с ошибкой {n}", "{n} failed"),
        "outcome_in_doubt": ("в сомнении {n}", "{n} in_doubt"),
        "tick_waiting": ("ждут в очереди {n}", "{n} waiting"),
        "prune_done": (
            "удалено завершённых документов, последнее состояние которых раньше {before}:"
            " {documents}; событий статусов {events}, срабатываний {firings}, запросов"
            " {requests}, результатов {outcomes}",
            "removed {documents} closed document(s) last changed before {before}: {events}"
            " status event(s), {firings} firing(s), {requests} request(s), {outcomes}"
            " outcome(s)",
        ),
        "prune_dry": (
            "удалил бы завершённых документов, последнее состояние которых раньше {before}:"
            " {documents}; событий статусов {events}, срабатываний {firings}, запросов"
            " {requests}, результатов {outcomes} (пробный прогон, ничего не удалено)",
            "would remove {documents} closed document(s) last changed before {before}:"
            " {events} status event(s), {firings} firing(s), {requests} request(s),"
            " {outcomes} outcome(s)",
        ),
        "prune_bad_days": (
            "--older-than {text!r}: укажите целые дни, например 365 или 365d",
            "--older-than {text!r}: give whole days, e.g. 365 or 365d",
        ),
        # -- validate, bitrix24 setup -------------------------------------------------------
        "validate_warning": ("предупреждение: {warning}", "warning: {warning}"),
        "b24_note": ("примечание: {note}", "note: {note}"),
        "b24_nothing_to_do": (
            "делать нечего: в портале уже есть всё, что нужно конфигу",
            "nothing to do: the portal already has everything the config needs",
        ),
        "b24_dry_run": (
            "пробный прогон: будет создано объектов: {count}; ничего не записано",
            "dry run: {count} object(s) would be created; nothing was written",
        ),
        "b24_portal_problems": (
            "в портале не хватает объектов: {count}; выполните `edo-rules bitrix24 setup`",
            "{count} problem(s) in the portal: run `edo-rules bitrix24 setup`",
        ),
        "b24_portal_problems_by_hand": (
            "в портале не хватает объектов: {count}; setup их не создаёт —"
            " добавьте их в Битрикс24, как сказано в каждой строке",
            "{count} problem(s) in the portal that setup does not create:"
            " add them in Bitrix24 as each line says",
        ),
        "b24_portal_ok": (
            "OK: в портале есть всё, что нужно конфигу",
            "OK: the portal has everything the config needs",
        ),
        # -- outbox retry of in-doubt requests (looked up first) ---------------------------
        "checked_done": (
            "уже есть в Битрикс24: отмечено выполненным, повторно не отправляется",
            "already in Bitrix24: recorded as done, not sent again",
        ),
        "checked_resend": (
            "в Битрикс24 не найдено: будет отправлено на следующем тике",
            "not found in Bitrix24: will be sent at the next tick",
        ),
        "checked_unchecked": (
            "Битрикс24 не ответил на проверку: запрос остаётся в сомнении, повторите позже",
            "Bitrix24 did not answer the check: left in doubt, try again later",
        ),
        "checked_needs_config": (
            "#{id} {action}: в сомнении; его можно найти в Битрикс24, поэтому повторите его с"
            " --config ФАЙЛ (сначала выполняется проверка), а не с --store",
            "#{id} {action}: in doubt; it can be looked up in Bitrix24, so retry it with"
            " --config FILE (the check runs first), not --store",
        ),
        "checked_no_action": (
            "#{id} {action}: такого действия нет в этом конфиге; оставлено как есть",
            "#{id} {action}: no such action in this config; left as is",
        ),
        # -- store copy, serve --------------------------------------------------------
        "copy_table": (
            "{table:16} {rows:>10} строк  sha256 {sha}  совпадает",
            "{table:16} {rows:>10} rows  sha256 {sha}  same",
        ),
        "copy_done": (
            "скопировано строк: {rows} в таблицах: {tables}; все контрольные суммы совпадают",
            "copied {rows} rows in {tables} tables; every checksum matches",
        ),
        "dashboard_at": ("панель: {url}", "dashboard: {url}"),
        # -- runners ----------------------------------------------------------------------
        "runners_headers": (
            "раннер|хост|pid|состояние|держит|отправляет|последний сигнал",
            "runner|host|pid|state|holds|claims|last seen",
        ),
        "runners_alive": ("жива", "alive"),
        "runners_silent": ("молчит", "silent"),
        "runners_none": (
            "в хранилище не зарегистрирован ни один раннер",
            "no runner is registered in the store",
        ),
        # -- edo-rules test --------------------------------------------------------------
        "test_failure": ("{file}:{line}: на {at}: {message}", "{file}:{line}: at {at}: {message}"),
        "test_explain": ("объяснение {doc}:", "explain {doc}:"),
        "test_expected_fired": (
            "ожидалось срабатывание {expected}, получено {got}",
            "expected fired {expected}, got {got}",
        ),
        "test_expected_skipped": (
            "ожидался пропуск {expected}, получено {got}",
            "expected skipped {expected}, got {got}",
        ),
        "test_nothing": ("[] (ничего)", "[] (nothing)"),
        "test_rule_failed": (
            "{rule}: ошибка на документе {doc}: {message}",
            "{rule} failed for {doc}: {message}",
        ),
        "test_expected_actions": (
            "ожидалось действий {expected}, получено {got}; они различаются",
            "expected {expected} action(s), got {got}; they differ",
        ),
        "test_missing": ("не хватает: {action}", "missing: {action}"),
        "test_unexpected": ("лишнее: {action}", "unexpected: {action}"),
        "test_requested": ("запрошено: {action}", "requested: {action}"),
        "test_request": ("{action} для {doc}", "{action} for {doc}"),
        "test_to": ("получателю {user}", "to {user}"),
        "test_document": ("документ {doc}", "document {doc}"),
        "test_text_containing": ("текст содержит {text!r}", "text containing {text!r}"),
        "test_params": ("параметры {params}", "params {params}"),
        "test_ok": ("ок     {file}: проверок {count}", "ok   {file}: {count} expectation(s)"),
        "test_fail": ("ОШИБКА {file}: проверок {count}", "FAIL {file}: {count} expectation(s)"),
        "test_not_loading": (
            "ОШИБКА {file}: тест или его сценарии не загружаются",
            "FAIL {file}: the test or its playbooks do not load",
        ),
        "test_error": ("ОШИБКА {file}: {message}", "FAIL {file}: {message}"),
        "test_summary": (
            "прошло тестов: {passed}, не прошло: {failed}",
            "{passed} passed, {failed} failed",
        ),
        "test_no_files": (
            "файлов тестов не найдено (нужны *.yaml или *.yml)",
            "no test files found (expected *.yaml or *.yml)",
        ),
        # -- option values the parser refuses (shown after «аргумент --x:») -----------------
        "cli_days_range": (
            "{text!r}: укажите целое число от 1 до 250",
            "{text!r}: give a whole number from 1 to 250",
        ),
        "cli_bad_day": (
            "{text!r} — не дата (ожидается, например, 2024-04-26)",
            "{text!r} is not a date (expected e.g. 2024-04-26)",
        ),
        "cli_at_least_one": (
            "{text!r}: нужно целое число не меньше 1",
            "{text!r}: must be at least 1",
        ),
    }
)

from edo_rules._messages_errors import ERRORS  # noqa: E402  (the errors' part of the catalogue)
from edo_rules._messages_reports import REPORTS  # noqa: E402  (diff, bitrix24 setup)


def _merge(part: dict[str, tuple[str, str]]) -> None:
    """Add a part of the catalogue; a key defined twice would silently hide one text."""
    twice = CATALOGUE.keys() & part.keys()
    if twice:
        raise KeyError(f"keys defined twice in the message catalogue: {sorted(twice)}")
    CATALOGUE.update(part)


_merge(ERRORS)
_merge(REPORTS)
