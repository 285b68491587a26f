"""The library errors' part of the message catalogue (merged into ``CATALOGUE``).

key → (Russian, English), grouped by family. A key is the error's stable
machine code (``EdoRulesError.message_key``): never rename one once shipped.
Russian is the admin's text; the English is the developer's (logs, ``--lang en``).
See docs/development.md ("Error texts").
"""

from __future__ import annotations

ERRORS: dict[str, tuple[str, str]] = {
    # -- shared pieces ---------------------------------------------------------------------
    "what_to_do": ("{text}\nЧто сделать: {hint}", "{text}\nWhat to do: {hint}"),
    "onec_code": ("[код 1С {code}] {text}", "[1C code {code}] {text}"),
    "onec_request": ("{text} (запрос: {url})", "{text} (request: {url})"),
}

# -- the store (SQLite, PostgreSQL, the runner's lock) -------------------------------------
ERRORS.update(
    {
        "store_failed_sqlite": (
            "{path}: ошибка при {what}: {message}\nЧто сделать: {hint}",
            "{what} failed in {path}: {message}\nWhat to do: {hint}",
        ),
        "store_failed_pg": (
            "{where}: ошибка при {what}: {message}\nЧто сделать: {hint}",
            "{what} failed on {where}: {message}\nWhat to do: {hint}",
        ),
        "store_foreign_sqlite": (
            "{path} — база SQLite, но не хранилище edo-rules (в ней таблицы {tables}).\n"
            "Что сделать: укажите в --store другой файл; если файла нет, edo-rules создаст"
            " новое хранилище.",
            "{path} is a SQLite database but not an edo-rules store (it has the tables"
            " {tables}).\nWhat to do: point --store at another file; edo-rules creates a new"
            " store when the file does not exist.",
        ),
        "store_foreign_pg": (
            "в {where} есть таблицы, не относящиеся к хранилищу edo-rules ({tables}).\n"
            "Что сделать: выделите edo-rules отдельную базу (createdb edo_rules) или схему.",
            "{where} has tables that are not an edo-rules store ({tables}).\n"
            "What to do: give edo-rules its own database (createdb edo_rules) or schema.",
        ),
        "store_too_new_sqlite": (
            "{path} записано более новой версией edo-rules (версия схемы {version}).\n"
            "Что сделать: обновите edo-rules, чтобы открыть это хранилище.",
            "{path} was written by a newer edo-rules (schema version {version}).\n"
            "What to do: upgrade edo-rules to open this store.",
        ),
        "store_too_new_pg": (
            "{where} записано более новой версией edo-rules (версия схемы {version}).\n"
            "Что сделать: обновите edo-rules на этом сервере, чтобы открыть хранилище.",
            "{where} was written by a newer edo-rules (schema version {version}).\n"
            "What to do: upgrade edo-rules on this host to open this store.",
        ),
        "store_too_old_pg": (
            "версия схемы {where} — {version}, она старше этой версии edo-rules.\n"
            "Что сделать: остановите службы, выполните `edo-rules store migrate --config …`,"
            " затем обновите и запустите их.",
            "{where} has schema version {version}, older than this edo-rules.\n"
            "What to do: stop the runners, run `edo-rules store migrate --config …`,"
            " then upgrade and start them.",
        ),
        "store_no_request_recorded": (
            "в {where} нет запроса с id {id}; ничего не записано.\n"
            "Что сделать: проверьте id (`edo-rules outbox`).",
            "no action request with id {id} in {where}; nothing was recorded.\n"
            "What to do: check the ids (`edo-rules outbox`).",
        ),
        "store_no_request": (
            "в {where} нет запроса с id {id}.\n"
            "Что сделать: список запросов покажет `edo-rules outbox`.",
            "no action request with id {id} in {where}.\n"
            "What to do: list the requests with `edo-rules outbox`.",
        ),
        "store_no_document_snooze": (
            "в {where} нет документа с id {id!r}; ничего не отложено.\n"
            "Что сделать: проверьте id (Ref_Key из 1С); новый документ появится после"
            " синхронизации.",
            "no document with id {id!r} in {where}; nothing was snoozed.\n"
            "What to do: check the id (1C Ref_Key); run a sync if it is new.",
        ),
        "store_no_document": (
            "в хранилище нет документа с id {id!r}.\n"
            "Что сделать: проверьте id (Ref_Key из 1С); новый документ появится после"
            " синхронизации.",
            "no document with id {id!r} in the store.\n"
            "What to do: check the id (1C Ref_Key); run a sync if it is new.",
        ),
        "store_no_snooze": (
            "в {where} нет отсрочки с id {id}.\n"
            "Что сделать: список отсрочек покажет `edo-rules snooze --list`.",
            "no snooze with id {id} in {where}.\n"
            "What to do: list the snoozes with `edo-rules snooze --list`.",
        ),
        "dashboard_no_store": (
            "{file}: панель читает хранилище службы, а в этом конфиге его нет (хранилище в"
            " памяти).\nЧто сделать: укажите в конфиге store.path (файл SQLite) или store.dsn"
            " (PostgreSQL).",
            "{file}: the dashboard reads the runner's store, and this config has none to share"
            " (an in-memory store).\nWhat to do: set store.path (a SQLite file) or store.dsn"
            " (PostgreSQL) in the config.",
        ),
        "store_no_driver": (
            "для store.dsn нужен драйвер PostgreSQL (не установлен {name}).\n"
            "Что сделать: pip install 'edo-rules[postgres]'",
            "store.dsn needs the PostgreSQL driver ({name} is not installed).\n"
            "What to do: pip install 'edo-rules[postgres]'",
        ),
        # what the store was doing: «ошибка при …»
        "store_hint_busy": (
            "хранилище сейчас записывает другой процесс; повторите позже или остановите"
            " другую службу",
            "another process is writing to the store; retry, or stop the other runner",
        ),
        "store_hint_readonly": (
            "файл или его папка доступны только для чтения; проверьте права доступа",
            "the file or its directory is read-only; check the permissions",
        ),
        "store_hint_disk": (
            "проверьте свободное место на диске и исправность диска",
            "check free disk space and that the disk is healthy",
        ),
        "store_hint_not_db": (
            "это не хранилище edo-rules; укажите в --store нужный файл",
            "this is not an edo-rules store; point --store at the right file",
        ),
        "store_hint_malformed": (
            "файл повреждён; восстановите его из резервной копии или начните новое хранилище",
            "the file is damaged; restore it from a backup or start a new store",
        ),
        "store_hint_unable_open": (
            "проверьте, что папка существует и доступна для записи",
            "check that the directory exists and is writable",
        ),
        "store_hint_sqlite": (
            "проверьте файл, права доступа к нему и свободное место на диске",
            "check the file, its permissions and the free disk space",
        ),
        "pg_hint_password": (
            "проверьте пользователя и пароль в store.dsn",
            "check the user and password in store.dsn",
        ),
        "pg_hint_user": (
            "проверьте пользователя в store.dsn и pg_hba.conf",
            "check the user in store.dsn and pg_hba.conf",
        ),
        "pg_hint_no_database": (
            "создайте базу (createdb ИМЯ) или исправьте её имя в store.dsn",
            "create the database (createdb NAME) or fix its name in store.dsn",
        ),
        "pg_hint_privilege": (
            "дайте пользователю хранилища права на его базу и схему",
            "grant the store's user rights on its database and schema",
        ),
        "pg_hint_disk_full": (
            "освободите место на диске сервера базы данных",
            "free disk space on the database server",
        ),
        "pg_hint_timeout": (
            "истекло время выполнения запроса; проверьте нагрузку на сервер",
            "the statement timed out; check the server's load",
        ),
        "pg_hint_lock_wait": (
            "служба так долго записывает срабатывания, что очистка не дождалась её;"
            " повторите команду позже (или проверьте, не зависла ли служба)",
            "a runner was recording firings for longer than the prune waits; run the"
            " command again later (or check that no runner hangs)",
        ),
        "pg_hint_concurrent": (
            "другая служба одновременно изменила те же строки; следующий тик повторит",
            "a concurrent runner changed the same rows; the next tick retries",
        ),
        "pg_hint_hba": (
            "разрешите подключение с этого компьютера в pg_hba.conf сервера",
            "allow this host in the server's pg_hba.conf",
        ),
        "pg_hint_unreachable": (
            "проверьте, что сервер PostgreSQL запущен и отвечает (pg_isready -h ХОСТ -p ПОРТ)"
            " и что store.dsn указывает на него",
            "check that the PostgreSQL server runs and answers (pg_isready -h HOST -p PORT)"
            " and that store.dsn names it",
        ),
        "pg_hint_default": (
            "посмотрите журнал сервера базы данных; следующий тик повторит",
            "check the database server's log; the next tick retries",
        ),
        # copying a SQLite store into PostgreSQL
        "copy_bad_url": (
            "{url}: пишите sqlite:///ПУТЬ (три косые черты, затем путь к файлу)",
            "{url}: write sqlite:///PATH (three slashes, then the file's path)",
        ),
        "copy_no_source": (
            "{path}: нет такого хранилища SQLite; проверьте путь в --from",
            "{path}: no such SQLite store; check the --from path",
        ),
        "copy_differs": (
            "копия отличается от {path} в таблицах {tables}; ничего не сохранено",
            "the copy differs from {path} in {tables}; nothing was kept",
        ),
        "copy_failed": (
            "не удалось скопировать в PostgreSQL: {message}",
            "copying into PostgreSQL failed: {message}",
        ),
        "copy_not_empty": (
            "целевое хранилище PostgreSQL не пустое (в {table} строк: {rows});"
            " копировать можно только в новую пустую базу (createdb)",
            "the target PostgreSQL store is not empty ({table} has {rows} rows);"
            " a copy goes into a new, empty database (createdb)",
        ),
        # the runner's lock on a SQLite store
        "lock_no_file": (
            "не удалось создать файл блокировки {path}: {reason}; службе нужны права на запись"
            " в папку хранилища (проверьте её владельца и права)",
            "cannot create the lock file {path}: {reason}; the runner needs write access to"
            " the store's folder (check its owner and permissions)",
        ),
        "lock_busy": (
            "хранилище уже занято другой службой edo-rules: {holder} (файл блокировки {path})."
            " С хранилищем SQLite может работать только одна служба; сначала остановите ту"
            " (например, `systemctl stop edo-rules`) или укажите этой другое хранилище.",
            "the store is already used by another edo-rules runner: {holder} (lock file"
            " {path}). Only one runner may work on a SQLite store; stop that runner first"
            " (e.g. `systemctl stop edo-rules`) or point this one at another store.",
        ),
        "lock_write_full": (
            "не удалось записать файл блокировки {path}: диск заполнен{free}; ничего не"
            " сделано. Освободите место на этом диске (`df -h`) и запустите edo-rules снова",
            "cannot write the lock file {path}: the disk is full{free}; nothing was done."
            " Free some space on that disk (`df -h`), then run edo-rules again",
        ),
        "lock_free": (" (свободно {kb} КБ)", " ({kb} KB free)"),
        "lock_write_failed": (
            "не удалось записать файл блокировки {path}: {reason}; ничего не сделано. Службе"
            " нужны права на запись в папку хранилища и свободное место на её диске",
            "cannot write the lock file {path}: {reason}; nothing was done. The runner needs"
            " write access to the store's folder and free space on its disk",
        ),
        "lock_lost": (
            "файл блокировки {path} {what}, пока служба его держала: хранилищем может"
            " пользоваться другая служба. Эта останавливается. Проверьте, что на этом"
            " хранилище не работает другой edo-rules (и что файл хранилища на месте), затем"
            " запустите её снова",
            "the lock file {path} {what} while this runner held it: another runner may now"
            " be using the store. This one stops. Check that no other edo-rules runs on this"
            " store (and that the store file is where it was), then start it again",
        ),
        "file_deleted": ("удалён", "was deleted"),
        "file_replaced": ("заменён другим файлом", "was replaced by another file"),
        "file_unreadable": ("недоступен ({reason})", "cannot be looked at ({reason})"),
        # the files of a SQLite store, looked at when SQLite fails
        "store_document_vanished": (
            "документ {document} исчез из хранилища во время проверки правил.\n"
            "Что сделать: запустите такт ещё раз — он запланирует то, что не записано",
            "document {document} disappeared from the store during evaluation.\n"
            "What to do: run the tick again (it plans what was not recorded)",
        ),
        "store_gone": (
            "файл хранилища {path} {what}, пока edo-rules держал его открытым; в старый файл"
            " больше ничего не пишется.\nЧто сделать: верните хранилище на место (или"
            " восстановите из резервной копии) и запустите edo-rules снова; новое пустое"
            " хранилище заново создало бы то, что уже сделано",
            "the store file {path} {what} while edo-rules had it open; nothing more is written"
            " into the old file.\nWhat to do: restore the store from its backup (or move it"
            " back), then start edo-rules again; a new empty store would re-create what was"
            " already done",
        ),
        "store_with_problems": ("{message}{problems}", "{message}{problems}"),
        "store_problem": ("\n- {text}", "\n- {text}"),
        "store_file_readonly": (
            "{file} только для чтения (права {mode}, владелец uid {uid}): дайте пользователю"
            " службы право записи (chmod u+w, chown)",
            "{file} is read-only (mode {mode}, owner uid {uid}): give the runner's user write"
            " access to it (chmod u+w, chown)",
        ),
        "store_file_unreadable": ("{file} недоступен: {reason}", "{file} cannot be read: {reason}"),
        "store_folder_readonly": (
            "папка {folder} недоступна для записи, а SQLite создаёт в ней файлы -wal и -shm",
            "the folder {folder} is not writable, and SQLite creates its -wal and -shm files there",
        ),
        "store_disk_free": (
            "на диске папки {folder} свободно {size}",
            "the disk of {folder} has {size} free",
        ),
        "store_folder_create": (
            "не удалось создать папку хранилища {folder}: {reason}\nЧто сделать: создайте её с"
            " правом записи для пользователя службы или укажите другой store.path",
            "cannot create the store's folder {folder}: {reason}\nWhat to do: create it with"
            " write access for the runner's user, or point store.path elsewhere",
        ),
        "lock_pid": ("процесс {pid}", "pid {pid}"),
        "lock_unknown_process": ("неизвестный процесс", "an unknown process"),
        "lock_host": ("на {host}", "on {host}"),
        "lock_since": ("с {since}", "since {since}"),
    }
)

