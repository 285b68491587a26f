"""The link settings of the onec section, and validate's warning about an unfillable pdf_url."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from edo_rules.cli import main
from edo_rules.errors import ConfigError
from edo_rules.sources.onec import OneCSettings

_PLAYBOOK = dedent(
    """
    version: 1
    name: a
    rules:
      - id: r
        when: {status_changed: {to: signed}}
        do:
          - log: {message: "PDF: {{ doc.pdf_url }}, 1С: {{ doc.onec_url }}"}
    """
).lstrip()
_ONEC = "onec: {url: 'https://1c.local', base: buh, user: u, password: p%s}\n"


def _config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    (tmp_path / "playbooks" / "a.yaml").write_text(_PLAYBOOK, "utf-8")
    path = tmp_path / "edo-rules.yaml"
    path.write_text("version: 1\n" + _ONEC % extra, "utf-8")
    return path


def test_validate_warns_when_a_playbook_uses_a_pdf_url_the_config_cannot_fill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    assert main(["validate", "--config", str(path)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    where = tmp_path / "playbooks" / "a.yaml"
    expected = f"предупреждение: {where}:7:9: log: doc.pdf_url останется пустым: в конфиге нет"
    assert expected in out
    path = _config(tmp_path, ", pdf_url: 'https://edo.example/d/{id}'")
    assert main(["validate", "--config", str(path)]) == 0
    assert "предупреждение" not in capsys.readouterr().out


def test_link_settings_are_checked_with_a_clear_message() -> None:
    base = {"url": "https://1c.local", "user": "u", "password": "p"}
    for key, value, expected in (
        ("web_url", "1c.local/buh", "должен быть адресом http:// или https://"),
        (
            "pdf_url",
            "https://edo/{nope}",
            "pdf_url: в шаблоне неизвестные поля nope (допустимые: id, ref, number, date, inn,"
            " kind, direction, onec_url)",
        ),
        (
            "pdf_url",
            "https://edo/{id",
            "pdf_url: неправильный шаблон адреса (expected '}' before end of string); поля"
            " записываются в фигурных скобках: {id}, {number}",
        ),
        ("concurrency", 0, "должен быть положительным числом, получено: 0"),
    ):
        with pytest.raises(ConfigError) as caught:
            OneCSettings.from_mapping({**base, key: value}, where="c.yaml")
        assert expected in str(caught.value), (key, value)
    good = OneCSettings.from_mapping(
        {**base, "base": "buh", "pdf_url": "https://edo/{number}/{inn}"}, where="c.yaml"
    )
    assert good.web_client_url == "https://1c.local/buh/"
