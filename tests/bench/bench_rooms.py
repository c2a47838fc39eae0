"""Benchmark: one workshop room with 300 attendees connected, on the playground's machine.

Run: .venv/bin/python -m tests.bench.bench_rooms [ATTENDEES] [ROUNDS]
Starts the playground in its own process on free ports; this process is the load generator.
It joins ATTENDEES attendees through the JSON API, opens each attendee's one event stream
(the session's) and the host page's stream, then, round by round:

- **push**: the host asks a question; the time from sending the ask to the question arriving
  on each attendee's stream (ATTENDEES figures per round);
- **answer**: every attendee answers, spread over a few seconds as a room does (and, in the
  last rounds, all at once); the time from sending an answer to the host stream's event that
  counts it in the tally.

Times are measured in this process (one clock), so they include the generator's own work on
the same two cores. Also prints the server's resident memory (VmRSS) before and after the
attendees joined. Not a timed test: it prints figures (p50, p99, max).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.bench.bench_events import start_server
from tests.bench.load import request

SPREAD_SECONDS = 3.0  # a room's answers arrive over a few seconds
POST_CONNECTIONS = 16
TIMEOUT = 60.0
QUESTION = '"question":{"number":'
VERBOSE = bool(os.environ.get("BENCH_VERBOSE"))


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The body of a chunked response, chunk by chunk."""
    while True:
        size = int((await reader.readline()).strip() or b"0", 16)
        if size == 0:
            return
        yield await reader.readexactly(size)
        await reader.readexactly(2)


async def sse(reader: asyncio.StreamReader) -> AsyncIterator[tuple[str, str]]:
    """(event name, data) of each server-sent event, as it arrives."""
    buffer = b""
    name, data = "message", ""
    async for chunk in _chunks(reader):
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            line = raw.rstrip(b"\r").decode()
            if not line:
                if data or name != "message":
                    yield name, data
                name, data = "message", ""
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]


@dataclass
class Room:
    host: str  # host:port of the site origin
    port: int
    key: str = ""
    code: str = ""
    sessions: list[str] = field(default_factory=list)
    # (question, attendee index) -> arrival; question -> when it was asked
    pushed: dict[tuple[int, int], float] = field(default_factory=dict)
    asked: dict[int, float] = field(default_factory=dict)
    # (question, attendee number) -> when the answer was sent / counted on the host stream
    sent: dict[tuple[int, int], float] = field(default_factory=dict)
    counted: dict[tuple[int, int], float] = field(default_factory=dict)
    waiters: list[tuple[asyncio.Event, int]] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    def wake(self) -> None:
        for event, expected in self.waiters:
            if len(self.pushed) + len(self.counted) >= expected:
                event.set()

    async def until(self, expected: int) -> None:
        event = asyncio.Event()
        self.waiters.append((event, expected))
        self.wake()
        await asyncio.wait_for(event.wait(), TIMEOUT)
        self.waiters.remove((event, expected))


