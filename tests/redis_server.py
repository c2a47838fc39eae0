"""A real Redis server for the tests that need one: Debian's ``redis-server`` on a free
loopback port, with no persistence, stopped with the tests (``./dev test`` installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1; ``stop()`` and ``start()`` again keep its port (and,
    ``persistent``, what it held)."""

    def __init__(self, *, persistent: bool = False) -> None:
        binary = os.environ.get("REDIS_SERVER_PATH") or shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: ./dev test installs it "
                "(Debian: apt-get install redis-server)"
            )
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="playground-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        # Persistent: what it holds survives stop() and start() (an append-only file in dir).
        self.persistent = persistent

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [
            self.binary, "--bind", "127.0.0.1", "--port", str(self.port),
            "--save", "", "--appendonly", "yes" if self.persistent else "no",
            "--dir", str(self.dir),
            "--protected-mode", "yes", "--maxmemory", "512mb",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.process.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def unique_prefix() -> str:
    """A key prefix of its own, so tests sharing one server never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:12]}:"
