import sys; sys.path.insert(0, "benchmarks")
from pathlib import Path
import tick
tick.build(Path("/tmp/b1m.sqlite3"), 1_000_000)
