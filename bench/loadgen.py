"""A small HTTP load generator for the benchmarks, run as its own process.

    python bench/loadgen.py --port 8123 --path '/api/v1/incidents/?case=1' --duration 5

Threads, each with its own keep-alive http.client connection (reopened whenever the server
closes it, as gunicorn's sync workers do after every response), send GET requests until the
duration or the request budget runs out, whichever comes first. Only loopback addresses are
accepted. API tokens, if any, come from the ATTEST_LOADGEN_TOKENS environment variable
(comma-separated) and are used in turn, one per request. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import itertools
import json
import os
import socket
import statistics
import sys
import threading
import time

MAX_ERRORS = 100  # stop early rather than hammer a server that is failing


def loopback_only(host: str) -> str:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as exc:
        raise argparse.ArgumentTypeError(f"cannot resolve {host!r}: {exc}") from None
    if not addresses or not all(ipaddress.ip_address(address).is_loopback for address in addresses):
        raise argparse.ArgumentTypeError(f"{host!r} is not a loopback address; the load stays on this machine")
    return host


class Budget:
    """Request numbers shared by the threads, up to a maximum count and a deadline."""

    def __init__(self, max_requests: int, deadline: float):
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self.max_requests = max_requests
        self.deadline = deadline

    def take(self) -> int | None:
        if time.perf_counter() >= self.deadline:
            return None
        with self._lock:
            number = next(self._counter)
        return number if number < self.max_requests else None


def worker(args, budget: Budget, tokens: list[str], result: dict) -> None:
    """Fills its own result dict (latencies, statuses, ok, errors); run() merges them after join."""
    connection = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
    latencies, statuses, errors = result["latencies"], result["statuses"], result["errors"]
    try:
        while len(errors) < MAX_ERRORS and (number := budget.take()) is not None:
            headers = {"Accept": "application/json"}
            if tokens:
                headers["Authorization"] = f"Token {tokens[number % len(tokens)]}"
            started = time.perf_counter()
            try:
                connection.request("GET", args.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                connection.close()  # the next request opens a new connection
                continue
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status == 200 and body:
                result["ok"] += 1
            else:
                errors.append(f"HTTP {response.status}: {body[:200]!r}")
            if response.will_close:
                connection.close()
    finally:
        connection.close()


def run(args) -> dict:
    tokens = [token for token in os.environ.get("ATTEST_LOADGEN_TOKENS", "").split(",") if token]
    started = time.perf_counter()
    budget = Budget(args.max_requests, started + args.duration)
    results = [{"latencies": [], "statuses": {}, "errors": [], "ok": 0} for _ in range(args.concurrency)]
    threads = [threading.Thread(target=worker, args=(args, budget, tokens, result), daemon=True) for result in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        # A request blocks at most --timeout seconds, so every thread ends soon after the deadline.
        thread.join(args.duration + 2 * args.timeout + 5)
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for result in results for latency in result["latencies"])
    errors = [error for result in results for error in result["errors"]]
    statuses: dict[int, int] = {}
    for result in results:
        for code, count in result["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    ok = sum(result["ok"] for result in results)
    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "errors": len(errors),
        "first_errors": errors[:5],
        "elapsed_s": elapsed,
        "rps": ok / elapsed if elapsed else 0.0,
        "median_ms": statistics.median(latencies) * 1000 if latencies else None,
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else None,
        "concurrency": args.concurrency,
        "stalled_threads": sum(thread.is_alive() for thread in threads),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", type=loopback_only, default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds (at most 120)")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 120 or not 0 < args.concurrency <= 64 or args.max_requests < 1:
        parser.error("need 0 < duration <= 120, 0 < concurrency <= 64 and max-requests >= 1")
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