#: What the store was doing when it failed, for «{path}: ошибка при {what}».
STORE_OPERATIONS: dict[str, str] = {
    "opening the store": "открытии хранилища",
    "opening the connection pool": "открытии пула соединений",
    "tuning the connection for a sync page": "настройке соединения для записи синхронизации",
    "selecting due documents": "выборке документов для правил",
    "selecting new status events": "выборке новых событий статусов",
    "reading the status history": "чтении истории статусов",
    "reading the outbox": "чтении очереди действий",
    "reading the firing ledger": "чтении журнала срабатываний",
    "reading snoozes": "чтении отсрочек",
    "reading documents": "чтении документов",
    "finding documents": "поиске документов",
    "reading document numbers": "чтении номеров документов",
    "reading a document": "чтении документа",
    "reading the sync state": "чтении состояния синхронизации",
    "reading the statistics cursor": "чтении курсора статистики",
    "reading the document sequence": "чтении счётчика документов",
    "reading the cache": "чтении кэша",
    "reading rule progress": "чтении состояния правил",
    "reading outcomes": "чтении результатов действий",
    "reading event cursors": "чтении курсоров событий",
    "reading documents for counterparty statistics": "чтении документов для статистики"
    " контрагентов",
    "reading counterparty statistics": "чтении статистики контрагентов",
    "counting documents": "подсчёте документов",
    "listing the runners": "чтении списка служб",
    "copying the store": "копировании хранилища",
    "reading the dashboard's data": "чтении данных панели",
    "writing the cache": "записи кэша",
    "writing event cursors": "записи курсоров событий",
    "writing documents": "записи документов",
    "writing counterparty statistics": "записи статистики контрагентов",
    "writing a sync page": "записи страницы синхронизации",
    "recording outcomes": "записи результатов действий",
    "recording firings": "записи срабатываний",
    "folding the ledger's counts": "сведении счётчиков журнала для панели",
    "ending a snooze": "завершении отсрочки",
    "adding a snooze": "добавлении отсрочки",
    "claiming action requests": "захвате запросов очереди",
    "changing a request's state": "изменении состояния запроса",
    "taking over expired claims": "перехвате просроченных захватов",
    "recording the runner's heartbeat": "записи отметки о работе службы",
    "leaving the runners": "выходе из списка служб",
    "dropping a scratch copy": "удалении временной копии",
    "giving up the runner's claims": "освобождении захватов службы",
    "pruning old documents": "удалении старых документов",
    "checkpointing the write-ahead log": "переносе журнала WAL в базу",
    "counting the outbox": "подсчёте очереди действий",
    "giving claimed requests back": "возврате захваченных запросов в очередь",
    "checking the order of each document's requests": "проверке порядка запросов документа",
    "asking for a refresh": "запросе обновления у держателя аренды sync",
    "taking the refresh requests": "получении запросов на обновление",
    "answering the refresh requests": "записи ответа на запросы обновления",
    "reading a refresh's answer": "чтении ответа на запрос обновления",
    "waiting for refresh requests": "ожидании запросов на обновление",
}
ERRORS.update({f"store_op:{en}": (ru, en) for en, ru in STORE_OPERATIONS.items()})

# -- 1C (OData) -------------------------------------------------------------------------------
ERRORS.update(
    {
        "onec_answer": (
            "1С ответила HTTP {status}{where}{details}",
            "1C answered HTTP {status}{where}{details}",
        ),
        "onec_for_set": (" на запрос к {set}", " for {set}"),
        "onec_details": (": {message}", ": {message}"),
        "onec_unreachable": (
            "не удалось подключиться к 1С: {error}",
            "cannot reach 1C: {error}",
        ),
        "onec_timeout": ("1С не ответила за {seconds:g} с", "1C did not answer in {seconds:g} s"),
        "onec_malformed_page": (
            "1С прислала повреждённую страницу ({error})",
            "1C sent a malformed page ({error})",
        ),
        "onec_no_value_list": (
            "1С прислала страницу без списка объектов OData «value»",
            "1C sent a page without the OData 'value' list of objects",
        ),
        "onec_metadata_not_xml": (
            "1С прислала описание $metadata не в формате XML ({error})",
            "1C sent a $metadata document that is not XML ({error})",
        ),
        "onec_metadata_no_schema": (
            "1С прислала описание $metadata без схемы EDMX",
            "1C sent a $metadata document without an EDMX schema",
        ),
        "onec_same_page": (
            "1С дважды вернула одну и ту же страницу {set} (параметр $skip не учтён)",
            "1C returned the same page twice for {set} ($skip ignored)",
        ),
        "onec_unknown_preset": (
            "неизвестный набор сопоставления 1С (preset) {name!r}",
            "unknown 1C mapping preset {name!r}",
        ),
        "onec_publication_lacks": (
            "в публикации 1С нет того, что нужно для синхронизации: {problems}",
            "1C publication lacks what the sync needs: {problems}",
        ),
        "onec_set_not_published": (
            "не опубликован объект {set}",
            "the set {set} is not published",
        ),
        "onec_no_property": ("у {set} нет реквизита {field}", "{set} has no property {field}"),
        "onec_wrong_generation": (
            "набор {preset} читает {own}, а эта база 1С его не публикует; база публикует"
            " {register}",
            "preset {preset} reads {own}, which this 1C base does not publish; the base"
            " publishes {register}",
        ),
        "onec_no_inn": (
            "не удаётся найти документы по ИНН: у {set} нет реквизита ИНН",
            "cannot find documents by INN: {set} has no property ИНН",
        ),
        "onec_bad_value": (
            "1С прислала неожиданное значение в {set}.{field}: {value}",
            "1C sent an unexpected value in {set}.{field}: {value}",
        ),
        "onec_pdf_url": (
            "не удаётся заполнить шаблон onec.pdf_url: {error}",
            "onec.pdf_url cannot be filled: {error}",
        ),
        # what to do
        "onec_hint_publish_set": (
            "объект {set} не опубликован; опубликуйте его: в 1С откройте «Настройка"
            " стандартного интерфейса OData» (Администрирование → Обслуживание → Корректировка"
            " данных или Все функции → Обработки), отметьте {what} и нажмите «Сохранить и"
            " закрыть»; см. docs/1c.md",
            "the set {set} is not published; publish it: in 1C open «Настройка стандартного"
            " интерфейса OData» (Администрирование → Обслуживание → Корректировка данных, or"
            " All functions → Обработки), tick {what} and press «Сохранить и закрыть»; see"
            " docs/1c.md",
        ),
        "onec_hint_publish_sets": (
            "опубликуйте названные объекты (в 1С: «Настройка стандартного интерфейса OData»,"
            " отметьте их, «Сохранить и закрыть»; см. docs/1c.md). Если в опубликованном"
            " объекте нет реквизита, у базы другая версия конфигурации: проверьте набор"
            " сопоставления (onec.preset)",
            "publish the sets named (in 1C: «Настройка стандартного интерфейса OData», tick"
            " them, «Сохранить и закрыть»; see docs/1c.md). A property missing from a"
            " published set means another configuration version: check the preset",
        ),
        "onec_hint_code_14": (
            "1С не смогла разобрать запрос; это ошибка edo-rules или необычная версия"
            " платформы: сообщите о ней, приложив запрос, показанный выше",
            "1C could not parse the query; this is a bug in edo-rules or an unusual platform"
            " version: report it together with the request shown above",
        ),
        "onec_hint_code_20": (
            "пользователю 1С недоступна часть строк: оставьте allowed_only: true в разделе"
            " onec (так по умолчанию) или дайте пользователю право чтения этих данных",
            "the 1C user may not read some rows: keep allowed_only: true in the onec section"
            " (the default) or grant the user read rights to these data",
        ),
        "onec_hint_code_21": (
            "эта версия платформы 1С не поддерживает такой запрос; обновите платформу",
            "this 1C platform version does not implement the query; update the platform",
        ),
        "onec_hint_code_9": (
            "объект удалён в 1С между двумя запросами; следующая синхронизация это исправит",
            "the object was deleted in 1C between two requests; the next sync heals it",
        ),
        "onec_hint_long_query": (
            "веб-сервер отклонил слишком длинную строку запроса: уменьшите max_query в"
            " разделе onec",
            "the web server refused a long query string: lower max_query in the onec section",
        ),
        "onec_hint_not_found": (
            "проверьте url и base (имя публикации) в разделе onec; в веб-публикации должен"
            " быть отмечен флажок «Публиковать стандартный интерфейс OData»",
            "check url and base (the publication name) in the onec section; the web"
            " publication must have «Публиковать стандартный интерфейс OData» ticked",
        ),
        "onec_hint_401": (
            "проверьте user и password в разделе onec (пароль берётся из названной там"
            " переменной окружения); пользователю 1С нужна роль УдаленныйДоступOData",
            "check user and password in the onec section (the password comes from the"
            " environment variable named there); the 1C user needs the role"
            " УдаленныйДоступOData",
        ),
        "onec_hint_403": (
            "у пользователя 1С недостаточно прав: дайте ему роль УдаленныйДоступOData",
            "the 1C user lacks rights: give it the role УдаленныйДоступOData",
        ),
        "onec_hint_server": (
            "сбой на стороне 1С; edo-rules повторяет запросы, а пропущенное восполнит"
            " следующая синхронизация",
            "1C failed on its side; edo-rules retries, and the next sync heals what was missed",
        ),
        "onec_hint_transient": (
            "обычно это временный сбой сервера 1С; синхронизация повторит страницу",
            "usually a transient failure of the 1C server; the sync retries the page",
        ),
        "onec_hint_check_url": (
            "проверьте, что url указывает на …/odata/standard.odata публикации 1С",
            "check that url points to …/odata/standard.odata of the 1C publication",
        ),
        "onec_hint_unreachable": (
            "проверьте url в разделе onec и что веб-сервер 1С запущен",
            "check url in the onec section and that the 1C web server is running",
        ),
        "onec_hint_slow": (
            "сервер 1С отвечает медленно; увеличьте timeout / first_timeout в разделе onec"
            " или уменьшите page_size",
            "the 1C server is slow; raise timeout / first_timeout in the onec section"
            " or lower page_size",
        ),
        "onec_hint_paging": (
            "на этой версии платформы синхронизация не может читать этот объект постранично;"
            " сообщите об этом",
            "the sync cannot page this set on this platform version; report it",
        ),
        "onec_hint_presets": ("укажите один из: {names}", "use one of: {names}"),
        "onec_hint_use_preset": (
            "укажите набор {name} (onec.preset в конфиге)",
            "use preset {name} (onec.preset in the config)",
        ),
        "onec_hint_refresh_by_document": (
            "обновляйте по документу",
            "refresh by document instead",
        ),
        "onec_hint_bad_value": (
            "ничего с этой страницы не записано; следующая синхронизация повторит её. Если"
            " ошибка повторяется, проверьте объект в 1С (повреждённая или исправленная"
            " вручную запись)",
            "nothing of this page was written; the next sync retries it. If it repeats,"
            " check the object in 1C (a damaged or hand-edited record)",
        ),
    }
)

