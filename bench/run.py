"""Run every benchmark in bench/ (files named bench_*.py), each printing its ratio to a baseline.

Each benchmark runs in its own process with this interpreter, so that each can set up Django with
its own settings and database without disturbing the others. Arguments are passed on to every
benchmark (e.g. `bench/run.py --quick`). The exit code is 1 when a benchmark crashed or ran out
of time, not when it missed its target: the figures are what matter.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
TIMEOUT = int(os.environ.get("ATTEST_BENCH_TIMEOUT", "900"))  # seconds per benchmark


def main() -> int:
    # A SIGTERM to this runner (a CI time limit) stops the running benchmark as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    benchmarks = sorted(BENCH_DIR.glob("bench_*.py"))
    if not benchmarks:
        print("No benchmark exists yet: later work adds bench/bench_*.py files.")
        return 0
    failed = []
    for path in benchmarks:
        print(f"== {path.stem}", flush=True)
        started = time.monotonic()
        # Its own process group: whatever it started and left running is stopped before the next one,
        # which would otherwise share the two cores with it and measure less than it should.
        process = subprocess.Popen([sys.executable, str(path), *sys.argv[1:]], cwd=ROOT, start_new_session=True)
        try:
            code = process.wait(timeout=TIMEOUT)
        except KeyboardInterrupt:
            # Ctrl-C reaches only the terminal's process group, not the benchmark's own: pass it on.
            print(f"== {path.stem}: interrupted, stopping it", flush=True)
            stop_what_is_left(process.pid)
            return 130
        except subprocess.TimeoutExpired:
            code = "timeout"
            process.terminate()  # SIGTERM: the benchmark stops its servers and removes its files
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        left = stop_what_is_left(process.pid)
        if left:
            print(f"== {path.stem} left processes running: stopped them ({left})", flush=True)
        if code != 0:
            failed.append(f"{path.stem} ({code})")
        print(
            f"== {path.stem}: {'ok' if code == 0 else 'ERROR'} in {time.monotonic() - started:.0f} s",
            flush=True,
        )
    if failed:
        print(f"Benchmarks that did not complete: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def stop_what_is_left(group: int) -> str:
    """Stop the processes still in the benchmark's group; '' if there were none, else how."""
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return ""
    for _ in range(50):
        time.sleep(0.1)
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return "SIGTERM"
    os.killpg(group, signal.SIGKILL)
    return "SIGKILL"


if __name__ == "__main__":
    sys.exit(main())
