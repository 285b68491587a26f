"""``edo-rules init [--dir DIR]``: a commented edo-rules.yaml, secrets.env and playbooks/.

Everything written validates as it is (``edo-rules validate --config
edo-rules.yaml``): the secrets file holds placeholders the admin replaces, and
``playbooks/`` is a copy of the bundled playbooks. Nothing existing is
overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

from edo_rules._messages import t
from edo_rules.errors import EdoRulesError

CONFIG = """\
# Конфигурация edo-rules. Справочник по всем ключам: docs/config.md.
# Проверка: edo-rules validate --config edo-rules.yaml
#
# Пароли и токены — в secrets.env (рядом с этим файлом), а не здесь: ${ИМЯ}
# берётся из переменной окружения или из secrets_file. Относительные пути
# считаются от папки этого файла.
version: 1
timezone: Europe/Moscow              # в этом поясе считаются сроки и показывается время

secrets_file: secrets.env            # KEY=VALUE; переменные окружения важнее

store:
  path: edo-rules.db                 # SQLite; создаётся при первой синхронизации

playbooks: playbooks/                # папка со сценариями (*.yaml)

# calendar:
#   override: calendar-override.yaml # свои праздники и переносы (docs/calendar.md)

schedule:
  interval: 5 minutes                # или cron: "*/5 8-20 * * 1-5"

onec:
  url: https://1c.example.local      # веб-сервер публикации 1С
  base: buh                          # имя публикации
  user: edo-rules                    # пользователь с правом на OData
  password: ${EDO_RULES_1C_PASSWORD}
  preset: bp30                       # bp30 или bp30-legacy (СостоянияЭД)
  timeout: 30                        # секунд на ответ 1С (первый запрос: first_timeout, 90)

bitrix24:
  webhook_url: ${EDO_RULES_B24_WEBHOOK}  # https://портал.bitrix24.ru/rest/1/секрет/
  plan: ordinary                     # ordinary, enterprise или {capacity: 50, rate: 2}
  timeout: 60                        # секунд на ответ Битрикс24
  users: {}                          # ответственный в 1С → id пользователя Битрикс24,
                                     # например "Иванов Алексей": 7
  fallback_user: 1                   # кому, если ответственного не найти
  accounting: {department: 1}        # бухгалтерия (или {user: ID}): получатель accounting
  deal:
    strategy: latest_open            # field (рекомендуется), latest_open или none
  mirror:                            # реестр документов в карточках сделок и компаний:
    target: smart_process            # смарт-процесс, его создаёт `edo-rules bitrix24 setup`
    entity_type_id: 1100             # (или target: list и iblock_id списка, созданного вручную)
    title: Документы ЭДО

logging:
  level: info
  format: text                       # text или json
"""

SECRETS = """\
# Секреты edo-rules: замените значения на настоящие. Файл читает только владелец.
EDO_RULES_1C_PASSWORD=замените-пароль-1С
EDO_RULES_B24_WEBHOOK=https://portal.bitrix24.ru/rest/1/replace-me/
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="write a commented edo-rules.yaml, secrets.env and playbooks/ to start from",
        description="Write a starting configuration that validates as written: a commented"
        " edo-rules.yaml, secrets.env with placeholders, and playbooks/ with the bundled"
        " playbooks. Edit them, then `edo-rules validate --config edo-rules.yaml`.",
    )
    parser.add_argument(
        "--dir", type=Path, default=Path("."), metavar="DIR", help="where (default: here)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    written = init(args.dir, force=args.force)
    config = args.dir / "edo-rules.yaml"
    print(t("init_done", files=", ".join(str(p) for p in written), config=config))
    return 0


def init(folder: Path, *, force: bool = False) -> list[Path]:
    """Write the starter files into ``folder``; returns what was written."""
    from edo_rules.demo._playbooks import bundled_playbooks

    config, secrets, playbooks = (
        folder / "edo-rules.yaml",
        folder / "secrets.env",
        folder / "playbooks",
    )
    for path in (config, secrets, playbooks):
        if path.exists() and not force:
            raise EdoRulesError(t("init_exists", path=path))
    folder.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG, encoding="utf-8")
    secrets.write_text(SECRETS, encoding="utf-8")
    os.chmod(secrets, 0o600)
    shutil.copytree(bundled_playbooks(), playbooks, dirs_exist_ok=True)  # with their tests/
    return [config, secrets, playbooks]
