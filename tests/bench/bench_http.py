"""Benchmark: the two origins over HTTP, measured by a load generator in its own process.

Run: .venv/bin/python -m tests.bench.bench_http [SECONDS]
Starts the playground and, as the anchor, a bare FastAPI app behind Starlette's
CORSMiddleware (tests/bench/anchor.py), each in its own process, then prints:
- requests on one kept-alive connection (a page, a static file, JSON, the target's answer);
- ``POST /api/explain`` from 32 concurrent clients: throughput, p50, p99;
- the API origin's answers (preflight, actual request) against the anchor's, same load.
Not a timed test: it prints figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx

from app.generate import generate, scenario_document
from tests.bench.bench_events import REPO, start_server
from tests.bench.load import load, request

CONCURRENCY = 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_anchor(page_origin: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.anchor", str(port), page_origin, str(workers)],
        env=env,
        cwd=REPO,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the anchor did not start")


def cors_requests(host: str, path: str, page: str) -> tuple[bytes, bytes]:
    preflight = request("OPTIONS", path, host, [
        ("Origin", page), ("Access-Control-Request-Method", "PUT"),
        ("Access-Control-Request-Headers", "content-type"),
    ])  # fmt: skip
    actual = request("PUT", path, host, [("Origin", page), ("Content-Type", "text/plain")], b"hi")
    return preflight, actual


async def main_async(seconds: float) -> None:
    process, site, api = start_server()
    site_host, api_host = urlsplit(site).netloc, urlsplit(api).netloc
    page = site
    anchor, anchor_port = start_anchor(page)
    try:
        scenario = {
            "request": {"method": "PUT", "headers": [["Content-Type", "text/plain"]]},
            "preflight_response": {"status": 204, "headers": [
                ["Access-Control-Allow-Origin", page], ["Access-Control-Allow-Methods", "PUT"],
                ["Access-Control-Allow-Headers", "content-type"], ["Vary", "Origin"]]},
            "response": {"status": 200, "headers": [
                ["Access-Control-Allow-Origin", page], ["Vary", "Origin"],
                ["Content-Type", "text/plain; charset=utf-8"]]},
        }  # fmt: skip
        run = httpx.post(f"{site}/api/runs", json=scenario).json()
        path = urlsplit(run["target"]).path
        site_port, api_port = int(site_host.rsplit(":", 1)[1]), int(api_host.rsplit(":", 1)[1])
        bodies = [json.dumps(scenario_document(d)).encode() for d in generate(200, seed=11)]

        print("Requests on one kept-alive connection (sequential):")
        json_type = [("Content-Type", "application/json")]
        explain = [request("POST", "/api/explain", site_host, json_type, b) for b in bodies]
        kept = {
            "page (GET /api)": (site_port, [request("GET", "/api", site_host)]),
            "static file": (site_port, [request("GET", "/static/css/app.css", site_host)]),
            "JSON (POST /api/explain)": (site_port, explain[:20]),
            "API origin answer": (api_port, [cors_requests(api_host, path, page)[1]]),
        }
        for label, (port, reqs) in kept.items():
            result = await load("127.0.0.1", port, reqs, concurrency=1, seconds=60, count=200)
            print("  " + result.line(label), flush=True)

        print(f"POST /api/explain, {CONCURRENCY} concurrent clients, {seconds:.0f} s:")
        result = await load("127.0.0.1", site_port, explain, concurrency=CONCURRENCY,
                            seconds=seconds)  # fmt: skip
        print("  " + result.line("explain"), flush=True)

        print(f"API origin vs FastAPI + CORSMiddleware, {CONCURRENCY} concurrent, {seconds:.0f} s:")
        anchor_host = f"127.0.0.1:{anchor_port}"
        for index, kind in enumerate(("preflight", "actual request")):
            ours = cors_requests(api_host, path, page)[index]
            theirs = cors_requests(anchor_host, "/r/anchor", page)[index]
            mine = await load("127.0.0.1", api_port, [ours], concurrency=CONCURRENCY,
                              seconds=seconds)  # fmt: skip
            base = await load("127.0.0.1", anchor_port, [theirs], concurrency=CONCURRENCY,
                              seconds=seconds)  # fmt: skip
            print("  " + mine.line(f"playground {kind:>14}"))
            print("  " + base.line(f"anchor     {kind:>14}"))
            print(f"  {kind}: {mine.rate / base.rate:.2f}x the anchor", flush=True)
    finally:
        for proc in (process, anchor):
            proc.terminate()
            proc.wait(10)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    asyncio.run(main_async(seconds))


if __name__ == "__main__":
    main()
