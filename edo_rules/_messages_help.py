"""The Russian of the command line's help: every ``--help`` text, keyed by its English.

The code writes a help text in English, as argparse expects; the help formatter
(:mod:`edo_rules.cli._parser`) shows it through this table when the language is
Russian — gettext's way, which argparse itself follows for its own words. So a
command module stays readable, and ``tests/test_cli_help.py`` walks every parser
to check each text has its Russian here.
"""

from __future__ import annotations

#: argparse's own words (its gettext message ids) → Russian.
ARGPARSE_RU: dict[str, str] = {
    "usage: ": "использование: ",
    "positional arguments": "позиционные аргументы",
    "options": "параметры",
    "show this help message and exit": "показать эту справку и выйти",
    "show program's version number and exit": "показать версию и выйти",
    "%(prog)s: error: %(message)s\n": "%(prog)s: ошибка: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "аргумент %(argument_name)s: %(message)s",
    "unrecognized arguments: %s": "неизвестные аргументы: %s",
    "the following arguments are required: %s": "не указаны обязательные аргументы: %s",
    "one of the arguments %s is required": "нужен один из аргументов: %s",
    "not allowed with argument %s": "нельзя указывать вместе с %s",
    "ignored explicit argument %r": "лишнее значение %r",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "недопустимое значение: %(value)r (допустимы: %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "недопустимое значение (%(type)s): %(value)r",
    "expected one argument": "нужно одно значение",
    "expected at most one argument": "нужно не больше одного значения",
    "expected at least one argument": "нужно хотя бы одно значение",
    "expected %s argument": "нужно значений: %s",
    "expected %s arguments": "нужно значений: %s",
    "ambiguous option: %(option)s could match %(matches)s": (
        "неоднозначный параметр: %(option)s может означать %(matches)s"
    ),
    "unexpected option string: %s": "неожиданный параметр: %s",
    "can't open '%(filename)s': %(error)s": "не открыть «%(filename)s»: %(error)s",
}

