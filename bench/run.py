"""Run every benchmark in bench/ (files named bench_*.py), each printing its ratio to a baseline."""

import runpy
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main() -> int:
    sys.path.insert(0, str(BENCH_DIR.parent))
    benchmarks = sorted(BENCH_DIR.glob("bench_*.py"))
    if not benchmarks:
        print("No benchmark exists yet: later work adds bench/bench_*.py files.")
        return 0
    for path in benchmarks:
        print(f"== {path.stem}", flush=True)
        runpy.run_path(str(path), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
