"""Waiting in the main thread so that signals are handled at once.

Python runs a signal's handler in the main thread only, between two bytecodes. The
kernel may hand a process's SIGTERM or SIGINT to any of its threads that does not block
it (the web server's, say); the main thread, asleep in a lock's wait, is then not woken,
and the handler runs only when that wait ends. A runner on an hourly schedule stopped a
minute after its SIGTERM, and ``serve``, waiting with no timeout, could not stop at all.
So the main thread sleeps in slices.
"""

from __future__ import annotations

import threading

#: The longest the main thread sleeps at once: the most a signal's handler waits.
SLEEP_SLICE = 1.0


def wait_in_slices(event: threading.Event) -> None:
    """``event.wait()``, in the main thread, waking every :data:`SLEEP_SLICE` seconds."""
    while not event.wait(SLEEP_SLICE):
        pass
