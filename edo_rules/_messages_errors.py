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
