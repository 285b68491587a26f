import sys; sys.path.insert(0, "benchmarks")
from pathlib import Path
import tick, shutil, time
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.engine import Engine
p = Path("/tmp/bench100k.sqlite3")
if not p.exists():
    tick.build(p, 100000)
shutil.copy(p, "/tmp/work.sqlite3")
store = SQLiteStore("/tmp/work.sqlite3")
e = Engine(store, [tick.load_bench_playbook()], tick.CALENDAR)
import cProfile, pstats
cProfile.run("r = e.evaluate(tick.NOW)", "/tmp/prof")
print(len(r.fired))
pstats.Stats("/tmp/prof").sort_stats("tottime").print_stats(25)
