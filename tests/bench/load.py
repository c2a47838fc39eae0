"""A small load generator: keep-alive HTTP/1.1 over asyncio streams, so the client costs
little next to the server it measures. Run in its own process (the benchmarks start the
server in another)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Result:
    latencies: list[float]  # seconds, one per answered request
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        ms = sorted(x * 1000 for x in self.latencies)
        return ms[min(len(ms) - 1, round(p * (len(ms) - 1)))] if ms else float("nan")

    def line(self, label: str) -> str:
        ms = [x * 1000 for x in self.latencies]
        p50 = statistics.median(ms) if ms else float("nan")
        return (
            f"{label}: {self.rate:8.0f} req/s  p50 {p50:6.2f} ms  p99 {self.pct(0.99):6.2f} ms"
            f"  ({len(ms)} requests, {self.errors} errors)"
        )


def request(method: str, path: str, host: str, headers: Sequence[tuple[str, str]] = (),
            body: bytes = b"") -> bytes:
    """One request's bytes, with Content-Length when there is a body."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length framed); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _worker(host: str, port: int, requests: Sequence[bytes], start: int, deadline: float,
                  count: int | None, out: Result) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = start
    done = 0
    try:
        while time.perf_counter() < deadline and (count is None or done < count):
            payload = requests[index % len(requests)]
            index += 1
            began = time.perf_counter()
            writer.write(payload)
            try:
                status = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                out.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            out.latencies.append(time.perf_counter() - began)
            if status >= 500:
                out.errors += 1
            done += 1
    finally:
        writer.close()


async def load(host: str, port: int, requests: Sequence[bytes], *, concurrency: int,
               seconds: float = 5.0, count: int | None = None) -> Result:
    """Send ``requests`` (round robin) from ``concurrency`` kept-alive connections."""
    out = Result([], 0.0, 0)
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(
        _worker(host, port, requests, i * 7, deadline, count, out) for i in range(concurrency)
    ))
    out.seconds = time.perf_counter() - began
    return out