# -- Bitrix24 ---------------------------------------------------------------------------------
ERRORS.update(
    {
        "b24_call": ("{method}: {description}", "{method}: {description}"),
        "b24_may_have_run": (
            "{text}; вызов мог выполниться",
            "{text}; the call may have run",
        ),
        "b24_cannot_connect": (
            "не удалось подключиться ({error})",
            "cannot connect ({error})",
        ),
        "b24_no_answer": ("нет ответа ({error})", "no answer ({error})"),
        "b24_non_json": (
            "HTTP {status}, ответ не в формате JSON",
            "HTTP {status} with a non-JSON body",
        ),
        "b24_no_error_code": (
            "HTTP {status} без кода ошибки",
            "HTTP {status} without an error code",
        ),
        "b24_no_result": ("HTTP {status} без результата", "HTTP {status} without a result"),
        "b24_no_reason": ("HTTP {status} без указания причины", "HTTP {status} without a reason"),
        "b24_moved": (
            "портал отвечает {status}: переехал на {target}",
            "the portal answers {status}: moved to {target}",
        ),
        "b24_unknown_address": ("неизвестный адрес", "an unknown address"),
        "b24_no_batch_result": (
            "нет результата для команды пакета",
            "no result for the command",
        ),
        "b24_paused": (
            "метод приостановлен до сброса лимита времени выполнения",
            "the method is paused until its operating time resets",
        ),
        "b24_oauth_unreachable": (
            "не удалось связаться с сервером OAuth ({error})",
            "cannot reach the OAuth server ({error})",
        ),
        "b24_oauth_refused": (
            "сервер OAuth отказался обновить токен",
            "the OAuth server refused to renew the token",
        ),
        "b24_recipient": (
            "не удалось определить получателя {recipient!r} для документа {document}: {reason}",
            "cannot resolve the recipient {recipient!r} for document {document}: {reason}",
        ),
        "b24_recipient_nobody": (
            "нет ни ответственного по сделке или компании, ни сопоставления пользователя 1С,"
            " ни пользователя по умолчанию",
            "no deal or company owner, no 1C mapping, no fallback user",
        ),
        "b24_recipient_no_head": (
            "у пользователя {user} нет руководителя подразделения выше",
            "user {user} has no department head above them",
        ),
        "b24_recipient_unknown_kind": (
            "неизвестный вид получателя",
            "unknown recipient kind",
        ),
        "b24_accounting_not_configured": (
            "не задан bitrix24.accounting",
            "bitrix24.accounting is not configured",
        ),
        "b24_department_no_head": (
            "у подразделения {department} нет руководителя",
            "department {department} has no head",
        ),
        "b24_not_bound": (
            "документ {document} не привязан к {owners} в CRM",
            "document {document} is not bound to a CRM {owners}",
        ),
        "b24_owner_deal": ("сделке", "deal"),
        "b24_owner_company": ("компании", "company"),
        "b24_or": ("{left} или {right}", "{left} or {right}"),
        "b24_nothing_written": ("ничего не записано: {reason}", "nothing written: {reason}"),
        "b24_no_card": (
            "ничего не записано: документ не привязан к сделке или компании, у карточки"
            " которой настроено поле (bitrix24.card); проверьте ИНН контрагента в реквизитах"
            " компании и стратегию bitrix24.deal",
            "nothing written: the document is not bound to a deal or company whose card has a"
            " configured field (bitrix24.card); check the counterparty's ИНН in the company"
            " requisites and the bitrix24.deal strategy",
        ),
        "b24_card_not_configured": (
            "поля карточки не настроены",
            "the card fields are not configured",
        ),
        "b24_stage_not_in_pipeline": (
            "стадии {stage} нет в воронке сделки {deal} (её стадии: {stages})",
            "stage {stage} is not in the pipeline of deal {deal} (its stages: {stages})",
        ),
        "b24_no_stages": ("нет", "none"),
        "b24_no_amount": (
            "у документа {document} нет суммы для счёта",
            "document {document} has no amount for the invoice",
        ),
        "b24_mirror_not_configured": (
            "не настроено, куда копировать документы (bitrix24.mirror)",
            "the mirror target is not configured",
        ),
        # outcome reasons: the outbox and the document page (shown in the deal card) read them
        "b24_no_outcome": ("действие не дало результата", "no outcome was produced"),
        "b24_check_failed": ("проверка не удалась: {error}", "the check failed: {error}"),
        "b24_lookup_failed": (
            "не удалось проверить, не создано ли уже: {error}",
            "could not look it up before creating it: {error}",
        ),
        "b24_no_check": (
            "Битрикс24 не даёт узнать, выполнен ли запрос «{action}»: проверьте в Битрикс24,"
            " затем повторите или отмените запрос",
            "Bitrix24 offers no way to tell whether a '{action}' request took effect: check in"
            " Bitrix24, then retry or drop the request",
        ),
        "b24_check_failed_too": (
            "{error}; проверка тоже не удалась: {check}",
            "{error}; the check failed too: {check}",
        ),
        "b24_checked_not_created": (
            "{error}; проверено: не создано",
            "{error}; checked: not created",
        ),
        "b24_deal_closed": (
            "сделка {deal} закрыта (стадия {stage}): не трогаем",
            "deal {deal} is closed (stage {stage}): left alone",
        ),
        "b24_deal_at_stage": (
            "сделка {deal} уже на стадии {stage}",
            "deal {deal} is already at stage {stage}",
        ),
        "b24_deal_not_back": (
            "сделка {deal} на стадии {current}, дальше {target}: назад не переводим"
            " (allow_backward: true разрешает)",
            "deal {deal} is at {current}, later than {target}: not moved back"
            " (allow_backward: true allows it)",
        ),
        "b24_task_comment_no_key": (
            "task_comment без задачи, к которой он относится (используйте его в do повтора)",
            "task_comment without the task it belongs to (use it in a repeat's do)",
        ),
        "b24_task_not_yet": (
            "задачи этого эпизода ещё нет в Битрикс24 (её запрос, возможно, ещё ждёт отправки)",
            "the task of this episode is not in Bitrix24 yet (its request may still be pending)",
        ),
        "b24_mirror_target": (
            "сценарий просит target {wanted!r}, а в конфиге {configured!r}",
            "the playbook asks for target {wanted!r}, the config has {configured!r}",
        ),
        # what to do
        "b24_hint_scope": (
            "добавьте право «{scope}» входящему вебхуку (Разработчикам → Другое → Входящий"
            " вебхук → Настройка прав) или приложению OAuth, затем перезапустите службу",
            "add the scope '{scope}' to the incoming webhook (Разработчикам → Другое →"
            " Входящий вебхук → Настройка прав) or to the OAuth application, then restart",
        ),
        "b24_hint_INVALID_CREDENTIALS": (
            "неверный секрет или пользователь вебхука: создайте новый входящий вебхук и"
            " укажите его адрес в разделе bitrix24 конфига",
            "the webhook secret or user is wrong: create a new incoming webhook and put its"
            " URL into the bitrix24 section of the config",
        ),
        "b24_hint_NO_AUTH_FOUND": (
            "неверный секрет вебхука или вебхук удалён: создайте новый входящий вебхук и"
            " обновите конфиг",
            "the webhook secret is wrong or the webhook was deleted: create a new incoming"
            " webhook and update the config",
        ),
        "b24_hint_INVALID_TOKEN": (
            "токен OAuth недействителен: переустановите приложение и запишите новую пару"
            " токенов в файл токенов",
            "the OAuth token is not valid: reinstall the application and write the new token"
            " pair into the token file",
        ),
        "b24_hint_EXPIRED_TOKEN": (
            "срок действия токена обновления OAuth истёк (180 дней): переустановите приложение",
            "the OAuth refresh token expired (180 days): reinstall the application",
        ),
        "b24_hint_ACCESS_DENIED": (
            "у пользователя вебхука нет прав на этот метод, или REST недоступен на тарифе"
            " портала: используйте вебхук администратора на платном тарифе",
            "the webhook's user has no rights for this method, or REST is not available on"
            " the portal's plan: use an administrator's webhook on a paid plan",
        ),
        "b24_hint_ERROR_METHOD_NOT_FOUND": (
            "портал не знает этого метода: проверьте, что на портале включён нужный модуль",
            "the portal does not know this method: check the module is enabled on the portal",
        ),
        "b24_hint_METHOD_NOT_FOUND": (
            "портал не знает этого метода: проверьте, что модуль включён",
            "the portal does not know this method: check the module is enabled",
        ),
        "b24_hint_PORTAL_DELETED": (
            "портал удалён: проверьте адрес портала в конфиге",
            "the portal was deleted: check the portal address in the config",
        ),
        "b24_hint_OVERLOAD_LIMIT": (
            "поддержка Битрикс24 заблокировала REST для портала: обратитесь в поддержку",
            "Bitrix24 support blocked REST for the portal: contact support",
        ),
        "b24_hint_ERROR_BATCH_LENGTH_EXCEEDED": (
            "сообщите об ошибке: клиент отправил больше 50 команд",
            "report a bug: the client sent more than 50 commands",
        ),
        "b24_hint_INVALID_GRANT": (
            "сервер OAuth отклонил токен обновления: переустановите приложение и запишите"
            " новую пару токенов в файл токенов",
            "the OAuth refresh token was rejected: reinstall the application and write the"
            " new token pair into the token file",
        ),
        "b24_hint_INVALID_REQUEST": (
            "используйте адрес портала с https://",
            "use the https:// address of the portal",
        ),
        "b24_hint_PORTAL_MOVED": (
            "портал переехал на другой адрес: обновите адрес вебхука",
            "the portal moved to another address: update the webhook URL",
        ),
        "b24_hint_recipient": (
            "привяжите документ к сделке или компании с ответственным, сопоставьте"
            " пользователя 1С в bitrix24.users или задайте bitrix24.fallback_user",
            "bind the document to a deal or company with a responsible user, map the 1C"
            " user in bitrix24.users, or set bitrix24.fallback_user",
        ),
        "b24_hint_not_bound": (
            "проверьте ИНН контрагента в реквизитах компании и стратегию bitrix24.deal",
            "check the counterparty's ИНН in the company requisites and the bitrix24.deal strategy",
        ),
        "b24_hint_card": (
            "добавьте bitrix24.card (deal_field, company_field …) и выполните"
            " `edo-rules bitrix24 setup`",
            "add bitrix24.card (deal_field, company_field …) and run 'edo-rules bitrix24 setup'",
        ),
        "b24_hint_stage": (
            "исправьте стадию в действии deal_stage сценария",
            "fix the deal_stage stage in the playbook",
        ),
        "b24_hint_amount": (
            "укажите сумму счёта в сценарии явно",
            "give the invoice an explicit amount in the playbook",
        ),
        "b24_hint_mirror": (
            "добавьте bitrix24.mirror (target, iblock_id или entity_type_id, fields)",
            "add bitrix24.mirror (target, iblock_id or entity_type_id, fields)",
        ),
        "b24_hint_mirror_target": (
            "приведите в соответствие bitrix24.mirror.target",
            "align bitrix24.mirror.target",
        ),
    }
)

