"""Files and transport are private: the store's files, playbook roots, plain HTTP, Jinja."""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from store_contract import make_document

from edo_rules.actions.bitrix24 import Bitrix24Settings
from edo_rules.errors import ConfigError
from edo_rules.playbook.loader import validate_paths
from edo_rules.runner.lock import StoreLock, lock_path_for
from edo_rules.runner.reload import PlaybookWatcher
from edo_rules.sources.onec import OneCSettings
from edo_rules.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The distribution default (0022): what a store made by hand outside systemd gets."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("loose_umask")
def test_store_wal_shm_and_lock_are_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "edo-rules.db"
    with StoreLock(path, command="test"), SQLiteStore(path) as store:
        store.upsert_documents([make_document("d1")])
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), lock_path_for(path)]
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}


SECRET = "db.internal:5432:*:edo:S3cret-pgpass"
PLAYBOOK = (
    "version: 1\nname: ok\nrules:\n  - id: r\n    when: {status_changed: {}}\n    do: [log: {}]\n"
)


def _folder(tmp_path: Path) -> Path:
    (tmp_path / ".pgpass").write_text(SECRET + "\n", encoding="utf-8")
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "ok.yaml").write_text(PLAYBOOK, encoding="utf-8")
    return folder


def test_a_link_out_of_the_playbooks_folder_is_refused_unread(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "pgpass.yaml").symlink_to(tmp_path / ".pgpass")
    (folder / "inside.yaml").symlink_to(folder / "ok.yaml")  # a link inside: the same file
    result = validate_paths([folder])
    (problem,) = result.problems
    assert problem.file.endswith("pgpass.yaml") and "S3cret" not in str(problem)
    assert f"a link to {tmp_path / '.pgpass'}, outside the playbooks folder" in problem.message
    assert [p.name for p in result.playbooks] == ["ok"]


@pytest.mark.parametrize(
    "content",
    [
        SECRET,  # YAML reads it as one string
        "password: S3cret-pgpass\nuser: edo\n",  # a mapping, but no key of a playbook
        "S3cret-pgpass: [\n  unclosed\n",  # not YAML at all
        "- S3cret-pgpass\n",
    ],
)
def test_a_file_that_is_not_a_playbook_is_never_quoted(tmp_path: Path, content: str) -> None:
    folder = _folder(tmp_path)
    (folder / "stray.yaml").write_text(content, encoding="utf-8")
    (problem,) = validate_paths([folder]).problems
    assert "S3cret" not in str(problem)
    assert "not an edo-rules playbook" in problem.message
    assert "its content is not shown" in problem.message


def test_a_playbook_with_mistakes_is_still_quoted(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "typo.yaml").write_text("version: 1\nname: t\nrules: {x: oops}\n", "utf-8")
    (problem,) = validate_paths([folder]).problems
    assert "получено: словарь {'x': 'oops'}" in problem.message


def test_a_named_pipe_is_refused_not_read(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    (problem,) = validate_paths([pipe]).problems  # reading it would block for ever
    assert "not a regular file" in problem.message


def test_hot_reload_logs_no_content_of_a_linked_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _folder(tmp_path)
    watcher = PlaybookWatcher([folder], on_change=lambda _: None)
    (folder / "pgpass.yaml").symlink_to(tmp_path / ".pgpass")
    with caplog.at_level(logging.ERROR, logger="edo_rules.reload"):
        assert watcher.check() is False
    assert "outside the playbooks folder" in caplog.text and "S3cret" not in caplog.text


@pytest.mark.parametrize(
    "url",
    ["http://1c.example.local/buh", "http://10.0.0.5:8080", "http://[fe80::1]/"],
)
def test_plain_http_to_another_machine_is_refused(url: str) -> None:
    section = {"url": url, "user": "edo", "password": "S3cret"}
    with pytest.raises(ConfigError) as caught:
        OneCSettings.from_mapping(section, where="edo-rules.yaml")
    message = str(caught.value)
    assert "onec.url:" in message and "plain http to another machine" in message
    assert "allow_insecure_http: true" in message and "S3cret" not in message
    allowed = OneCSettings.from_mapping({**section, "allow_insecure_http": True}, where="c.yaml")
    assert allowed.allow_insecure_http


@pytest.mark.parametrize(
    "url",
    ["https://1c.example.local", "http://127.0.0.1:8080", "http://localhost/buh", "http://[::1]"],
)
def test_https_and_this_machine_are_accepted(url: str) -> None:
    settings = OneCSettings.from_mapping({"url": url, "user": "u", "password": "p"}, where="c")
    assert settings.url == url


def test_bitrix24_webhook_over_plain_http_is_refused() -> None:
    hook = {"webhook_url": "http://portal.example.ru/rest/1/S3cret/"}
    with pytest.raises(ConfigError) as caught:
        Bitrix24Settings.from_mapping(hook, where="edo-rules.yaml")
    assert "— обычный http: портал принимает только https://" in str(
        caught.value
    ) and "S3cret" not in str(caught.value)


def test_jinja2_is_pinned_past_the_sandbox_cves() -> None:
    # CVE-2024-56201 and CVE-2024-56326 are fixed in 3.1.5, CVE-2025-27516 (|attr) in 3.1.6.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    (pin,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("jinja2")]
    assert pin == "jinja2>=3.1.6"
    installed = tuple(int(p) for p in version("jinja2").split(".")[:3])
    assert installed >= (3, 1, 6)


def test_the_documented_units_keep_files_private_and_descriptors_ample() -> None:
    text = (ROOT / "docs" / "systemd.md").read_text("utf-8")
    units = [block for block in text.split("```ini")[1:] if "[Service]" in block]
    assert len(units) >= 2
    for unit in units:
        service = unit.split("```")[0]
        assert "\nUMask=0077\n" in service
        limit = re.search(r"\nLimitNOFILE=(\d+)\n", service)
        assert limit is not None and int(limit[1]) > 1024  # systemd's default is 1024
