"""Where the bundled playbooks are.

In a source checkout they are the repository's ``playbooks/`` folder, next to
the package. A built wheel carries the same files inside the package, at
``edo_rules/demo/playbooks`` (hatch ``force-include`` in ``pyproject.toml``), so
the demo also works from an installed package. One copy in the repository,
one in the wheel: they cannot drift.
"""

from __future__ import annotations

from pathlib import Path

from edo_rules.errors import EdoRulesError

_HERE = Path(__file__).resolve().parent


def bundled_playbooks() -> Path:
    """The folder of bundled playbooks; raises :class:`EdoRulesError` when none is found."""
    for candidate in (_HERE / "playbooks", _HERE.parent.parent / "playbooks"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise EdoRulesError(
        "the bundled playbooks are missing (neither edo_rules/demo/playbooks nor the "
        "repository's playbooks/ folder was found); reinstall edo-rules"
    )