# -- the config file ---------------------------------------------------------------------------
ERRORS.update(
    {
        "cfg_no_file": (
            "нет такого файла конфигурации; создайте его по образцу edo-rules.example.yaml"
            " (см. docs/config.md)",
            "no such config file; create it from edo-rules.example.yaml (see docs/config.md)",
        ),
        "cfg_unreadable": ("не удалось прочитать файл: {error}", "cannot read the file: {error}"),
        "cfg_not_mapping": (
            "конфиг должен быть словарём разделов (ключ: значение)",
            "the config must be a mapping of sections",
        ),
        "cfg_unknown_zone": (
            "неизвестный часовой пояс {name!r}{hint} (например, Europe/Moscow)",
            "unknown time zone {name!r}{hint} (e.g. Europe/Moscow)",
        ),
        "cfg_store_retention": (
            "{raw} — не срок хранения: нужны целые дни, не меньше {days} (например, 365d"
            " или «365 дней»)",
            '{raw} is not a retention of at least {days} days (e.g. 365d or "365 дней")',
        ),
        "retention_too_short": (
            "срок хранения {days} дн. короче, чем {why} ({least} дн.): ушли бы документы, по"
            " которым правило ещё может сработать. Оставьте не меньше {least} дней",
            "a retention of {days} days is shorter than {why} ({least} days): documents a"
            " rule may still act on would go. Keep at least {least} days",
        ),
        "retention_least": ("наименьший допустимый срок", "the least retention allowed"),
        "retention_ladder": (
            "самая длинная лестница правил плюс 7 дней",
            "the longest rule ladder plus 7 days",
        ),
        "retention_heal": (
            "окно самолечения 1С (onec.heal_window) плюс 7 дней",
            "the 1C healing window (onec.heal_window) plus 7 days",
        ),
        "cfg_store_both": (
            "укажите либо store.path (SQLite), либо store.dsn, но не оба",
            "give either store.path (SQLite) or store.dsn, not both",
        ),
        "cfg_no_playbooks": (
            "{path} не существует (нужна папка со сценариями или файл сценария)",
            "{path} does not exist (a folder of playbooks or a file)",
        ),
        "cfg_no_override": (
            "файла дней компании {path} не существует",
            "the calendar override file {path} does not exist",
        ),
        "cfg_schedule_both": (
            "укажите либо schedule.interval, либо schedule.cron, но не оба",
            "give either schedule.interval or schedule.cron, not both",
        ),
        "cfg_interval_syntax": (
            "{error}; можно и в секундах, например «30 seconds»",
            "{error}; seconds work too, e.g. '30 seconds'",
        ),
        "cfg_interval_real_time": (
            "{value!r}: интервал — это астрономическое время; укажите секунды, минуты, часы"
            " или дни (рабочие дни — для правил)",
            "{value!r}: an interval is real time; use seconds, minutes, hours or days"
            " (working days are for rules)",
        ),
        "cfg_secrets_unreadable": (
            "не удалось прочитать файл секретов {path}: {error}",
            "cannot read the secrets file {path}: {error}",
        ),
        "cfg_secrets_line": (
            "{path}: строка {line}: ожидается КЛЮЧ=ЗНАЧЕНИЕ",
            "{path}: line {line}: expected KEY=VALUE",
        ),
        "cfg_bad_reference": (
            "{reference!r} — неверная ссылка; пишите ${{ИМЯ}}: сначала буква или «_», затем"
            " буквы, цифры, «_»",
            "{reference!r} is not a valid reference; write ${{NAME}} with a letter or '_'"
            " first, then letters, digits, '_'",
        ),
        "cfg_env_missing": (
            "переменная окружения {name} не задана: задайте её (например, в Environment= или"
            " EnvironmentFile= юнита systemd) или добавьте {name}=… в secrets_file",
            "the environment variable {name} is not set: export it (e.g. in the systemd"
            " unit's Environment= or EnvironmentFile=) or add {name}=… to the secrets_file",
        ),
        "cfg_pdf_url_empty": (
            "doc.pdf_url останется пустым: в конфиге нет шаблона onec.pdf_url (например,"
            " pdf_url: https://edo.example/documents/{{id}}; см. docs/1c.md, раздел 7)",
            "doc.pdf_url stays empty: the config has no onec.pdf_url template"
            " (e.g. pdf_url: https://edo.example/documents/{{id}}; see docs/1c.md, section 7)",
        ),
        "cfg_action_needs_bitrix24": (
            "действию {action!r} нужен Битрикс24, но в {file} нет раздела bitrix24",
            "the action {action!r} needs Bitrix24, but {file} has no bitrix24 section",
        ),
        "cfg_mirror_needs_section": (
            "действию «mirror» нужен раздел bitrix24.mirror в {file} (target, iblock_id или"
            " entity_type_id, fields)",
            "the action 'mirror' needs bitrix24.mirror in {file} (target, iblock_id or"
            " entity_type_id, fields)",
        ),
        "cfg_accounting_needs_section": (
            "получателю «accounting» нужен раздел bitrix24.accounting в {file}"
            " ({{user: <id>}} или {{department: <id>}})",
            "the recipient 'accounting' needs bitrix24.accounting in {file}"
            " ({{user: <id>}} or {{department: <id>}})",
        ),
        "cfg_no_bitrix24_for_setup": (
            "нужен для `edo-rules bitrix24 setup`",
            "is required for bitrix24 setup",
        ),
    }
)

# -- playbook and config files: the schema's problems -------------------------------------------
ERRORS.update(
    {
        "did_you_mean": (" (возможно, {word!r}?)", " (did you mean {word!r}?)"),
        "either_or": ("{left} или {right}", "{left} or {right}"),
        "schema_a": ("{what}", "a {what}"),
        "schema_an": ("{what}", "an {what}"),
        "type:mapping": ("словарь", "mapping"),
        "type:list": ("список", "list"),
        "type:string": ("строка", "string"),
        "type:integer": ("целое число", "integer"),
        "type:number": ("число", "number"),
        "type:boolean": ("логическое значение", "boolean"),
        "type:null": ("пустое значение", "null"),
        "schema_unknown_key": (
            "неизвестный ключ {key!r}{hint}{allowed}",
            "unknown key {key!r}{hint}{allowed}",
        ),
        "schema_allowed_here": (" (здесь допустимы: {keys})", " (allowed here: {keys})"),
        "schema_missing_key": (
            "{what}: нет обязательного ключа {key!r}",
            "missing required key {key!r} in the {what}",
        ),
        "schema_enum": (
            "{what}: неизвестное значение {value!r}{hint}; допустимые значения: {choices}",
            "unknown {what} {value!r}{hint}; expected one of: {choices}",
        ),
        "schema_type": (
            "{what}: ожидается {expected}{example}, получено: {got} {value}",
            "expected {expected}{example} for the {what}, got {got} {value}",
        ),
        "schema_example": (" (например, {example})", " (e.g. {example})"),
        "schema_pattern": (
            "{what}: недопустимое значение {value}: {advice}",
            "{value} is not a valid {what}: {advice}",
        ),
        "schema_expected": ("ожидается {description}", "expected {description}"),
        "schema_unexpected_form": ("неожиданная форма записи", "unexpected form"),
        "schema_one_or_list": (
            "ожидается {expected} или их список, получено: {got} {value}",
            "expected {expected} or a list of them, got {got} {value}",
        ),
        "schema_not_valid_here": (
            "{value} здесь недопустимо{hint}: ожидается {expected}",
            "{value} is not valid here{hint}: expected {expected}",
        ),
        "schema_version": (
            "{what}: {value} не поддерживается (эта версия edo-rules читает {expected!r})",
            "unsupported {what} {value} (this edo-rules reads {expected!r})",
        ),
        "schema_size": ("{what}: {rule}{extra}", "the {what} {rule}{extra}"),
        "schema_one_action_per_item": (
            " (каждое действие — отдельный элемент списка: «- notify: {{...}}»)",
            " (write each action as its own list item: '- notify: {{...}}')",
        ),
        "schema_invalid": ("{what}: недопустимое значение: {error}", "invalid {what}: {error}"),
        "schema_key_value": ("значение {key}", "{key} value"),
        "schema_value": ("значение", "value"),
        "size:minItems:1": ("нужен хотя бы один элемент", "needs at least 1 item"),
        "size:minItems": (
            "элементов должно быть не меньше {n}",
            "needs at least {n} items",
        ),
        "size:maxItems:1": ("допускается только один элемент", "may have at most 1 item"),
        "size:maxItems": ("элементов должно быть не больше {n}", "may have at most {n} items"),
        "size:minProperties:1": ("нужен хотя бы один ключ", "needs at least 1 key"),
        "size:minProperties": ("ключей должно быть не меньше {n}", "needs at least {n} keys"),
        "size:maxProperties:1": ("допускается только один ключ", "may have at most 1 key"),
        "size:maxProperties": ("ключей должно быть не больше {n}", "may have at most {n} keys"),
        "size:minLength": (
            "длина должна быть не меньше {n} симв.",
            "must not be shorter than {n} characters",
        ),
        "size:maxLength": (
            "длина должна быть не больше {n} симв.",
            "must not be longer than {n} characters",
        ),
        "size:minimum": ("должно быть не меньше {n}", "must be at least {n}"),
        "size:maximum": ("должно быть не больше {n}", "must be at most {n}"),
        "size:exclusiveMinimum": ("должно быть больше {n}", "must be greater than {n}"),
        "size:exclusiveMaximum": ("должно быть меньше {n}", "must be less than {n}"),
        "size:uniqueItems": ("элементы не должны повторяться", "must not repeat items"),
    }
)

