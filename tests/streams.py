"""Helpers for the tests of several serving processes: a server-sent event stream read in a
thread, and which processes answer new connections."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

Events = list[tuple[str, str]]  # (event name, data), in the order they came


class EventReader:
    """The stream at ``url`` read in a thread until ``enough(events)`` says so (or the stream
    ends): ``ready`` is set once the server says it listens, ``ended`` when reading stopped."""

    def __init__(
        self, url: str, enough: Callable[[Events], bool] = lambda _: False, timeout: float = 30
    ) -> None:
        self.url, self.enough, self.timeout = url, enough, timeout
        self.events: Events = []
        self.ready = threading.Event()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def _read(self) -> None:
        try:
            with (
                httpx.Client(timeout=self.timeout) as reader,
                reader.stream("GET", self.url) as stream,
            ):
                name, data = "message", []
                for line in stream.iter_lines():
                    if line.startswith(": connected"):
                        self.ready.set()
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                    elif not line:  # an event ends with an empty line
                        if data:
                            self.events.append((name, "\n".join(data)))
                            if self.enough(self.events):
                                return
                        name, data = "message", []
        finally:
            self.ended.set()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)


def serving_processes(site: str, tries: int) -> set[int]:
    """The processes (``GET /api/health``) that answer up to ``tries`` new connections, until
    two have answered."""
    processes: set[int] = set()
    for _ in range(tries):
        with httpx.Client(timeout=10) as client:
            health = client.get(f"{site}/api/health")
            assert health.status_code == 200 and health.json()["store"] == "redis", health.text
            processes.add(health.json()["process"])
        if len(processes) == 2:
            break
    return processes
