"""``edo-rules demo``: a month of a company's EDO signing, end to end, on loopback.

Starts the 1C OData and Bitrix24 REST emulators on free 127.0.0.1 ports,
seeds one coherent company into both, writes a config for them, and runs the
bundled playbooks through the real runner pipeline (sync → evaluate →
dispatch over HTTP) on simulated working days with an injected clock. Every
day the emulated 1C sends documents and customers sign, reject or stay
silent; the timeline shows what changed, which rules fired and what appeared
in Bitrix24, and a summary closes the month.
"""

from edo_rules.demo._report import DemoResult
from edo_rules.demo._run import DemoOptions, run_demo

__all__ = ["DemoOptions", "DemoResult", "run_demo"]