#: The schemas' patternErrorMessage texts (English, as in the schema files) → Russian.
SCHEMA_ADVICE: dict[str, str] = {
    "an INN has 10 or 12 digits (write it in quotes)": "в ИНН 10 или 12 цифр (пишите его в"
    " кавычках)",
    "not a duration; e.g. '3 working days', '2 days', '4 hours', '3 рабочих дня', '2 дня'": (
        "это не длительность; например, «3 рабочих дня», «2 дня», «4 часа», «3 working days»"
    ),
    "use 1-64 latin letters, digits, '-', '_' or '.', starting with a letter or digit": (
        "используйте от 1 до 64 латинских букв, цифр, «-», «_» или «.», начиная с буквы или цифры"
    ),
    "write the window as 'HH:MM-HH:MM', e.g. '09:00-18:00'": (
        "запишите окно как «ЧЧ:ММ-ЧЧ:ММ», например «09:00-18:00»"
    ),
    "expected HOST:PORT, e.g. 127.0.0.1:8080": "ожидается ХОСТ:ПОРТ, например 127.0.0.1:8080",
    "expected a password hash (scrypt$… or pbkdf2_sha256$…), not a password": (
        "ожидается хеш пароля (scrypt$… или pbkdf2_sha256$…), а не сам пароль"
    ),
}
ERRORS.update({f"schema_advice:{en}": (ru, en) for en, ru in SCHEMA_ADVICE.items()})

#: The schemas' titles (the names of the nodes) → Russian.
SCHEMA_TITLES: dict[str, str] = {
    "INN": "ИНН",
    "action": "действие",
    "action list": "список действий",
    "amount range": "диапазон сумм",
    "catch-up policy": "политика догоняния (catch_up)",
    "counterparty": "контрагент",
    "delivery": "доставка (delivery)",
    "direction": "направление",
    "document kind": "вид документа",
    "duration": "длительность",
    "edo-rules playbook": "сценарий edo-rules",
    "escalation step": "ступень эскалации",
    "escalation steps": "ступени эскалации",
    "expression": "выражение",
    "go-live": "момент запуска (go_live)",
    "identifier": "идентификатор",
    "match": "условия (match)",
    "playbook version": "версия сценария",
    "repeat": "повтор (repeat)",
    "rule": "правило",
    "rule list": "список правил",
    "status": "статус",
    "status change": "смена статуса",
    "time zone": "часовой пояс",
    "timestamp field": "поле времени",
    "trigger": "условие срабатывания",
    "working hours": "рабочие часы",
    "1C link template": "шаблон ссылки 1С",
    "1C section": "раздел 1С (onec)",
    "Bitrix24 section": "раздел Битрикс24 (bitrix24)",
    "back-off": "пауза между попытками",
    "batch size": "размер пакета",
    "bearer token": "токен доступа",
    "calendar override file": "файл дней компании",
    "calendar section": "раздел календаря (calendar)",
    "config version": "версия конфига",
    "cron expression": "выражение cron",
    "dashboard section": "раздел панели (dashboard)",
    "dispatch section": "раздел отправки (dispatch)",
    "edo-rules configuration (edo-rules.yaml)": "конфиг edo-rules (edo-rules.yaml)",
    "evaluation section": "раздел вычислений (evaluation)",
    "frame ancestors": "разрешённые родительские страницы (frame_ancestors)",
    "hook token": "токен вебхука",
    "http section": "раздел http",
    "interval": "интервал",
    "lease seconds": "срок аренды, с",
    "listen address": "адрес для входящих подключений",
    "log format": "формат журнала",
    "log level": "уровень журнала",
    "logging section": "раздел журнала (logging)",
    "max attempts": "наибольшее число попыток",
    "max back-off": "наибольшая пауза между попытками",
    "max depth": "наибольшая глубина",
    "max digits": "наибольшее число цифр",
    "max length": "наибольшая длина",
    "max output": "наибольший объём вывода",
    "max total": "наибольший общий объём",
    "operations": "число операций",
    "overdue after (working days)": "просрочка после (рабочих дней)",
    "playbooks": "сценарии",
    "read-only token": "токен только для чтения",
    "schedule section": "раздел расписания (schedule)",
    "secrets file": "файл секретов",
    "store DSN": "DSN хранилища",
    "store path": "путь к хранилищу",
    "store section": "раздел хранилища (store)",
    "time budget": "бюджет времени",
    "users": "пользователи",
    "trusted proxy header": "заголовок доверенного прокси",
    "dispatch limit": "предел времени отправки",
    "evaluate limit": "предел времени вычисления правил",
    "sync limit": "предел времени синхронизации",
    "stage limits": "пределы времени этапов",
    "request deadline": "предельное время запроса",
    "largest answer": "наибольший ответ",
    "largest page": "наибольшая страница",
}
ERRORS.update({f"schema_title:{en}": (ru, en) for en, ru in SCHEMA_TITLES.items()})

# -- playbooks: the compiler's problems ----------------------------------------------------------
ERRORS.update(
    {
        "pb_duplicate_id": (
            "повторяется id правила {id!r} (впервые в строке {line})",
            "duplicate rule id {id!r} (first at line {line})",
        ),
        "pb_amount_not_finite": (
            "сумма должна быть конечным числом",
            "the amount must be a finite number",
        ),
        "pb_amount_min_max": (
            "amount.min больше amount.max",
            "amount.min is greater than amount.max",
        ),
        "pb_invalid_expression": (
            "недопустимое выражение {source}: {error}",
            "invalid expression {source}: {error}",
        ),
        "pb_time_or_event": (
            "укажите либо «after» + «since» (правило по времени), либо «status_changed»"
            " (правило по событию), но не оба",
            "use either 'after' + 'since' (a time rule) or 'status_changed' (an event rule),"
            " not both",
        ),
        "pb_needs_trigger": (
            "правилу нужны «after» + «since» или «status_changed»",
            "a rule needs 'after' + 'since' or 'status_changed'",
        ),
        "pb_time_rules_only": (
            "«{key}» бывает только у правил по времени (when: {{after: …, since: …}})",
            "'{key}' applies to time rules only (when: {{after: …, since: …}})",
        ),
        "pb_time_rule_needs": (
            "правилу по времени нужен и «{key}» (например, after: 3 working days, since: sent_at)",
            "a time rule needs '{key}' too (e.g. after: 3 working days, since: sent_at)",
        ),
        "pb_task_comment_outside_repeat": (
            "task_comment пишется в do повтора: он комментирует задачу, созданную"
            " повторяемой ступенью",
            "task_comment belongs in a repeat's do: it comments on the task the repeated step"
            " created",
        ),
        "pb_repeat_twice": (
            "у {step} уже есть свой repeat: задайте повтор один раз",
            "{step} has its own repeat already: give the repeat once",
        ),
        "pb_step_order": (
            "ступень {step} ({after}) должна наступать позже ступени {previous}"
            " ({previous_after}): «after» всегда отсчитывается от «since»",
            "{step} ({after}) must come later than {previous} ({previous_after}): 'after'"
            " always counts from 'since'",
        ),
        "pb_unknown_zone": (
            "неизвестный часовой пояс {name!r}{hint} (например, 'Europe/Moscow')",
            "unknown time zone {name!r}{hint} (e.g. 'Europe/Moscow')",
        ),
        "pb_hours_order": (
            "рабочие часы {text!r}: начало должно быть раньше конца",
            "working hours {text!r}: the start must be before the end",
        ),
        # names in expressions and templates
        "pb_private_attribute": (
            "обращение к закрытому атрибуту {attr!r} запрещено",
            "access to the private attribute {attr!r} is not allowed",
        ),
        "pb_unknown_field": (
            "неизвестное поле '{field}'{hint}",
            "unknown field '{field}'{hint}",
        ),
        "pb_no_attribute_methods": (
            "у '{name}' нет атрибута {attr!r}{hint}; у значения доступны только методы: {methods}",
            "'{name}' has no attribute {attr!r}{hint}; on a value only these methods are"
            " allowed: {methods}",
        ),
        "pb_no_attribute": (
            "у '{name}' нет атрибута {attr!r}",
            "'{name}' has no attribute {attr!r}",
        ),
        "pb_private_name": (
            "закрытое имя {name!r} запрещено",
            "the private name {name!r} is not allowed",
        ),
        "pb_unknown_name": ("неизвестное имя {name!r}{hint}", "unknown name {name!r}{hint}"),
        "pb_unknown_function": (
            "неизвестная функция {name!r}{hint}; доступны: {known}",
            "unknown function {name!r}{hint}; available: {known}",
        ),
        "pb_unknown_filter": (
            "неизвестный фильтр {name!r}{hint}; доступны: {known}",
            "unknown filter {name!r}{hint}; available: {known}",
        ),
        "pb_unknown_test": (
            "неизвестная проверка {name!r}{hint}; доступны: {known}",
            "unknown test {name!r}{hint}; available: {known}",
        ),
    }
)

ERRORS.update(
    {
        "pb_invalid_template": (
            "недопустимый шаблон {source}: {error}",
            "invalid template {source}: {error}",
        ),
        "pb_unknown_action": (
            "неизвестное действие {name!r}{hint}; известные действия: {known}",
            "unknown action {name!r}{hint}; known actions: {known}",
        ),
        "pb_action_unavailable": (
            "действие {name!r} недоступно: не удалось загрузить {target} ({reason});"
            " установите пакет, который его предоставляет, или уберите действие из сценария",
            "action {name!r} is not available: cannot load {target} ({reason}); install the"
            " package that provides it or remove the action from the playbook",
        ),
        "pb_action_bad_schema": (
            "действие {name!r} объявляет недопустимую схему параметров: {error}",
            "action {name!r} declares an invalid parameter schema: {error}",
        ),
    }
)

ERRORS.update(
    {
        "duration_examples": (
            "например, «3 рабочих дня», «5 рабочих дней», «2 дня», «4 часа», «3 working days»,"
            " «30 minutes»",
            "e.g. '3 working days', '2 days', '4 hours', '30 minutes', '3 рабочих дня',"
            " '5 рабочих дней', '2 дня', '4 часа'",
        ),
        "duration_syntax": (
            "{text!r} — не длительность: нужно целое число, затем единица ({examples})",
            "{text!r} is not a duration: a whole number, then a unit ({examples})",
        ),
        "duration_unknown_unit": (
            "в {text!r} неизвестная единица {word!r}{hint}; {examples}",
            "{text!r} has an unknown unit {word!r}{hint}; {examples}",
        ),
        "duration_too_long": (
            "{text!r} — слишком долго (не больше {limit} {unit})",
            "{text!r} is too long (at most {limit} {unit})",
        ),
    }
)

