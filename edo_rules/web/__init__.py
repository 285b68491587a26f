"""The web app: dashboard pages, document and deal pages, control endpoints, ``/metrics``.

It reads the store through read models (:mod:`._queries`) and never writes
documents itself; the runner passes in what the control endpoints call.
"""

from edo_rules.web._access import Access, hash_password, verify_password
from edo_rules.web._app import build_app
from edo_rules.web._control import Control
from edo_rules.web._dashboard import Dashboard, DocumentSource, Links
from edo_rules.web._filters import FilterError, Filters
from edo_rules.web._server import Endpoint, WebServer

__all__ = [
    "Access",
    "Control",
    "Dashboard",
    "DocumentSource",
    "Endpoint",
    "FilterError",
    "Filters",
    "Links",
    "WebServer",
    "build_app",
    "hash_password",
    "verify_password",
]
