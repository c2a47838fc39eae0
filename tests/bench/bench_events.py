"""Benchmark: from the API origin receiving a request to the event reaching a subscriber.

Run: .venv/bin/python -m tests.bench.bench_events [ROUNDS]
Starts the playground in its own process on free ports, opens one session stream per session
(1, then 300 concurrent sessions: a room's "everyone send"), and in each round sends every
session's run target one request at once. The latency is the subscriber's arrival time minus
the ``received_at`` the API origin recorded for that request (same machine, same wall
clock); a second line counts from the moment the load generator sent that request (its
connection opened), so it includes the wait for the server's loop. Not a timed test: it
prints figures (p50, p95, p99, max).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[2]


def start_server(*options: str) -> tuple[subprocess.Popen[str], str, str]:
    """The playground in its own process on free ports (``options``: more ``serve`` flags,
    such as ``--redis URL --workers 2``); its process and its site and API origins."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
         "--site-port", "0", "--api-port", "0", *options],
        stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    assert process.stdout is not None
    banner = "".join(process.stdout.readline() for _ in range(4))
    site = re.search(r"site origin.*?(http://\S+)", banner)
    api = re.search(r"API origin.*?(http://\S+)", banner)
    if not (site and api):
        process.kill()
        raise SystemExit(f"the playground did not start: {banner}")
    return process, site.group(1), api.group(1)


class Subscriber:
    """One session's event stream over a raw connection (cheap to read, so the figures are the
    server's); records when each run's first event (its leg reaching the API origin) arrives."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.connected = asyncio.Event()
        self.waiting: dict[str, asyncio.Future[float]] = {}

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        try:
            while line := await reader.readline():
                if line.startswith(b": connected"):
                    self.connected.set()
                elif line.startswith(EVENT_DATA):
                    arrived = time.time()
                    run_id = line.split(b'data-run-id="', 1)[1].split(b'"', 1)[0].decode()
                    future = self.waiting.pop(run_id, None)
                    if future is not None and not future.done():
                        future.set_result(arrived)
        finally:
            writer.close()


# The first line of a leg's event, or of a whole card's.
EVENT_DATA = (b'data: <div class="leg-update"', b'data: <article class="run"')


async def hit(host: str, port: int, path: str) -> float:
    """One GET to the target on its own connection, read to the end; when it was sent."""
    sent = time.time()
    reader, writer = await asyncio.open_connection(host, port)
    head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    writer.write(head.encode())
    await reader.read()
    writer.close()
    return sent


async def measure(site: str, sessions: int, rounds: int) -> tuple[list[float], list[float]]:
    """The latencies of every leg's event: from the API origin receiving the request, and
    from the load generator sending it."""
    site_parts = urlsplit(site)
    host, site_port = site_parts.hostname or "127.0.0.1", site_parts.port or 80
    # Idle connections are dropped before the server closes them (5 s), never reused as it does.
    limits = httpx.Limits(
        max_connections=sessions + 20, max_keepalive_connections=sessions, keepalive_expiry=2
    )
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        sids = []
        for _ in range(sessions):
            response = await client.get(f"{site}/")
            sids.append(response.headers["location"].split("/sessions/")[1])
        subscribers = [Subscriber(host, site_port, f"/sessions/{sid}/events") for sid in sids]
        tasks = [asyncio.create_task(s.run()) for s in subscribers]
        await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in subscribers)), 30)
        latencies: list[float] = []
        from_send: list[float] = []
        for _ in range(rounds):
            runs = await asyncio.gather(*(
                client.post(f"{site}/api/runs", params={"session": sid}, json={}) for sid in sids
            ))  # fmt: skip
            created = [r.json() for r in runs]
            arrivals = []
            for subscriber, run in zip(subscribers, created, strict=True):
                future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                subscriber.waiting[run["run_id"]] = future
                arrivals.append(future)
            targets = [urlsplit(run["target"]) for run in created]
            sent = await asyncio.gather(
                *(hit(t.hostname or host, t.port or 80, t.path) for t in targets)
            )
            arrived = await asyncio.wait_for(asyncio.gather(*arrivals), 30)
            details = await asyncio.gather(*(client.get(f"{site}{run['run']}") for run in created))
            for when, detail, started in zip(arrived, details, sent, strict=True):
                received = detail.json()["exchanges"][0]["received_at"]
                latencies.append(when - received)
                from_send.append(when - started)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies, from_send


def report(sessions: int, latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, round(p * (len(ms) - 1)))]

    return (
        f"{sessions:>4} concurrent sessions, {len(ms):>5} events: "
        f"p50 {statistics.median(ms):6.2f} ms  p95 {pct(0.95):6.2f} ms  "
        f"p99 {pct(0.99):6.2f} ms  max {ms[-1]:6.2f} ms"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    process, site, _ = start_server()
    try:
        print("API origin receives a request -> the session's subscriber has the event")
        sent = []
        for sessions in (1, 300):
            latencies, from_send = asyncio.run(
                measure(site, sessions, rounds if sessions == 1 else 10)
            )
            print(report(sessions, latencies), flush=True)
            sent.append(report(sessions, from_send))
        print("The load generator sends the request -> the session's subscriber has the event")
        print("\n".join(sent), flush=True)
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