async def open_stream(
    room: Room, path: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An event stream's connection (keep the writer: a collected writer closes it)."""
    reader, writer = await asyncio.open_connection(room.host, room.port)
    accept = [("Accept", "text/event-stream")]
    writer.write(request("GET", path, f"{room.host}:{room.port}", accept))
    head = await reader.readuntil(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n", 1)[0], head
    return reader, writer


async def attendee_stream(room: Room, index: int, ready: asyncio.Event) -> None:
    reader, writer = await open_stream(room, f"/sessions/{room.sessions[index]}/events")
    room.writers.append(writer)
    async for name, data in sse(reader):
        if name == "ready":
            ready.set()
        elif name == "room":
            arrived = time.perf_counter()
            # The question's number, without parsing the whole event (the generator shares
            # the two cores with the server).
            at = data.find(QUESTION)
            if at < 0:
                continue
            number = int(data[at + len(QUESTION) : data.index(",", at)])
            if (number, index) not in room.pushed:
                room.pushed[(number, index)] = arrived
                room.wake()


async def host_stream(room: Room, ready: asyncio.Event) -> None:
    reader, writer = await open_stream(room, f"/rooms/host/{room.key}/events")
    room.writers.append(writer)
    async for name, data in sse(reader):
        if name == "ready":
            ready.set()
        elif name == "answer":
            arrived = time.perf_counter()
            doc = json.loads(data)
            room.counted[(doc["question"], doc["attendee"])] = arrived
            room.wake()


class Poster:
    """Kept-alive connections for the requests that change the room."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def start(self) -> None:
        for _ in range(POST_CONNECTIONS):
            self.pool.put_nowait(await asyncio.open_connection(self.room.host, self.room.port))

    async def post(self, path: str, doc: object) -> tuple[int, bytes]:
        body = json.dumps(doc).encode()
        payload = request("POST", path, f"{self.room.host}:{self.room.port}",
                          [("Content-Type", "application/json")], body)  # fmt: skip
        reader, writer = await self.pool.get()
        try:
            writer.write(payload)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed a connection left idle (keep-alive timeout): open another.
                writer.close()
                reader, writer = await asyncio.open_connection(self.room.host, self.room.port)
                writer.write(payload)
                head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            return status, await reader.readexactly(length)
        finally:
            self.pool.put_nowait((reader, writer))


async def answer_all(room: Room, poster: Poster, question: int, spread: float) -> None:
    order = list(range(len(room.sessions)))
    random.shuffle(order)
    began = time.perf_counter()

    async def one(slot: int, index: int) -> None:
        delay = began + spread * slot / len(order) - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        room.sent[(question, index + 1)] = time.perf_counter()
        status, _ = await poster.post(
            f"/api/rooms/attendee/{room.sessions[index]}/answer",
            {"question": question, "choice": "no"},
        )
        assert status == 200, status

    await asyncio.gather(*(one(slot, index) for slot, index in enumerate(order)))


def figures(label: str, seconds: list[float]) -> str:
    ms = sorted(x * 1000 for x in seconds)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, round(p * (len(ms) - 1)))]

    return (
        f"{label}: {len(ms):>5} events  p50 {statistics.median(ms):6.1f} ms  "
        f"p99 {pct(0.99):6.1f} ms  max {ms[-1]:6.1f} ms"
    )


async def measure(site: str, pid: int, attendees: int, rounds: int, bursts: int) -> None:
    parts = urlsplit(site)
    room = Room(parts.hostname or "127.0.0.1", parts.port or 80)
    poster = Poster(room)
    await poster.start()
    status, body = await poster.post("/api/rooms", {"title": "Benchmark"})
    created = json.loads(body)
    room.key, room.code = created["host_key"], created["code"]
    before = rss_mib(pid)
    joins = await asyncio.gather(*(
        poster.post("/api/rooms/join", {"code": room.code}) for _ in range(attendees)
    ))  # fmt: skip
    room.sessions = [json.loads(b)["session"] for s, b in joins if s == 201]
    assert len(room.sessions) == attendees
    ready = [asyncio.Event() for _ in range(attendees + 1)]
    tasks = [asyncio.create_task(host_stream(room, ready[-1]))]
    for index in range(attendees):
        tasks.append(asyncio.create_task(attendee_stream(room, index, ready[index])))
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # a room fills in over a few moments
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), TIMEOUT)
    await asyncio.sleep(1.0)
    connected = rss_mib(pid)
    print(
        f"server memory: {before:.0f} MiB before, {connected:.0f} MiB with {attendees} attendees "
        "joined and connected"
    )
    paced: list[float] = []
    burst: list[float] = []
    push: list[float] = []
    for number in range(1, rounds + bursts + 1):
        expected = len(room.pushed) + len(room.counted) + attendees
        room.asked[number] = time.perf_counter()
        status, _ = await poster.post(f"/api/rooms/host/{room.key}/questions",
                                      {"source": "classic", "classic": "no-allow-origin"})
        assert status == 201, status
        await room.until(expected)
        this = [room.pushed[(number, i)] - room.asked[number] for i in range(attendees)]
        push += this
        if VERBOSE:
            print(f"  question {number}: {figures('push', this)}")
        await asyncio.sleep(0.5)
        expected = len(room.pushed) + len(room.counted) + attendees
        await answer_all(room, poster, number, SPREAD_SECONDS if number <= rounds else 0.0)
        await room.until(expected)
        latencies = [room.counted[(number, n)] - room.sent[(number, n)]
                     for n in range(1, attendees + 1)]  # fmt: skip
        (paced if number <= rounds else burst).extend(latencies)
        await asyncio.sleep(0.5)
    after = rss_mib(pid)
    print(figures(f"push: the host asks -> the question on all {attendees} attendee streams", push))
    print(figures(f"answer -> tally on the host stream ({attendees} answers over "
                  f"{SPREAD_SECONDS:g} s)", paced))  # fmt: skip
    print(figures(f"answer -> tally on the host stream ({attendees} answers at once)", burst))
    print(f"server memory after {rounds + bursts} questions: {after:.0f} MiB")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for writer in room.writers:
        writer.close()


def main() -> None:
    attendees = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    process, site, _ = start_server()
    try:
        print(f"One room, {attendees} attendees, each with its session's event stream")
        asyncio.run(measure(site, process.pid, attendees, rounds, bursts=3))
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