# -- YAML files (playbooks, the config) ---------------------------------------------------------
ERRORS.update(
    {
        "yaml_syntax": (
            "ошибка синтаксиса YAML: {what}{noticed}{excerpt}{hint}",
            "YAML syntax: {what}{noticed}{excerpt}{hint}",
        ),
        "yaml_hint": ("\n  подсказка: {hint}", "\n  hint: {hint}"),
        "yaml_malformed": ("YAML записан с ошибкой", "malformed YAML"),
        "yaml_noticed_end": (" (файл закончился раньше)", " (the file ended before it was)"),
        "yaml_noticed_at": (
            " (замечено в строке {line}, столбце {column})",
            " (noticed at line {line}, column {column})",
        ),
        "yaml_what_quote": (
            "значение в кавычках, которое начинается здесь, не закрыто",
            "the quoted value that starts here is never closed",
        ),
        "yaml_hint_quote": (
            "закройте кавычку в конце значения; внутри '…' одинарная кавычка пишется дважды"
            ' (\'\'), внутри «"…"» двойная — как «\\"»',
            "close the quote at the end of the value; inside '…' write a single quote twice"
            ' (\'\'), inside "…" a double quote as \\"',
        ),
        "yaml_what_runaway": (
            "значение в кавычках, которое начинается здесь, продолжается на следующих строках"
            " (не хватает закрывающей кавычки?)",
            "the quoted value that starts here runs on over the next lines (a closing quote"
            " missing?)",
        ),
        "yaml_what_tab": ("здесь символ табуляции", "a tab character here"),
        "yaml_hint_tab": (
            "YAML не допускает табуляцию в отступах: замените её пробелами (настройте редактор"
            " вставлять пробелы)",
            "YAML does not allow tabs in indentation: replace them with spaces (set the editor"
            " to insert spaces)",
        ),
        "yaml_what_list": (
            "список, открытый здесь скобкой '[', не закрыт",
            "the list opened with '[' here is never closed",
        ),
        "yaml_hint_list": (
            "закройте список скобкой ']' и разделяйте элементы запятыми: [act, upd]",
            "close the list with ']' and separate the items with commas: [act, upd]",
        ),
        "yaml_what_mapping": (
            "словарь, открытый здесь скобкой '{{', не закрыт",
            "the mapping opened with '{{' here is never closed",
        ),
        "yaml_hint_mapping": (
            "закройте скобку '}}' и разделяйте пары запятыми: {{kind: act, status: sent}}",
            "close the brace '}}' and separate the pairs with commas: {{kind: act, status: sent}}",
        ),
        "yaml_what_key": (
            "после ключа, который начинается здесь, нет «: »",
            "the key that starts here has no ': ' after it",
        ),
        "yaml_hint_key": (
            "после ключа нужны двоеточие и пробел: «ключ: значение»",
            "a key needs a colon and a space after it: 'key: value'",
        ),
        "yaml_what_indent": (
            "отступ этой строки не совпадает с отступом соседних строк",
            "this line is indented differently from the lines around it",
        ),
        "yaml_hint_indent": (
            "ключи одного уровня пишутся с одинаковым числом пробелов от начала строки;"
            " элементы списка начинаются с «- » на одном отступе",
            "keys of one level start at the same number of spaces from the line's start;"
            " list items start with '- ' at one indentation",
        ),
        "yaml_what_colon": ("«: » внутри значения", "a ': ' inside a value"),
        "yaml_hint_colon": (
            'если в значении есть «: », возьмите всё значение в кавычки: «text: "Ответ: подписан"»',
            "if a value contains ': ', quote the whole value: text: \"Ответ: подписан\"",
        ),
        "yaml_too_large": (
            "файл больше {limit} байт",
            "file is larger than {limit} bytes",
        ),
        "yaml_too_deep": ("YAML вложен слишком глубоко", "YAML is nested too deeply"),
        "yaml_empty": (
            "файл пуст (ожидается сценарий: словарь ключей)",
            "the file is empty (expected a playbook mapping)",
        ),
        "yaml_empty_config": (
            "файл пуст (ожидается конфиг: словарь разделов)",
            "the file is empty (expected a config mapping)",
        ),
        "yaml_unsupported_tag": (
            "неподдерживаемый тег YAML {tag!r}",
            "unsupported YAML tag {tag!r}",
        ),
        "yaml_too_many_nodes": (
            "слишком много узлов (больше {limit}; псевдоним, который разворачивается в огромную"
            " структуру?)",
            "too many nodes (over {limit}; an alias expanding into a huge structure?)",
        ),
        "yaml_recursive_alias": (
            "рекурсивный псевдоним (узел содержит сам себя)",
            "recursive alias (a node contains itself)",
        ),
        "yaml_too_nested": (
            "вложенность глубже {limit} уровней",
            "nested deeper than {limit} levels",
        ),
        "yaml_duplicate_key": ("ключ {key!r} повторяется", "duplicate key {key!r}"),
        "yaml_complex_key": (
            "ключ должен быть простым словом, а не списком или словарём",
            "a key must be a plain word, not a list or a mapping",
        ),
        "yaml_number_too_large": (
            "слишком большое число (больше {limit} цифр)",
            "number too large (more than {limit} digits)",
        ),
        "yaml_binary": (
            "двоичные данные (!!binary) в сценарии не поддерживаются",
            "binary data (!!binary) is not supported in a playbook",
        ),
        "yaml_bad_value": (
            "недопустимое значение {value!r}: {error}",
            "bad value {value!r}: {error}",
        ),
        "yaml_merge_keys": (
            "ключи слияния ('<<') не поддерживаются; выпишите ключи явно",
            "merge keys ('<<') are not supported; write the keys out",
        ),
        "pb_unreadable": ("не удалось прочитать файл: {error}", "cannot read the file: {error}"),
        "pb_not_a_playbook": ("это не сценарий", "not a playbook"),
        "pb_name_used": (
            "имя сценария {name!r} уже занято: {path}",
            "playbook name {name!r} is already used by {path}",
        ),
        "pb_id_used": (
            "id правила {id!r} уже определён в {where}",
            "rule id {id!r} is already defined in {where}",
        ),
        "pb_not_utf8": (
            "файл не в кодировке UTF-8 (сохраните его в UTF-8)",
            "the file is not valid UTF-8 (save it as UTF-8)",
        ),
    }
)

# -- the config's sections read by their own readers (bitrix24, onec) ---------------------------
ERRORS.update(
    {
        "set_must_be_mapping": (
            "должен быть словарём, получено: {got}",
            "must be a mapping, got {got}",
        ),
        "set_unknown_key": (
            "неизвестный ключ (допустимы: {known})",
            "unknown key (expected one of: {known})",
        ),
        "set_required": ("не задан (обязательный параметр)", "is required"),
        "set_non_empty_string": (
            "должен быть непустой строкой, получено: {value!r}",
            "must be a non-empty string, got {value!r}",
        ),
        "set_non_empty": ("должен быть непустой строкой", "must be a non-empty string"),
        "set_positive_number": (
            "должен быть положительным числом, получено: {value!r}",
            "must be a positive number, got {value!r}",
        ),
        "set_positive_id": (
            "должен быть положительным целым id, получено: {value!r}",
            "must be a positive integer id, got {value!r}",
        ),
        "set_not_one_of": (
            "{value!r} — недопустимое значение; допустимые: {choices}",
            "{value!r} is not one of: {choices}",
        ),
        "set_env_not_set": (
            "переменная окружения {name} не задана",
            "the environment variable {name} is not set",
        ),
        "set_user_map": (
            "должен сопоставлять имена пользователей 1С с id пользователей Битрикс24",
            "must map 1C user names to Bitrix24 user ids",
        ),
        "set_user_id": (
            "должен быть id пользователя Битрикс24, получено: {value!r}",
            "must be a Bitrix24 user id, got {value!r}",
        ),
        "set_field_map": (
            "должен сопоставлять сведения о документе с кодами полей Битрикс24",
            "must map document facts to Bitrix24 field codes",
        ),
        "set_unknown_fact": (
            "неизвестное сведение (допустимы: {known})",
            "unknown fact (expected one of: {known})",
        ),
        "set_field_code": (
            "должен быть кодом поля, получено: {value!r}",
            "must be a field code, got {value!r}",
        ),
        "onec_set_not_mapping": (
            "раздел onec должен быть словарём (url, base, user, password, …)",
            "the onec section must be a mapping (url, base, user, password, …)",
        ),
        "onec_set_unknown": (
            "неизвестный параметр (известные: {known})",
            "unknown setting (known: {known})",
        ),
        "onec_set_non_empty": (
            "должен быть непустой строкой, получено: {got}",
            "must be a non-empty string, got {got}",
        ),
        "onec_set_scheme": (
            "должен начинаться с http:// или https://, получено: {value!r}",
            "must start with http:// or https://, got {value!r}",
        ),
        "onec_set_env_in": (
            "не задана переменная окружения из {value!r}",
            "the environment variable in {value!r} is not set",
        ),
        "onec_set_address": (
            "должен быть адресом http:// или https://, получено: {value!r}",
            "must be an http:// or https:// address, got {value!r}",
        ),
        "onec_set_whole": (
            "должен быть целым числом, получено: {value!r}",
            "must be a whole number, got {value!r}",
        ),
        "onec_set_flag": (
            "должен быть true или false, получено: {value!r}",
            "must be true or false, got {value!r}",
        ),
        "onec_set_duration": (
            "не длительность: {value!r} (например, «10m», «2h», «7d»)",
            "is not a duration: {value!r} (expected e.g. '10m', '2h', '7d')",
        ),
        "onec_set_zone": (
            "неизвестный часовой пояс {value!r} (например, «Europe/Moscow»)",
            "unknown time zone {value!r} (expected e.g. 'Europe/Moscow')",
        ),
        "onec_set_preset": (
            "неизвестный набор {value!r} (известные: {known})",
            "unknown preset {value!r} (known: {known})",
        ),
        "onec_set_states": (
            "должен сопоставлять состояния 1С с каноническими статусами",
            "must map 1C state names to canonical statuses",
        ),
        "onec_set_status": (
            "неизвестный статус {status!r} (допустимы: {allowed})",
            "unknown status {status!r} (expected one of {allowed})",
        ),
    }
)

ERRORS.update(
    {
        "b24_set_auth": (
            "укажите что-то одно: webhook_url (или webhook_url_env) либо oauth",
            "give exactly one of webhook_url (or webhook_url_env) and oauth",
        ),
        "b24_set_hour": (
            "должен быть часом дня (1–23), получено: {value}",
            "must be an hour of the day (1-23), got {value}",
        ),
        "b24_set_users": (
            "должен быть списком id пользователей Битрикс24, получено: {value!r}",
            "must be a list of Bitrix24 user ids, got {value!r}",
        ),
        "b24_set_zones": (
            "должен сопоставлять id пользователей Битрикс24 с часовыми поясами, получено:"
            " {value!r}",
            "must map Bitrix24 user ids to time zones, got {value!r}",
        ),
        "b24_set_zone": (
            "{name!r} для пользователя {user!r}: нужны id пользователя и часовой пояс IANA"
            " (например, 12: Asia/Yekaterinburg)",
            "{name!r} for user {user!r} is not a user id and an IANA time zone"
            " (e.g. 12: Asia/Yekaterinburg)",
        ),
        "b24_set_not_url": (
            "не адрес http(s) (ожидается https://ПОРТАЛ/rest/ПОЛЬЗОВАТЕЛЬ/СЕКРЕТ/)",
            "is not an http(s) URL (expected https://PORTAL/rest/USER/SECRET/)",
        ),
        "b24_set_plain_http": (
            "{shown} — обычный http: портал принимает только https://",
            "{shown} uses plain http: the portal only accepts https://",
        ),
        "b24_set_webhook_path": (
            "{shown}…: ожидается путь вебхука /rest/<id пользователя>/<секрет>/",
            "{shown}…: expected a webhook path /rest/<user id>/<secret>/",
        ),
        "b24_set_plan": (
            "{value!r} — не тариф (ожидается ordinary, enterprise или {{capacity, rate}})",
            "{value!r} is not a plan (expected ordinary, enterprise or {{capacity, rate}})",
        ),
        "b24_set_client_secret": (
            "не задан (обязательный параметр; или client_secret_env)",
            "is required (or client_secret_env)",
        ),
        "b24_set_deal_field": (
            "обязателен при strategy: field (например, UF_CRM_1C_CONTRACT)",
            "is required with strategy: field (e.g. UF_CRM_1C_CONTRACT)",
        ),
        "b24_set_iblock": (
            "обязателен при target: list (или iblock_code)",
            "is required for target: list (or iblock_code)",
        ),
        "b24_set_entity_type": (
            "обязателен при target: smart_process (например, 1046)",
            "is required for target: smart_process (e.g. 1046)",
        ),
        "b24_set_field_name": (
            "{value!r} — не имя пользовательского поля CRM (UF_CRM_ и не больше 13 символов"
            " A-Z, 0-9, _, например UF_CRM_EDO_STATUS)",
            "{value!r} is not a CRM user field name (UF_CRM_ and at most 13 characters A-Z,"
            " 0-9, _, e.g. UF_CRM_EDO_STATUS)",
        ),
        "b24_set_card_url": ("{value!r} — не адрес http(s)", "{value!r} is not an http(s) URL"),
        "b24_set_accounting": (
            "укажите что-то одно: user (id пользователя Битрикс24) либо department",
            "give exactly one of user (a Bitrix24 user id) and department",
        ),
        "b24_set_token_file": (
            "не удалось прочитать файл токенов OAuth ({error}): запишите"
            ' «{{"access_token": …, "refresh_token": …}}» из события установки приложения',
            "cannot read the OAuth token file ({error}): write"
            ' {{"access_token": …, "refresh_token": …}} from the application install event',
        ),
    }
)

