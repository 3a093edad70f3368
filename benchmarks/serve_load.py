"""`odqa serve` under load and bad input, on loopback only, bounded in time.

    python benchmarks/serve_load.py [--clients 16 --seconds 60 --burst 64] [--fuzz-examples 30]

Starts ``odqa serve`` (the index and models of the current settings: what ``bash scripts/demo.sh``
built) on a free 127.0.0.1 port, then

1. **steady**: ``--clients`` concurrent clients ask SQuAD dev part A questions for ``--seconds``
   (server queue sized for them): every request must succeed; p50/p99 latency and throughput;
2. **burst**: ``--burst`` requests at once against a server with ``--workers`` + ``--queue`` slots:
   the rest must be refused with 503 + Retry-After (no crash, no other error), and the server
   answers normally right after;
3. **fuzz**: schemathesis generates requests from the OpenAPI schema for every route
   (``--fuzz-examples`` each) and checks that none gets a server error (5xx other than the
   deliberate 503).

Prints the machine's reference speed first and writes ``benchmarks/results/serve_load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from _common import RESULTS, data_dir, write_results
from rich.console import Console
from rich.table import Table

from odqa.corpus.squad import read_squad
from odqa.train.speed import reference_speed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(workers: int, queue: int, log: Path) -> Iterator[str]:
    """``odqa serve`` in a child process until the block ends; yields its base URL once ready."""
    port = free_port()
    cmd = [sys.executable, "-m", "odqa.cli", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--queue", str(queue)]
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"odqa serve did not become ready; see {log}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def post(url: str, question: str) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    try:
        r = httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=300)
        return r.status_code, time.perf_counter() - t0, r.headers.get("Retry-After", "")
    except httpx.HTTPError as e:
        return -1, time.perf_counter() - t0, type(e).__name__


def steady(url: str, questions: list[str], clients: int, seconds: float) -> dict[str, Any]:
    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        rng = random.Random(i)
        while time.monotonic() < stop:
            got = post(url, rng.choice(questions))
            with lock:
                results.append(got)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ok = [lat for code, lat, _ in results if code == 200]
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(results),
        "ok": len(ok),
        "503": sum(code == 503 for code, _, _ in results),
        "errors": sum(code not in (200, 503) for code, _, _ in results),
        "p50_ms": round(float(np.percentile(ok, 50)) * 1000, 1) if ok else None,
        "p99_ms": round(float(np.percentile(ok, 99)) * 1000, 1) if ok else None,
        "throughput_qps": round(len(ok) / wall, 2),
    }


def burst(url: str, questions: list[str], n: int) -> dict[str, Any]:
    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()
    gate = threading.Barrier(n)

    def one(i: int) -> None:
        gate.wait()
        got = post(url, questions[i % len(questions)])
        with lock:
            results.append(got)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = post(url, questions[0])
    refused = [r for r in results if r[0] == 503]
    return {
        "requests": n,
        "ok": sum(code == 200 for code, _, _ in results),
        "503": len(refused),
        "503_with_retry_after": sum(bool(h) for _, _, h in refused),
        "errors": sum(code not in (200, 503) for code, _, _ in results),
        "after_burst_status": after[0],
        "after_burst_ms": round(after[1] * 1000, 1),
    }


def fuzz(url: str, examples: int, report: Path) -> dict[str, Any]:
    """schemathesis over every route of the OpenAPI schema: server errors other than 503 fail."""
    exe = Path(sys.executable).with_name("schemathesis")
    cmd = [str(exe), "run", f"{url}/openapi.json", "--checks", "not_a_server_error"]
    cmd += ["--max-examples", str(examples), "--seed", "0", "--request-timeout", "120"]
    cmd += ["--report", "ndjson", "--report-ndjson-path", str(report)]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=1800, env={**os.environ, "NO_COLOR": "1"}
    )
    statuses: dict[str, int] = {}
    server_errors = 0
    if report.is_file():
        for line in report.read_text(encoding="utf-8").splitlines():
            for code in _status_codes(json.loads(line)):
                statuses[str(code)] = statuses.get(str(code), 0) + 1
                server_errors += code >= 500 and code != 503
    tail = proc.stdout.strip().splitlines()[-6:]
    return {
        "exit_code": proc.returncode,
        "seconds": round(time.perf_counter() - t0, 1),
        "responses_by_status": dict(sorted(statuses.items())),
        "server_errors": server_errors,
        "summary": tail,
    }


def _status_codes(event: Any) -> Iterator[int]:
    """Every HTTP status code recorded in a schemathesis NDJSON event (wherever it sits)."""
    if isinstance(event, dict):
        for key, value in event.items():
            if key == "status_code" and isinstance(value, int):
                yield value
            else:
                yield from _status_codes(value)
    elif isinstance(event, list):
        for value in event:
            yield from _status_codes(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--queue", type=int, default=4, help="waiting slots in the burst phase")
    ap.add_argument("--burst", type=int, default=64)
    ap.add_argument("--fuzz-examples", type=int, default=30, help="per route; 0 skips the fuzz phase")
    ap.add_argument("--name", default="serve_load")
    args = ap.parse_args()
    console = Console(width=150)
    ref = reference_speed()
    console.print(ref.summary())
    _, examples = read_squad(data_dir() / "squad" / "dev-v1.1-part-a.json", progress=False)
    questions = [ex.question for ex in examples]
    work = RESULTS.parent / "work"
    work.mkdir(parents=True, exist_ok=True)

    payload: dict[str, Any] = {"reference_speed": ref.as_dict(), "workers": args.workers}
    with server(args.workers, args.clients, work / "serve_steady.log") as url:
        console.print(f"steady: {args.clients} clients for {args.seconds:.0f} s against {url}/v1/ask")
        payload["steady"] = steady(url, questions, args.clients, args.seconds)
    with server(args.workers, args.queue, work / "serve_burst.log") as url:
        console.print(f"burst: {args.burst} requests at once, {args.workers} worker(s) + {args.queue} queued")
        payload["burst"] = burst(url, questions, args.burst)
        if args.fuzz_examples:
            console.print(f"fuzz: schemathesis, {args.fuzz_examples} examples per route")
            payload["fuzz"] = fuzz(url, args.fuzz_examples, work / "serve_fuzz.ndjson")

    table = Table("phase", "requests", "200", "503", "other errors", "p50 ms", "p99 ms", "req/s")
    s, b = payload["steady"], payload["burst"]
    table.add_row(
        "steady",
        str(s["requests"]),
        str(s["ok"]),
        str(s["503"]),
        str(s["errors"]),
        str(s["p50_ms"]),
        str(s["p99_ms"]),
        str(s["throughput_qps"]),
    )
    table.add_row("burst", str(b["requests"]), str(b["ok"]), str(b["503"]), str(b["errors"]), "", "", "")
    console.print(table)
    console.print(f"after the burst: HTTP {b['after_burst_status']} in {b['after_burst_ms']} ms")
    if "fuzz" in payload:
        f = payload["fuzz"]
        console.print(
            f"fuzz: {f['responses_by_status']} -> {f['server_errors']} server errors ({f['seconds']} s)"
        )
    path = write_results(args.name, payload)
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