#: The help texts of ``edo-rules`` and its commands (English → Russian).
HELP_RU: dict[str, str] = {
    # -- edo-rules ------------------------------------------------------------------------
    "Keep Bitrix24 CRM users on top of EDO signing.": (
        "Напоминания и задачи в Битрикс24 о подписании документов ЭДО."
    ),
    "the language of the output: ru (default) or en; also EDO_RULES_LANG": (
        "язык вывода: ru (по умолчанию) или en; также переменная EDO_RULES_LANG"
    ),
    "ru (default) or en": "ru (по умолчанию) или en",
    "COMMAND": "КОМАНДА",
    "ACTION": "ДЕЙСТВИЕ",
    # -- the commands, as listed ----------------------------------------------------------
    "watch a simulated month: 1C and Bitrix24 emulators, the bundled playbooks": (
        "показать смоделированный месяц: эмуляторы 1С и Битрикс24, готовые сценарии"
    ),
    "run the service: tick on the schedule until stopped (SIGTERM/Ctrl-C)": (
        "запустить службу: тики по расписанию до остановки (SIGTERM/Ctrl-C)"
    ),
    "one tick of the service, or (--dry-run) what would fire now or --at": (
        "один тик службы или (--dry-run) что сработало бы сейчас или в момент --at"
    ),
    "run the playbooks over a date range on a copy of the store (a timeline)": (
        "прогнать сценарии за период на копии хранилища (хронология)"
    ),
    "what a playbook edit changes: both versions simulated over the store": (
        "что изменит правка сценариев: обе версии моделируются на хранилище"
    ),
    "sync EDO documents and their states from 1C into the store": (
        "загрузить документы ЭДО и их состояния из 1С в хранилище"
    ),
    "check playbooks (files or folders of *.yaml/*.yml) and list every problem": (
        "проверить сценарии (файлы или папки *.yaml/*.yml) и перечислить все ошибки"
    ),
    "run playbook tests: scenarios in YAML with expected firings and actions": (
        "выполнить тесты сценариев: YAML с ожидаемыми срабатываниями и действиями"
    ),
    "explain, for one document, why each rule fires or not": (
        "объяснить для одного документа, почему каждое правило срабатывает или нет"
    ),
    "show a document's status history and what fired for it": (
        "показать историю статусов документа и срабатывания по нему"
    ),
    "pause a document (for one rule or all) for N working days; --list the snoozes": (
        "отложить документ (для одного правила или всех) на N рабочих дней;"
        " --list — список отсрочек"
    ),
    "end a snooze early (ids: `edo-rules snooze --list`)": (
        "досрочно закончить отсрочку (номера: `edo-rules snooze --list`)"
    ),
    "list pending, failed and in-doubt action requests; retry or drop them": (
        "запросы действий: ожидающие, с ошибкой и в сомнении; повторить или отменить их"
    ),
    "show the production calendar for a year, or check one date": (
        "показать производственный календарь на год или проверить одну дату"
    ),
    "run the 1C OData and/or Bitrix24 REST emulator on 127.0.0.1": (
        "запустить эмулятор 1С OData и/или Битрикс24 REST на 127.0.0.1"
    ),
    "prepare the Bitrix24 portal: card fields, the document register": (
        "подготовить портал Битрикс24: поля карточки, реестр документов"
    ),
    "preview what the first real tick would send (nothing is recorded)": (
        "посмотреть, что отправит первый настоящий тик (ничего не записывается)"
    ),
    "what will fire in the next N working days, day by day": (
        "что сработает в ближайшие N рабочих дней, по дням"
    ),
    "find documents by number, ИНН, counterparty or status": (
        "найти документы по номеру, ИНН, контрагенту или статусу"
    ),
    "write a commented edo-rules.yaml, secrets.env and playbooks/ to start from": (
        "создать для начала edo-rules.yaml с комментариями, secrets.env и playbooks/"
    ),
    "serve the web dashboard alone, read-only over the store": (
        "запустить только веб-панель (хранилище только читается)"
    ),
    "print unsigned/overdue/time-to-sign by manager, company or kind": (
        "неподписанные, просроченные и сроки подписания по менеджерам, компаниям или видам"
    ),
    "maintain the store: migrate a PostgreSQL schema, prune old documents,"
    " copy SQLite into PostgreSQL": (
        "обслуживание хранилища: миграция схемы PostgreSQL, удаление старых документов,"
        " копирование SQLite в PostgreSQL"
    ),
    "list the runners sharing the PostgreSQL store, what each holds": (
        "службы, работающие с общим хранилищем PostgreSQL, и что держит каждая"
    ),
    # -- shared options -------------------------------------------------------------------
    "the config file (default: ./edo-rules.yaml when present); its store, timezone,"
    " calendar override and playbooks are used": (
        "файл конфигурации (по умолчанию ./edo-rules.yaml, если есть); из него берутся"
        " хранилище, часовой пояс, поправки календаря и сценарии"
    ),
    "FILE": "ФАЙЛ",
    "PATH": "ПУТЬ",
    "DIR": "ПАПКА",
    "N": "N",
    "ISO": "ISO",
    "DATE": "ДАТА",
    "DURATION": "ДЛИТЕЛЬНОСТЬ",
    "DOC": "ДОК",
    "TEXT": "ТЕКСТ",
    "ID": "ID",
    "REF": "REF",
    "ИНН": "ИНН",
    "DAYS": "ДНИ",
    "OLD": "СТАРЫЕ",
    "NEW": "НОВЫЕ",
    "HOST:PORT": "ХОСТ:ПОРТ",
    "DAYS_PER_SECOND": "ДНЕЙ_В_СЕКУНДУ",
    "PLAYBOOK/RULE": "СЦЕНАРИЙ/ПРАВИЛО",
    "YYYY-MM-DD": "ГГГГ-ММ-ДД",
    "edo-rules.yaml": "edo-rules.yaml",
    "sqlite:///PATH": "sqlite:///ПУТЬ",
    "postgresql://…": "postgresql://…",
    "SEED": "ЧИСЛО",
    "INN": "ИНН",
    "DEAL": "СДЕЛКА",
    "MANAGER": "МЕНЕДЖЕР",
    "WEEK_HOURS": "ЧАСЫ",
    "what": "ЧТО",
    "date": "ДАТА",
    "id": "ID",
    "args": "ПАРАМЕТРЫ",
    "a SQLite store file instead of the config's (default: ./edo-rules.db)": (
        "файл хранилища SQLite вместо указанного в конфигурации (по умолчанию ./edo-rules.db)"
    ),
    "a playbook file or folder instead of the config's (default: ./playbooks)": (
        "файл или папка сценариев вместо указанных в конфигурации (по умолчанию ./playbooks)"
    ),
    "this moment instead of now, e.g. 2026-12-07T09:30 (without an offset: in the"
    " config's timezone)": (
        "этот момент вместо текущего, например 2026-12-07T09:30 (без смещения — в часовом"
        " поясе конфигурации)"
    ),
    "print JSON instead of a table": "вывести JSON вместо таблицы",
    "print JSON instead of a timeline": "вывести JSON вместо хронологии",
    "print JSON instead of text": "вывести JSON вместо текста",
    "log lines as readable text (default) or one JSON object per line": (
        "строки журнала — читаемый текст (по умолчанию) или один объект JSON на строку"
    ),
    "the least important level logged (default: info, or logging.level)": (
        "наименее важный уровень в журнале (по умолчанию info или logging.level)"
    ),
    # -- demo -----------------------------------------------------------------------------
    "Start the 1C and Bitrix24 emulators on 127.0.0.1, seed a company (managers in"
    " departments, customers with ИНН and deals), and run the bundled playbooks over"
    " simulated working days: every day 1C sends documents and customers sign, reject or"
    " stay silent; the timeline shows which rules fired and what was done in Bitrix24."
    " Takes well under a minute; nothing leaves this machine.": (
        "Запускает эмуляторы 1С и Битрикс24 на 127.0.0.1, заполняет компанию (менеджеры"
        " в отделах, клиенты с ИНН и сделками) и прогоняет готовые сценарии по"
        " смоделированным рабочим дням: каждый день 1С отправляет документы, а клиенты"
        " подписывают, отклоняют или молчат; хронология показывает, какие правила сработали"
        " и что сделано в Битрикс24. Занимает меньше минуты; ничего не покидает эту машину."
    ),
    "working days to simulate (default: 22)": "сколько рабочих дней моделировать (по умолчанию 22)",
    "random seed: the same seed replays the same month": (
        "начальное значение случайных чисел: с тем же значением повторяется тот же месяц"
    ),
    "simulated days per second, to watch it unfold (default: 0, as fast as possible)": (
        "смоделированных дней в секунду, чтобы следить за ходом (по умолчанию 0 — как"
        " можно быстрее)"
    ),
    "keep the SQLite store (and the demo's config) here instead of a temporary folder": (
        "сохранить хранилище SQLite (и конфигурацию демо) здесь, а не во временной папке"
    ),
    "also log the runner's own messages at this level (default: error)": (
        "выводить и собственные сообщения службы с этого уровня (по умолчанию error)"
    ),
    "after the month, keep the web dashboard open on the demo's data and print its URL"
    " (default 127.0.0.1:8080; stop with Ctrl-C)": (
        "после месяца оставить веб-панель с данными демо открытой и вывести её адрес"
        " (по умолчанию 127.0.0.1:8080; остановка — Ctrl-C)"
    ),
    # -- run ------------------------------------------------------------------------------
    "Run edo-rules as a service: every tick syncs documents from 1C, evaluates the"
    " playbooks and carries out the due actions in Bitrix24. Playbooks are reloaded when"
    " their files change (a broken version is refused and the running one stays). Stop"
    " with SIGTERM or Ctrl-C: the batch in flight is finished.": (
        "Запускает edo-rules как службу: каждый тик загружает документы из 1С, вычисляет"
        " сценарии и выполняет наступившие действия в Битрикс24. Сценарии перечитываются"
        " при изменении файлов (ошибочная версия отклоняется, работает прежняя). Остановка —"
        " SIGTERM или Ctrl-C: начатая пачка доводится до конца."
    ),
    "serve POST /sync, GET /healthz and GET /metrics here (overrides http.listen)": (
        "адрес для POST /sync, GET /healthz и GET /metrics (вместо http.listen)"
    ),
    "stop after N ticks (for tests and trials; default: run until stopped)": (
        "остановиться после N тиков (для тестов и проб; по умолчанию — до остановки)"
    ),
    # -- tick -----------------------------------------------------------------------------
    "With a config: one whole tick (sync → evaluate → dispatch). With --dry-run: evaluate"
    " the playbooks at now (or --at) and print what would fire, recording nothing. Exit"
    " status: 0 all done, 1 failed, 3 retry pending.": (
        "С конфигурацией — один полный тик (синхронизация → вычисление → отправка)."
        " С --dry-run — вычислить сценарии на текущий момент (или --at) и показать, что"
        " сработало бы, ничего не записывая. Код выхода: 0 — всё выполнено, 1 — ошибка,"
        " 3 — ждут повтора."
    ),
    "compute the firings without recording them": "вычислить срабатывания, не записывая их",
    # -- simulate -------------------------------------------------------------------------
    "Evaluate the playbooks at successive moments from --from to --to (every day at 09:00"
    " in the config's timezone, or --every) on a temporary copy of the store, as the"
    " service would tick, and print what fires day by day. The store itself is never"
    " written.": (
        "Вычисляет сценарии в последовательные моменты с --from по --to (каждый день"
        " в 09:00 по часовому поясу конфигурации или с шагом --every) на временной копии"
        " хранилища, как это делала бы служба, и показывает срабатывания по дням. Само"
        " хранилище не изменяется."
    ),
    "first day": "первый день",
    "last day": "последний день",
    'the step: "1 day" (at 09:00, the default), "1 working day", "1 hour", …': (
        "шаг: «1 день» (в 09:00, по умолчанию), «1 рабочий день», «1 час», …"
    ),
    "show only this document (its number or id)": "только этот документ (номер или id)",
    # -- diff -----------------------------------------------------------------------------
    "Compare two versions of the playbooks (files or folders) over the documents in the"
    " store: both are simulated now and every day at 09:00 for the next --days working"
    " days on scratch copies (the store is not written).": (
        "Сравнивает две версии сценариев (файлы или папки) на документах хранилища: обе"
        " моделируются сейчас и каждый день в 09:00 на ближайшие --days рабочих дней"
        " на черновых копиях (хранилище не изменяется)."
    ),
    "the running playbooks (a file or a folder)": "действующие сценарии (файл или папка)",
    "the edited playbooks (a file or a folder)": "изменённые сценарии (файл или папка)",
    "working days ahead (default 10)": "рабочих дней вперёд (по умолчанию 10)",
    # -- sync -----------------------------------------------------------------------------
    "Read 1С:Бухгалтерия over OData (the onec section of the config) into the store: the"
    " first run loads everything (its events are history), later runs only what changed."
    " The password comes from the environment variable named in the config.": (
        "Читает 1С:Бухгалтерию по OData (раздел onec конфигурации) в хранилище: первый"
        " запуск загружает всё (его события — история), следующие — только изменения."
        " Пароль берётся из переменной окружения, названной в конфигурации."
    ),
    "re-read everything (changes found become history)": (
        "перечитать всё (найденные изменения становятся историей)"
    ),
    "re-read just this 1C document (its Ref_Key; repeatable), then evaluate and dispatch"
    " as a tick does": (
        "перечитать только этот документ 1С (его Ref_Key; можно несколько раз), затем"
        " вычислить и отправить, как тик"
    ),
    "re-read the documents of the counterparty with this INN, then a tick": (
        "перечитать документы контрагента с этим ИНН, затем тик"
    ),
    "re-read the documents bound to this Bitrix24 deal, then a tick": (
        "перечитать документы, связанные с этой сделкой Битрикс24, затем тик"
    ),
    "show a progress bar for the full load (default: only on a terminal)": (
        "показывать ход полной загрузки (по умолчанию — только в терминале)"
    ),
    # -- validate -------------------------------------------------------------------------
    "Check playbooks without running them: YAML syntax, the schema, durations,"
    " expressions, templates, actions and their parameters, duplicate rule ids. Every"
    " problem is printed as file:line:col: path: message.": (
        "Проверяет сценарии, не выполняя их: синтаксис YAML, схему, длительности,"
        " выражения, шаблоны, действия и их параметры, повторы id правил. Каждая ошибка"
        " выводится как файл:строка:столбец: путь: сообщение."
    ),
    "a playbook file or a folder": "файл сценариев или папка",
    "also check this config file, with the playbooks it names (without PATHs:"
    " ./edo-rules.yaml when present)": (
        "проверить и этот файл конфигурации вместе с названными в нём сценариями (без"
        " ПУТЕЙ — ./edo-rules.yaml, если есть)"
    ),
    "with --config: also check the Bitrix24 portal has the fields and the smart process"
    " the config needs (reads only; see `edo-rules bitrix24 setup`)": (
        "с --config — проверить и то, что в портале Битрикс24 есть нужные конфигурации"
        " поля и смарт-процесс (только чтение; см. `edo-rules bitrix24 setup`)"
    ),
    # -- test -----------------------------------------------------------------------------
    "Run playbook tests (see docs/playbooks.md, «Тесты плейбуков»): each file gives"
    " documents, status changes and what must fire at given moments; the engine runs on a"
    " scratch store with no network. Folders are searched for *.yaml/*.yml.": (
        "Выполняет тесты сценариев (см. docs/playbooks.md, «Тесты плейбуков»): в каждом"
        " файле — документы, смены статусов и что должно сработать в заданные моменты;"
        " движок работает на черновом хранилище без сети. В папках ищутся *.yaml/*.yml."
    ),
    "a test file or a folder": "файл тестов или папка",
    # -- explain, history -----------------------------------------------------------------
    "For every rule: whether the document matches (and which condition fails, with the"
    " values), each step's due moment with the working-day arithmetic, and what already"
    " fired. Reads only; records nothing.": (
        "Для каждого правила: подходит ли документ (и какое условие не выполнено,"
        " со значениями), срок каждой ступени с расчётом рабочих дней и что уже сработало."
        " Только чтение; ничего не записывается."
    ),
    "the document: its number («Договор № 183», 183) or id": (
        "документ: его номер («Договор № 183», 183) или id"
    ),
    "Print the document's status events, oldest first (events of the first sync are"
    " marked as history), and every firing recorded for it.": (
        "Выводит события статусов документа, от старых к новым (события первой"
        " синхронизации помечены как история), и все записанные по нему срабатывания."
    ),
    # -- snooze, unsnooze -----------------------------------------------------------------
    "While a snooze is active the engine fires nothing for the document (for --rule only,"
    " or for every rule). What becomes due meanwhile fires when the snooze ends, per the"
    " rule's catch_up, as after downtime. `edo-rules unsnooze ID` ends a snooze early.": (
        "Пока отсрочка действует, по документу ничего не срабатывает (только для --rule"
        " или для всех правил). Наступившее за это время сработает, когда отсрочка"
        " закончится, по catch_up правила — как после простоя. `edo-rules unsnooze ID`"
        " заканчивает отсрочку досрочно."
    ),
    "the document: its number or id": "документ: его номер или id",
    'how long: "5 working days", "3 рабочих дня", "2 days", "4 hours"': (
        "на сколько: «5 рабочих дней», «3 working days», «2 дня», «4 часа»"
    ),
    "snooze only this rule": "отложить только это правило",
    "why (shown by --list and explain)": "причина (видна в --list и explain)",
    "list the active snoozes instead (--all: every one)": (
        "вместо этого показать действующие отсрочки (--all — все)"
    ),
    "with --list: ended snoozes too": "с --list — и закончившиеся отсрочки",
    "with --list: print JSON": "с --list — вывести JSON",
    "End the snooze now (or at --at). What became due while it was active fires at the"
    " next tick, per each rule's catch_up.": (
        "Заканчивает отсрочку сейчас (или в момент --at). Наступившее, пока она"
        " действовала, сработает на ближайшем тике, по catch_up каждого правила."
    ),
    "the snooze id": "номер отсрочки",
    # -- outbox ---------------------------------------------------------------------------
    "The outbox holds every action the rules decided on. Without a sub-command, list the"
    " requests that are not done yet (--failed, --in-doubt: only those).": (
        "В очереди — все действия, о которых решили правила. Без подкоманды показывает"
        " ещё не выполненные запросы (--failed, --in-doubt — только такие)."
    ),
    "list only failed requests": "только запросы с ошибкой",
    "list only in-doubt requests": "только запросы в сомнении",
    "one request: parameters, state, every outcome": (
        "один запрос: параметры, состояние, все результаты"
    ),
    "send requests again: failed, in doubt (checked in Bitrix24), dropped": (
        "отправить запросы снова: с ошибкой, в сомнении (с проверкой в Битрикс24), отменённые"
    ),
    "never send these requests": "никогда не отправлять эти запросы",
    "the request id (from `edo-rules outbox`)": "номер запроса (из `edo-rules outbox`)",
    "request ids": "номера запросов",
    "every failed request": "все запросы с ошибкой",
    "every in-doubt request": "все запросы в сомнении",
    # -- calendar -------------------------------------------------------------------------
    "Show the Russian production calendar for YEAR (default: this year) as a month grid"
    " with working days and hours, or `calendar check DATE` to see whether a date is a"
    " working day, a day off or a short day, and why.": (
        "Показывает производственный календарь России на ГОД (по умолчанию текущий)"
        " сеткой месяцев с рабочими днями и часами, а `calendar check ДАТА` — рабочий ли"
        " это день, выходной или сокращённый, и почему."
    ),
    "a year such as 2026, or the word 'check'": "год, например 2026, или слово check",
    "with 'check': a date YYYY-MM-DD or DD.MM.YYYY": ("с check — дата ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"),
    "YAML file of company/regional days (default: the config's calendar.override)": (
        "YAML-файл дней компании или региона (по умолчанию calendar.override конфигурации)"
    ),
    "the config whose calendar.override to use (default: ./edo-rules.yaml when present)": (
        "конфигурация, чей calendar.override использовать (по умолчанию ./edo-rules.yaml,"
        " если есть)"
    ),
    "count the 2020/2021 presidential non-working days as days off": (
        "считать нерабочие дни 2020–2021 годов по указам президента выходными"
    ),
    "hours per week for the norm (default 40)": "часов в неделю для нормы (по умолчанию 40)",
    # -- emulate --------------------------------------------------------------------------
    "Run a bundled emulator (a real HTTP server on loopback). `all` runs both, wired to"
    " each other, and writes a ready edo-rules.yaml. Use `edo-rules emulate 1c --help`,"
    " `… bitrix24 --help` or `… all --help` for options.": (
        "Запускает встроенный эмулятор (настоящий HTTP-сервер на 127.0.0.1). `all`"
        " запускает оба, связанные друг с другом, и записывает готовый edo-rules.yaml."
        " Параметры: `edo-rules emulate 1c --help`, `… bitrix24 --help` или `… all --help`."
    ),
    "which system to emulate": "какую систему эмулировать",
    "options of that emulator": "параметры этого эмулятора",
    # -- bitrix24 -------------------------------------------------------------------------
    "Bitrix24 portal commands.": "Команды для портала Битрикс24.",
    "create or check the user fields and the smart process the config needs": (
        "создать или проверить нужные конфигурации пользовательские поля и смарт-процесс"
    ),
    "Create, idempotently, what bitrix24.card and bitrix24.mirror need in the portal;"
    " print what was created and what already matched. Running it again reports 'nothing"
    " to do'.": (
        "Создаёт в портале то, что нужно bitrix24.card и bitrix24.mirror (повторный запуск"
        " безопасен), и показывает, что создано и что уже было. Повторный запуск сообщит"
        " «делать нечего»."
    ),
    "the config (default: ./edo-rules.yaml)": "конфигурация (по умолчанию ./edo-rules.yaml)",
    "only list what would be created; write nothing": (
        "только показать, что будет создано; ничего не записывать"
    ),
    # -- golive ---------------------------------------------------------------------------
    "Evaluate the config's playbooks on its store without recording anything and show the"
    " messages per recipient and per rule, the first examples and the documents left alone"
    " because they started before go_live.": (
        "Вычисляет сценарии конфигурации на её хранилище, ничего не записывая, и показывает"
        " сообщения по получателям и правилам, первые примеры и документы, которые не"
        " затрагиваются, потому что начались до go_live."
    ),
    "preview at this moment instead of now": "посмотреть на этот момент вместо текущего",
    "try this go-live moment instead of the config's go_live": (
        "попробовать этот момент запуска вместо go_live конфигурации"
    ),
    "how many examples to list": "сколько примеров показать",
    "show recipients as the playbooks name them instead of asking Bitrix24 who they are": (
        "показывать получателей как в сценариях, не спрашивая Битрикс24, кто это"
    ),
    # -- agenda ---------------------------------------------------------------------------
    "Simulate the coming days on a copy of the store (as `simulate` does) and list, per"
    " day, every firing with its due moment and actions. Counts working days on the"
    " production calendar with the config's override.": (
        "Моделирует ближайшие дни на копии хранилища (как `simulate`) и показывает по дням"
        " каждое срабатывание со сроком и действиями. Рабочие дни считаются по"
        " производственному календарю с поправками конфигурации."
    ),
    "working days ahead (default: 5)": "рабочих дней вперёд (по умолчанию 5)",
    # -- docs -----------------------------------------------------------------------------
    "List the documents in the store that match every filter given. The id or the number"
    " shown can be given to explain, history, snooze and simulate.": (
        "Показывает документы хранилища, подходящие под все заданные условия. Показанные"
        " id или номер можно передать в explain, history, snooze и simulate."
    ),
    "the document number, e.g. 183": "номер документа, например 183",
    "the counterparty's ИНН": "ИНН контрагента",
    "part of the counterparty's name (any case)": (
        "часть наименования контрагента (регистр не важен)"
    ),
    "the canonical status": "канонический статус",
    "every document (no filter)": "все документы (без условий)",
    # -- init -----------------------------------------------------------------------------
    "Write a starting configuration that validates as written: a commented"
    " edo-rules.yaml, secrets.env with placeholders, and playbooks/ with the bundled"
    " playbooks. Edit them, then `edo-rules validate --config edo-rules.yaml`.": (
        "Создаёт начальную конфигурацию, которая сразу проходит проверку: edo-rules.yaml"
        " с комментариями, secrets.env с заготовками и playbooks/ с готовыми сценариями."
        " Поправьте их, затем `edo-rules validate --config edo-rules.yaml`."
    ),
    "where (default: here)": "куда (по умолчанию — в текущую папку)",
    "overwrite existing files": "перезаписать существующие файлы",
    # -- serve ----------------------------------------------------------------------------
    "Serve the dashboard (Обзор, По компаниям, По менеджерам, Узкие места, Повестка,"
    " document and deal pages) over the config's store, read-only. Access and embedding"
    " come from the config's dashboard: section; without it the dashboard is open and"
    " served on loopback only.": (
        "Открывает панель (Обзор, По компаниям, По менеджерам, Узкие места, Повестка,"
        " страницы документов и сделок) над хранилищем конфигурации, только чтение. Доступ"
        " и встраивание задаёт раздел dashboard: конфигурации; без него панель открыта"
        " и доступна только на 127.0.0.1."
    ),
    "the config file (default: edo-rules.yaml)": (
        "файл конфигурации (по умолчанию edo-rules.yaml)"
    ),
    "where to listen (default: http.listen, else 127.0.0.1:8080)": (
        "адрес для входящих запросов (по умолчанию http.listen, иначе 127.0.0.1:8080)"
    ),
    "read a password and print its hash for dashboard.users, then exit": (
        "прочитать пароль, вывести его хеш для dashboard.users и выйти"
    ),
    # -- report ---------------------------------------------------------------------------
    "Print the dashboard's breakdown (documents, unsigned, overdue, median and 90th"
    " percentile working days to signature, rejections) for cron e-mails and scripts.": (
        "Выводит сводку панели (документы, неподписанные, просроченные, медиана и 90-й"
        " процентиль рабочих дней до подписания, отказы) для писем cron и скриптов."
    ),
    "only this manager's documents": "только документы этого менеджера",
    # -- store ----------------------------------------------------------------------------
    "Store maintenance. `migrate` applies the schema migrations this edo-rules knows to"
    " the configured PostgreSQL store (a SQLite file migrates itself when opened). Stop"
    " the runners first; they refuse a schema newer than they know.": (
        "Обслуживание хранилища. `migrate` применяет известные этой версии edo-rules"
        " миграции схемы к хранилищу PostgreSQL из конфигурации (файл SQLite обновляется"
        " сам при открытии). Сначала остановите службы: схему новее известной они не"
        " принимают."
    ),
    "apply the schema migrations to the configured store": (
        "применить миграции схемы к хранилищу из конфигурации"
    ),
    "remove closed documents older than the retention, with their history": (
        "удалить завершённые документы старше срока хранения вместе с их историей"
    ),
    "copy a SQLite store into an empty PostgreSQL database, verified": (
        "скопировать хранилище SQLite в пустую базу PostgreSQL с проверкой"
    ),
    "Apply the schema migrations to the store of --config.": (
        "Применяет миграции схемы к хранилищу из --config."
    ),
    "Remove the closed documents (signed, revoked, closed) whose last state is older than"
    " --older-than (default store.retention, 365 days), with their status history,"
    " firings, requests and outcomes; a small tombstone per document keeps any of them"
    " from being acted on again. Documents with an action still pending, in flight or in"
    " doubt are kept. Refuses a retention shorter than the longest rule ladder or the 1C"
    " healing window (plus 7 days). A SQLite file is compacted (VACUUM) when no runner"
    " uses it; otherwise its free pages are reused.": (
        "Удаляет завершённые документы (подписанные, аннулированные, закрытые), последнее"
        " состояние которых старше --older-than (по умолчанию store.retention, 365 дней),"
        " вместе с историей статусов, срабатываниями, запросами и результатами; короткая"
        " отметка о каждом документе не даёт снова действовать по нему. Документы"
        " с действием, которое ещё ждёт, отправляется или в сомнении, остаются. Срок короче"
        " самой длинной лестницы правил или окна восстановления 1С (плюс 7 дней)"
        " отклоняется. Файл SQLite сжимается (VACUUM), если его не использует ни одна"
        " служба; иначе его свободные страницы используются повторно."
    ),
    'the horizon in days (365, 365d, "365 дней"); default store.retention': (
        "срок в днях (365, 365d, «365 дней»); по умолчанию store.retention"
    ),
    "count, remove nothing": "только подсчитать, ничего не удалять",
    "Copy every table of a SQLite store (documents, history, ledger, outbox with its"
    " states, outcomes, snoozes, cursors, sync state) into an empty PostgreSQL database,"
    " then compare each table's row count and SHA-256 on both sides. Stop the runner"
    " first. A password is best given in PGPASSWORD or ~/.pgpass rather than on the"
    " command line.": (
        "Копирует все таблицы хранилища SQLite (документы, история, журнал, очередь"
        " с состояниями, результаты, отсрочки, курсоры, состояние синхронизации) в пустую"
        " базу PostgreSQL и сверяет число строк и SHA-256 каждой таблицы с обеих сторон."
        " Сначала остановите службу. Пароль лучше задать в PGPASSWORD или ~/.pgpass,"
        " а не в командной строке."
    ),
    # -- runners --------------------------------------------------------------------------
    "The runners that share the store of --config (PostgreSQL): each one's id, host and"
    " process, whether its heartbeat is recent, the leases it holds (sync) and how many"
    " outbox requests it is sending.": (
        "Службы, работающие с хранилищем из --config (PostgreSQL): id каждой, хост"
        " и процесс, свежий ли её сигнал жизни, какие аренды она держит (sync) и сколько"
        " запросов очереди отправляет."
    ),
    # -- emulate 1c, bitrix24, all ---------------------------------------------------------
    "Serve an emulated 1С:Бухгалтерия 3.0 OData publication on 127.0.0.1.": (
        "Запускает эмулятор публикации OData 1С:Бухгалтерии 3.0 на 127.0.0.1."
    ),
    "port to listen on (0: a free one)": "порт (0 — любой свободный)",
    "publication name (default: buh)": "имя публикации (по умолчанию buh)",
    "EDO documents to generate": "сколько документов ЭДО создать",
    "random seed of the generated data": "начальное значение случайных чисел для данных",
    "login of the OData user (UTF-8 is fine)": "логин пользователя OData (можно кириллицей)",
    "password of the OData user": "пароль пользователя OData",
    "an older base: register СостоянияЭД, no journal": (
        "старая база: регистр СостоянияЭД, без журнала"
    ),
    "publication variant: EDO documents without the standard Number (numbering off)": (
        "вариант публикации: документы ЭДО без стандартного Номера (нумерация выключена)"
    ),
    "publication variant: several accounting-object rows per document, flag Актуальный": (
        "вариант публикации: несколько строк объекта учёта на документ, признак Актуальный"
    ),
    "publish the register ЭлектронныеПодписи (signer names of the counterparty)": (
        "опубликовать регистр ЭлектронныеПодписи (подписанты контрагента)"
    ),
    "delay the first data request (a cold 1C server)": (
        "задержать первый запрос данных (непрогретый сервер 1С)"
    ),
    "add this delay to every data request (a real 1C answers in 0.1-2 s)": (
        "добавлять эту задержку к каждому запросу данных (настоящая 1С отвечает за 0,1–2 с)"
    ),
    "Run the Bitrix24 REST emulator on 127.0.0.1 and print its webhook URL.": (
        "Запускает эмулятор REST Битрикс24 на 127.0.0.1 и выводит адрес его вебхука."
    ),
    "TCP port (default: a free one)": "TCP-порт (по умолчанию любой свободный)",
    "request limits: ordinary 50 + 2/s, enterprise 250 + 5/s": (
        "лимиты запросов: ordinary — 50 + 2/с, enterprise — 250 + 5/с"
    ),
    "seed of the demo portal data": "начальное значение для данных демо-портала",
    "seconds of processing per method per 10 minutes (default 480)": (
        "секунд обработки на метод за 10 минут (по умолчанию 480)"
    ),
    "seconds each REST request takes end to end, like a portal across the internet": (
        "сколько секунд идёт каждый запрос REST, как к порталу через интернет"
    ),
    "serve https:// with this certificate (chain) file; the official SDK needs it": (
        "работать по https:// с этим файлом сертификата (цепочки); нужно официальному SDK"
    ),
    "the certificate's private key file": "файл закрытого ключа сертификата",
    "Run the 1C and Bitrix24 emulators wired to each other and write a ready config for them.": (
        "Запускает эмуляторы 1С и Битрикс24, связанные друг с другом, и записывает для них"
        " готовую конфигурацию."
    ),
    "1C documents to generate": "сколько документов 1С создать",
    "random seed of the 1C data": "начальное значение случайных чисел для данных 1С",
    "where to write the config (default: ./edo-rules.yaml; a file this command wrote"
    " before is replaced, any other is left alone)": (
        "куда записать конфигурацию (по умолчанию ./edo-rules.yaml; файл, записанный этой"
        " командой раньше, заменяется, любой другой не трогается)"
    ),
    "1C port (default: a free one)": "порт 1С (по умолчанию любой свободный)",
    "Bitrix24 port (default: a free one)": "порт Битрикс24 (по умолчанию любой свободный)",
    "PORT": "ПОРТ",
    "BASE": "БАЗА",
    "DOCUMENTS": "ЧИСЛО",
    "USER": "ЛОГИН",
    "PASSWORD": "ПАРОЛЬ",
    "SECONDS": "СЕКУНДЫ",
    "OPERATING_LIMIT": "СЕКУНДЫ",
    "LATENCY": "СЕКУНДЫ",
    "PEM": "PEM",
    "ONEC_PORT": "ПОРТ",
    "BITRIX24_PORT": "ПОРТ",
}