# -- playbooks: expressions (the `where` conditions) ---------------------------------------------
ERRORS.update(
    {
        "expr_too_long": (
            "выражение длиннее {limit} символов",
            "expression is longer than {limit} characters",
        ),
        "expr_too_complex": (
            "выражение слишком сложное (больше {limit} частей)",
            "expression is too complex (over {limit} parts)",
        ),
        "expr_empty": ("выражение пустое", "expression is empty"),
        "expr_syntax": ("синтаксическая ошибка{where}: {error}", "syntax error{where}: {error}"),
        "expr_at_column": (" в столбце {column}", " at column {column}"),
        "expr_unparsable": (
            "не удалось разобрать выражение: {error}",
            "cannot parse the expression: {error}",
        ),
        "expr_too_deep": (
            "выражение вложено глубже {limit} уровней",
            "expression is nested deeper than {limit} levels",
        ),
        "expr_node_refused": (
            "{node} в выражении не допускается",
            "{node} is not allowed in an expression",
        ),
        "expr_lambda": ("lambda не допускается", "lambda is not allowed"),
        "expr_comprehension": (
            "генераторы списков (comprehensions) не допускаются",
            "comprehensions are not allowed",
        ),
        "expr_generator": (
            "выражения-генераторы не допускаются",
            "generator expressions are not allowed",
        ),
        "expr_fstring": (
            "f-строки не допускаются (используйте шаблон в тексте действия)",
            "f-strings are not allowed (use a template in the action's text)",
        ),
        "expr_walrus": ("присваивание (':=') не допускается", "assignment (':=') is not allowed"),
        "expr_starred": ("распаковка '*' не допускается", "'*' unpacking is not allowed"),
        "expr_dict": ("литералы словарей не допускаются", "dict literals are not allowed"),
        "expr_set": (
            "литералы множеств не допускаются (используйте список: x in ['a', 'b'])",
            "set literals are not allowed (use a list: x in ['a', 'b'])",
        ),
        "expr_await": ("await не допускается", "await is not allowed"),
        "expr_yield": ("yield не допускается", "yield is not allowed"),
        "expr_function_not_called": (
            "{name!r} — функция: вызовите её, например {name}(…)",
            "{name!r} is a function: call it, e.g. {name}(…)",
        ),
        "expr_literal_too_long": (
            "литерал длиннее {limit} символов",
            "literal longer than {limit} characters",
        ),
        "expr_literal_refused": (
            "литерал {value!r} не допускается",
            "literal {value!r} is not allowed",
        ),
        "expr_use_dot": (
            "пишите '.{name}' вместо ['{name}']",
            "use '.{name}' instead of ['{name}']",
        ),
        "expr_not_indexable": ("'{name}' нельзя индексировать", "'{name}' cannot be indexed"),
        "expr_keywords": (
            "именованные аргументы не допускаются",
            "keyword arguments are not allowed",
        ),
        "expr_not_callable": ("'{name}' нельзя вызвать", "'{name}' is not callable"),
        "expr_only_named_calls": (
            "вызывать можно только функции по имени",
            "only named functions can be called",
        ),
        "expr_bad_literals": (
            "недопустимая операция над литералами: {error}",
            "invalid operation on literals: {error}",
        ),
    }
)

# -- playbooks: templates (the texts of actions) --------------------------------------------------
ERRORS.update(
    {
        "tpl_too_complex": (
            "шаблон слишком сложный (больше {limit} частей)",
            "template is too complex (over {limit} parts)",
        ),
        "tpl_function_not_called": (
            "'{name}' — функция: вызовите её, например date(doc.sent_at), или примените как"
            " фильтр: doc.sent_at | date",
            "'{name}' is a function: call it, e.g. date(doc.sent_at), or use it as a filter:"
            " doc.sent_at | date",
        ),
        "tpl_node_refused": (
            "'{node}' в шаблоне не допускается",
            "'{node}' is not allowed in a template",
        ),
        "tpl_macro": ("макросы не допускаются", "macros are not allowed"),
        "tpl_call_block": ("блоки call не допускаются", "call blocks are not allowed"),
        "tpl_include": (
            "шаблон не может включать другие шаблоны",
            "a template cannot include other templates",
        ),
        "tpl_import": (
            "шаблон не может импортировать другие шаблоны",
            "a template cannot import other templates",
        ),
        "tpl_extends": (
            "шаблон не может расширять другие шаблоны",
            "a template cannot extend other templates",
        ),
        "tpl_block": ("блоки не допускаются", "blocks are not allowed"),
        "tpl_dict": ("литералы словарей не допускаются", "dict literals are not allowed"),
        "tpl_not_callable": (
            "'{name}' нельзя вызвать; вызывать можно только функции {functions} и методы строк"
            " {methods}",
            "'{name}' cannot be called; only the functions {functions} and the string methods"
            " {methods} can be",
        ),
        "tpl_star_args": (
            "'*args' и '**kwargs' не допускаются",
            "'*args' and '**kwargs' are not allowed",
        ),
        "tpl_recursive_loop": (
            "рекурсивные циклы не допускаются",
            "recursive loops are not allowed",
        ),
        "tpl_cannot_assign": (
            "нельзя присвоить значение {name!r} (выберите другое имя переменной)",
            "cannot assign to {name!r} (choose another variable name)",
        ),
        "tpl_too_long": (
            "шаблон длиннее {limit} символов",
            "template is longer than {limit} characters",
        ),
        "tpl_syntax": (
            "синтаксическая ошибка в шаблоне{where}: {error}",
            "template syntax error{where}: {error}",
        ),
        "tpl_at_line": (" (строка шаблона {line})", " (template line {line})"),
        "tpl_too_deep": ("шаблон вложен слишком глубоко", "template is nested too deeply"),
    }
)

ERRORS.update(
    {
        "pb_repeat_every_zero": (
            "repeat.every должен быть больше нуля",
            "repeat.every must be longer than zero",
        ),
        "pb_task_comment_no_task": (
            "task_comment комментирует задачу, а ступень {step} задачу не создаёт",
            "task_comment needs a task to comment on, and {step} creates none",
        ),
        "pb_repeats_before_next": (
            "все повторы ступени {step} должны наступить раньше ступени {following}: считайте"
            " их в тех же единицах, что и «after», и держите {after} + {times} × {every}"
            " меньше {next_after} (или повторяйте последнюю ступень)",
            "the repeats of {step} must all come before {following}: count them in the same"
            " unit as 'after' and keep {after} + {times} × {every} below {next_after} (or"
            " repeat the last step instead)",
        ),
        "golive_type": (
            "go_live должен быть датой или датой со временем, а не {got}",
            "go_live must be a date or a date-time, not {got}",
        ),
        "golive_syntax": (
            "{text!r} — не дата и не дата со временем (например, «2026-12-01» или"
            " «2026-12-01T09:00+03:00»)",
            "{text!r} is not a date or a date-time (expected e.g. '2026-12-01' or"
            " '2026-12-01T09:00+03:00')",
        ),
    }
)

# -- an expression or template failing on a document at run time ---------------------------
ERRORS.update(
    {
        "eval_failed": (
            "правило {rule}: ошибка в {what} {source!r}{on_doc}: {error}",
            "rule {rule}: {what} {source!r} failed{on_doc}: {error}",
        ),
        "eval_expression": ("выражении", "expression"),
        "eval_template": ("шаблоне", "template"),
        "eval_on_doc": (" на документе {doc}", " on document {doc}"),
        "engine_uncountable": (
            "сроки документа {document} не посчитать: {error}\n"
            "Что сделать: задайте go_live (в правиле или в config) позже даты документа —"
            " тогда его ожидание станет историей и ничего не отправится",
            "the due moments of document {document} cannot be counted: {error}\n"
            "What to do: set a go_live (in the rule or the config) after the document's date;"
            " its wait then becomes history and nothing is sent",
        ),
    }
)

# -- the evaluation budget and the sandbox's run-time refusals (playbook/_budget.py …) --------
# ``what`` is the sandbox's name of what was being built: code ('+', str(), .join()) as it is.
ERRORS.update(
    {
        "budget_exceeded": ("{text} (лимит {setting})", "{text} (budget limit {setting})"),
        "budget_operations": (
            "за одно вычисление выполнено больше {limit} операций",
            "more than {limit} operations in one evaluation",
        ),
        "budget_depth": (
            "вызовы вложены глубже {limit} уровней (рекурсия?)",
            "calls nested more than {limit} deep (recursion?)",
        ),
        "budget_time": (
            "вычисление заняло больше {limit:g} мс",
            "evaluation took longer than {limit:g} ms",
        ),
        "budget_length": (
            "{what}: получилось бы {size} символов или элементов, больше {limit}",
            "{what} would have {size} characters or items, more than {limit}",
        ),
        "budget_total": (
            "{what}: за вычисление построено больше {limit} символов и элементов в сумме",
            "{what}: the evaluation built more than {limit} characters and items in all",
        ),
        "budget_number_text": (
            "{what}: число из {size} символов, больше {limit}",
            "{what}: a number of {size} characters, more than {limit}",
        ),
        "budget_digits": (
            "{what}: получилось бы около {digits} цифр, больше {limit}",
            "{what} would have about {digits} digits, more than {limit}",
        ),
        "budget_slow_input": (
            "{what}: принимается не больше {limit} символов (время работы растёт быстрее"
            " длины), а получено {size}",
            "{what} reads at most {limit} characters (its time grows faster), not {size}",
        ),
        "budget_output": (
            "результат шаблона длиннее {limit} символов",
            "the output is longer than {limit} characters",
        ),
        "budget_what_result": ("результат {what}", "the result of {what}"),
        "budget_what_call": ("результат вызова", "the result of a call"),
        "budget_what_repetition": (
            "результат повторения '*'",
            "the result of '*' (repetition)",
        ),
        "budget_what_list_comparison": ("сравнение списков", "a comparison of lists"),
        "budget_what_printed": ("выводимое значение", "the printed value"),
        "budget_what_int_filter": ("фильтр 'int'", "the 'int' filter"),
        "budget_what_this_filter": ("этот фильтр", "this filter"),
        "sandbox_whole_number": (
            "ожидается целое число, а не {type}",
            "expected a whole number, not {type}",
        ),
        "sandbox_tojson_indent": (
            "tojson: отступ (indent) должен быть целым числом от 0 до 16",
            "tojson: indent must be a whole number from 0 to 16",
        ),
        "sandbox_format_arguments": (
            "format: укажите либо позиционные, либо именованные аргументы, но не те и другие сразу",
            "format: give either positional or keyword arguments, not both",
        ),
        "sandbox_round_precision": (
            "round: точность должна быть целым числом не больше {limit}",
            "round: the precision must be a whole number up to {limit}",
        ),
        "sandbox_exponent": (
            "слишком большой показатель степени: {value} (допускается не больше {limit})",
            "exponent too large: {value} (at most {limit})",
        ),
        "sandbox_method": ("метод {name!r} не допускается", "the method {name!r} is not allowed"),
        "sandbox_str_method": (
            "метод строки {name!r} не допускается",
            "the string method {name!r} is not allowed",
        ),
        "sandbox_str_format": (
            "str.format не допускается (используйте фильтр 'format')",
            "str.format is not allowed (use the 'format' filter)",
        ),
        "sandbox_str_format_map": (
            "str.format_map не допускается (используйте фильтр 'format')",
            "str.format_map is not allowed (use the 'format' filter)",
        ),
        "sandbox_not_callable": (
            "{what} нельзя вызывать в сценарии",
            "{what} is not safely callable",
        ),
    }
)

