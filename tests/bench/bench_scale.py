"""Benchmark: the playground at workshop scale, in memory (one process) and on Redis with two
worker processes, measured by a load generator in its own process.

Run: .venv/bin/python -m tests.bench.bench_scale [SECONDS] [memory|redis]
For each backend it starts the playground (and, for Redis, a real redis-server on a free
port), then prints:

- API origin hit -> event at the session's subscriber: 1 session, then 300 sessions at once;
- ``POST /api/explain`` from 32 concurrent clients: throughput, p50, p99;
- the API origin's answers against the anchor (FastAPI + CORSMiddleware, as many processes);
- the composer's live prediction (``POST /sessions/<id>/explain``, what each edit sends)
  while 300 sessions each make one edit per second: p50, p99;
- the server's resident memory with those 300 sessions (every playground process, and Redis).

All on this machine's cores, the generator's work included. Not a timed test: it prints figures.
"""

from __future__ import annotations

import asyncio
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

from tests.bench.bench_events import measure, report, start_server
from tests.bench.bench_http import CONCURRENCY, cors_requests, start_anchor
from tests.bench.load import load, read_response, request
from tests.redis_server import RedisServer

SESSIONS = 300
EDIT_FORM = urlencode(
    [
        ("method", "PUT"), ("target", "same"), ("credentials", "include"), ("mode", "cors"),
        ("rq_name", "Content-Type"), ("rq_value", "application/json"),
        ("pf_status", "204"),
        ("pf_name", "Access-Control-Allow-Origin"), ("pf_value", "http://127.0.0.1"),
        ("pf_name", "Access-Control-Allow-Methods"), ("pf_value", "PUT"),
        ("rs_status", "200"),
        ("rs_name", "Access-Control-Allow-Origin"), ("rs_value", "*"),
    ]
).encode()  # fmt: skip


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def family(pid: int) -> list[int]:
    """The process and its children (the worker processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(c) for c in children.read_text().split()] if children.exists() else []
    return [pid, *found]


@contextmanager
def backend(name: str) -> Iterator[tuple[list[str], int | None, int]]:
    """``serve`` options, the Redis server's pid (or None) and the worker count."""
    if name == "memory":
        yield [], None, 1
        return
    with RedisServer() as redis:
        assert redis.process is not None
        yield ["--redis", redis.url, "--workers", "2"], redis.process.pid, 2


async def edits(site: str, sessions: int, seconds: float) -> list[float]:
    """Each session edits its composer once a second (at its own moment in the second); the
    time from sending an edit to the whole prediction arriving."""
    parts = urlsplit(site)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    async with httpx.AsyncClient(timeout=30) as client:
        sids = []
        for _ in range(sessions):
            location = (await client.get(f"{site}/")).headers["location"]
            sids.append(location.split("/sessions/")[1].split("?")[0])
    latencies: list[float] = []

    async def editor(sid: str) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        body = request(
            "POST", f"/sessions/{sid}/explain", parts.netloc,
            [("Content-Type", "application/x-www-form-urlencoded"), ("HX-Request", "true")],
            EDIT_FORM,
        )  # fmt: skip
        await asyncio.sleep(random.random())
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                writer.write(body)
                status = await read_response(reader)
                if status == 200:
                    latencies.append(time.monotonic() - started)
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        finally:
            writer.close()

    await asyncio.gather(*(editor(sid) for sid in sids))
    return latencies


def line(label: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"{label}: p50 {statistics.median(ms):6.2f} ms  p99 {p99:6.2f} ms  ({len(ms)} requests)"


async def http_figures(site: str, api: str, workers: int, seconds: float) -> None:
    api_host, site_host = urlsplit(api).netloc, urlsplit(site).netloc
    site_port, api_port = int(site_host.rsplit(":", 1)[1]), int(api_host.rsplit(":", 1)[1])
    scenario = {
        "request": {"method": "PUT", "headers": [["Content-Type", "text/plain"]]},
        "preflight_response": {"status": 204, "headers": [
            ["Access-Control-Allow-Origin", site], ["Access-Control-Allow-Methods", "PUT"],
            ["Access-Control-Allow-Headers", "content-type"], ["Vary", "Origin"]]},
        "response": {"status": 200, "headers": [
            ["Access-Control-Allow-Origin", site], ["Vary", "Origin"],
            ["Content-Type", "text/plain; charset=utf-8"]]},
    }  # fmt: skip
    async with httpx.AsyncClient(timeout=30) as client:
        run = (await client.post(f"{site}/api/runs", json=scenario)).json()
    path = urlsplit(run["target"]).path
    body = httpx.Request("POST", "http://x", json=scenario).content
    explain = [request("POST", "/api/explain", site_host, [("Content-Type", "application/json")],
                       body)]  # fmt: skip
    result = await load("127.0.0.1", site_port, explain, concurrency=CONCURRENCY, seconds=seconds)
    print("  " + result.line(f"POST /api/explain, {CONCURRENCY} clients"), flush=True)
    anchor, anchor_port = start_anchor(site, workers)
    try:
        for index, kind in enumerate(("preflight", "actual request")):
            ours = cors_requests(api_host, path, site)[index]
            theirs = cors_requests(f"127.0.0.1:{anchor_port}", "/r/anchor", site)[index]
            mine = await load("127.0.0.1", api_port, [ours], concurrency=CONCURRENCY,
                              seconds=seconds)  # fmt: skip
            base = await load("127.0.0.1", anchor_port, [theirs], concurrency=CONCURRENCY,
                              seconds=seconds)  # fmt: skip
            print(f"  API origin {kind}: {mine.rate:.0f} req/s, anchor {base.rate:.0f} req/s: "
                  f"{mine.rate / base.rate:.2f}x", flush=True)  # fmt: skip
    finally:
        anchor.terminate()
        anchor.wait(10)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    backends = (("memory", "In memory, 1 process"), ("redis", "Redis, 2 worker processes"))
    for name, label in backends:
        if only and name != only:
            continue
        with backend(name) as (options, redis_pid, workers):
            process, site, api = start_server(*options)
            try:
                for _ in range(100):
                    try:
                        if httpx.get(f"{site}/api/health", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.1)
                print(f"{label}:", flush=True)
                for sessions, rounds in ((1, 20), (SESSIONS, 10)):
                    latencies, from_send = asyncio.run(measure(site, sessions, rounds))
                    print("  hit -> event, " + report(sessions, latencies).strip(), flush=True)
                    print("  sent -> event, " + report(sessions, from_send).strip(), flush=True)
                asyncio.run(http_figures(site, api, workers, seconds))
                edited = asyncio.run(edits(site, SESSIONS, 10.0))
                print("  " + line(f"composer edit -> prediction, {SESSIONS} sessions x 1/s",
                                  edited), flush=True)  # fmt: skip
                resident = sum(rss_mib(pid) for pid in family(process.pid))
                extra = f" + Redis {rss_mib(redis_pid):.0f} MiB" if redis_pid else ""
                print(f"  memory with {SESSIONS}+ sessions: playground {resident:.0f} MiB"
                      f" ({workers} process{'es' if workers > 1 else ''}){extra}", flush=True)
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    main()