# -- the request and stage limits (_bounds.py) and their 1C and Bitrix24 wrappers -----------
ERRORS.update(
    {
        "stage_limit": (
            "лимит этапа {name}: {seconds:g} с ({setting})",
            "the {name} stage's limit of {seconds:g} s ({setting})",
        ),
        "stage_stopped": (
            "этап {name} остановлен: исчерпан {limit}",
            "the {name} stage stopped: it ran past {limit}",
        ),
        "stage_hint": (
            "остальное будет сделано на следующем тике; если это повторяется, увеличьте"
            " {setting} или найдите в журнале выше, что работает медленно",
            "the rest is done at the next tick; if this repeats, raise {setting} or find what"
            " is slow in the log above",
        ),
        "request_limit": (
            "лимит запроса {seconds:g} с ({setting})",
            "the request deadline of {seconds:g} s ({setting})",
        ),
        "request_no_answer": (
            "полный ответ не получен: исчерпан {limit}",
            "no complete answer within {limit}",
        ),
        "answer_too_large": (
            "ответ больше лимита {mb:g} МБ ({setting}): {how}",
            "the answer is larger than the limit of {mb:g} MB ({setting}): {how}",
        ),
        "answer_announced": ("заявлено {size} байт", "it announced {size} bytes"),
        "answer_went_on": ("передача продолжалась и дальше", "it went on past that"),
        "onec_request_stopped": (
            "запрос к 1С остановлен: {limit}",
            "1C request stopped: {limit}",
        ),
        "onec_hint_next_tick": (
            "остальное будет прочитано на следующем тике",
            "the rest is read at the next tick",
        ),
        "onec_hint_bounds": (
            "синхронизация повторит запрос страницей меньшего размера; если 1С просто"
            " медленная, увеличьте request_deadline / max_page_mb в разделе onec или уменьшите"
            " page_size",
            "the sync retries with a smaller page; if 1C is only slow, raise request_deadline /"
            " max_page_mb in the onec section or lower page_size",
        ),
        "b24_request_cut": ("{portal}: {limit}", "{portal}: {limit}"),
    }
)

# -- the 1C link template (onec.pdf_url) ----------------------------------------------------
ERRORS.update(
    {
        "onec_pdf_template_syntax": (
            "неправильный шаблон адреса ({error}); поля записываются в фигурных скобках: {{id}},"
            " {{number}}",
            "is not a valid template ({error}); use {{id}}-style fields such as {{number}}",
        ),
        "onec_pdf_template_fields": (
            "в шаблоне неизвестные поля {unknown} (допустимые: {known})",
            "uses unknown fields {unknown} (known: {known})",
        ),
    }
)

# -- the runner's schedule (runner/schedule.py) -----------------------------------------------
ERRORS.update(
    {
        "interval_not_positive": (
            "интервал должен быть больше нуля, получено {seconds} с",
            "the interval must be positive, got {seconds} s",
        ),
        "cron_fields": (
            "в выражении cron {expression!r} полей: {count}, а нужно 5 (минута, час, день месяца,"
            " месяц, день недели), например «*/5 8-20 * * 1-5»",
            "cron expression {expression!r} has {count} fields; expected 5 (minute hour"
            " day-of-month month day-of-week), e.g. '*/5 8-20 * * 1-5'",
        ),
        "cron_never": (
            "выражение cron {expression!r} не совпадает ни с одной реальной датой",
            "cron expression {expression!r} never matches a real date",
        ),
        "cron_out_of_range": (
            "cron, поле «{name}»: {item!r} вне диапазона {low}-{high}",
            "cron {name} field {item!r} is out of range {low}-{high}",
        ),
        "cron_not_a_number": (
            "cron, поле «{name}»: в {item!r} значение {text!r} — не число",
            "cron {name} field {item!r}: {text!r} is not a number",
        ),
        "cron_field_minute": ("минута", "minute"),
        "cron_field_hour": ("час", "hour"),
        "cron_field_day_of_month": ("день месяца", "day of month"),
        "cron_field_month": ("месяц", "month"),
        "cron_field_day_of_week": ("день недели", "day of week"),
    }
)

# -- the production calendar and the company's override file (edo_rules/calendar) -------------
ERRORS.update(
    {
        "cal_expected_date": (
            "ожидается дата, получено {type} {value!r}",
            "expected a date, got {type} {value!r}",
        ),
        "cal_entry_outside": (
            "{date}: дата вне поддерживаемых лет {first}-{last}",
            "{date} is outside the supported years {first}-{last}",
        ),
        "cal_year_outside": (
            "год {year} — вне поддерживаемых лет {first}-{last}",
            "year {year} is outside the supported years {first}-{last}",
        ),
        "cal_year_type": (
            "год должен быть целым числом, получено {value!r}",
            "a year must be an integer, got {value!r}",
        ),
        "cal_month": (
            "месяц должен быть от 1 до 12, получено {value!r}",
            "month must be 1-12, got {value!r}",
        ),
        "cal_week_hours": (
            "week_hours должно быть больше 0 и не больше 40, получено {value!r}",
            "week_hours must be in (0, 40], got {value!r}",
        ),
        "cal_draft": (
            "производственный календарь на {year} год — проект, ещё не утверждённый"
            " постановлением Правительства; рабочие дни могут измениться (добавьте файл дней"
            " компании или обновите edo-rules)",
            "the production calendar for {year} is a draft, not yet adopted by government"
            " decree; working days may change (add an override file or upgrade edo-rules)",
        ),
        "cal_derived": (
            "производственного календаря на {year} год нет во встроенных данных: он выведен"
            " по ст. 112 ТК РФ без постановления Правительства о переносах и может отличаться"
            " от официального (добавьте файл дней компании или обновите edo-rules)",
            "the production calendar for {year} is not in the bundled data; it is derived from"
            " Labour Code art. 112 without the government decree on transfers and may differ"
            " from the official one (add an override file or upgrade edo-rules)",
        ),
        "cal_override_unreadable": (
            "не удалось прочитать файл дней компании: {error}",
            "cannot read the override file: {error}",
        ),
        "cal_override_yaml": ("некорректный YAML: {problem}", "not valid YAML: {problem}"),
        "cal_override_example": (
            "{text} (например: «days_off: [{{date: 2026-12-30, comment: ...}}]»)",
            "{text} (expected e.g. 'days_off: [{{date: 2026-12-30, comment: ...}}]')",
        ),
        "cal_override_not_mapping": (
            "файл дней компании должен быть словарём списков",
            "the override file must be a mapping of lists",
        ),
        "cal_override_section": (
            "неизвестный раздел {name!r}; допустимые: {allowed}",
            "unknown section {name!r}; allowed: {allowed}",
        ),
        "cal_override_not_list": (
            "{section}: ожидается список записей",
            "{section} must be a list of entries",
        ),
        "cal_override_entry_mapping": (
            "{section}: каждая запись должна быть словарём с date и comment",
            "each {section} entry must be a mapping with date and comment",
        ),
        "cal_override_entry_keys": (
            "{section}: в записи неизвестные ключи {keys}",
            "{section} entry has unknown keys {keys}",
        ),
        "cal_override_no_date": (
            "{section}: в записи нет даты (date)",
            "{section} entry has no date",
        ),
        "cal_override_bad_date": (
            "{section}: {value!r} — не дата в формате ГГГГ-ММ-ДД",
            "{section}: {value!r} is not a date YYYY-MM-DD",
        ),
        "cal_override_no_comment": (
            "{section}: в записи нет комментария (comment) — напишите, почему день меняется",
            "{section} entry has no comment (say why the day changes)",
        ),
        "cal_override_empty_comment": (
            "{section}: комментарий должен быть непустым текстом",
            "{section}: the comment must be non-empty text",
        ),
        "cal_override_repeated": (
            "{date} указана повторно (впервые — в {section}, строка {line}); оставьте по одной"
            " записи на дату",
            "{date} is listed again (first in {section} at line {line}); keep one entry per date",
        ),
    }
)

# -- command-line values (the calendar command, --at) -------------------------------------
ERRORS.update(
    {
        "cal_cli_extra": (
            "лишний аргумент {value!r}; пишите `calendar ГОД`",
            "unexpected argument {value!r}; use `calendar YEAR`",
        ),
        "cal_cli_year": (
            "{value!r} — не год; нужны четыре цифры, например 2026",
            "{value!r} is not a year; expected four digits, e.g. 2026",
        ),
        "cal_cli_needs_date": (
            "для `calendar check` нужна дата, например `calendar check 2024-04-27`",
            "`calendar check` needs a date, e.g. `calendar check 2024-04-27`",
        ),
        "cal_cli_date": (
            "{value!r} — не дата; нужна ГГГГ-ММ-ДД или ДД.ММ.ГГГГ, например 2024-04-27",
            "{value!r} is not a valid date; expected YYYY-MM-DD or DD.MM.YYYY, e.g. 2024-04-27",
        ),
        "cli_bad_at": (
            "--at {value!r} — не дата со временем ISO (например, 2026-12-07T09:30)",
            "--at {value!r} is not an ISO date-time (expected e.g. 2026-12-07T09:30)",
        ),
        "runners_sqlite": (
            "хранилище — файл SQLite: с ним работает один раннер (см. файл блокировки).\n"
            "Что сделать: для нескольких раннеров укажите store.dsn"
            " (PostgreSQL, docs/postgres.md).",
            "the store is a SQLite file: one runner uses it (see the lock file).\n"
            "What to do: several runners need store.dsn (PostgreSQL, docs/postgres.md).",
        ),
        # -- playbook test files (edo-rules test) ------------------------------------------
        "test_bad_moment": (
            "{text!r} — не момент времени (например, 2024-05-06T09:00)",
            "{text!r} is not a moment (expected e.g. 2024-05-06T09:00)",
        ),
        "test_doc_twice": ("документ {id!r} определён дважды", "document {id!r} is defined twice"),
        "test_no_document": ("документа {id!r} нет в documents", "no document {id!r} in documents"),
        "test_unknown_status": (
            "неизвестный статус {text!r} (допустимы: {allowed})",
            "unknown status {text!r} (one of: {allowed})",
        ),
        "test_order": (
            "проверки должны идти по времени (сначала ранние)",
            "expectations must be in time order (earliest first)",
        ),
        "test_no_playbooks": (
            "нет такого файла или папки сценариев: {path}",
            "no such playbook file or folder: {path}",
        ),
        "test_vanished": (
            "документ {id!r} пропал из тестового хранилища",
            "document {id!r} vanished from the test store",
        ),
        "test_bad_set": ("{file}:{line}: ключ set: {error}", "{file}:{line}: set: {error}"),
        "test_every_unit": (
            "{every!r} — нужны минуты, часы или дни (например, 1 час)",
            "{every!r} must be in minutes, hours or days (e.g. 1 hour)",
        ),
        "test_bad_every": (
            "every: {every!r} — нужны минуты, часы или дни",
            "every: {every!r} must be in minutes, hours or days",
        ),
    }
)
