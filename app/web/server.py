"""Sockets and uvicorn: one ``uvicorn.Server`` listens on pre-bound sockets for every origin.

The first Ctrl-C ends open event streams (the exit handler closes the event bus) so shutdown
never waits for a browser tab. Each connection is a :class:`PlaygroundProtocol`, which bounds
the wait for a request's head and the number of connections served at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import signal
import socket
import sys
import threading
from collections.abc import Coroutine
from types import FrameType
from typing import Any, TypeVar

import uvicorn

from app.shared.connection import where
from app.web.app import OriginsApp
from app.web.config import WILDCARD_HOSTS, Settings
from app.web.protocol import PlaygroundConfig
from app.web.state import Playground

T = TypeVar("T")

# A request's head (request line and headers) must arrive within this many seconds of the
# connection being ready for it; a stalled connection is closed.
HEAD_TIMEOUT = 10.0
# Connections served at once, all origins together: room for ~500 attendees, each with an
# event stream and a few kept-alive connections. Requests on connections past it get a 503.
MAX_CONNECTIONS = 2048
# A worker that dies is started again, up to this many times in all.
RESTARTS = 10
# File descriptors beyond the connections: listening sockets, templates, logs, the harness.
SPARE_FILES = 256


class PortInUse(OSError):
    def __init__(self, host: str, port: int, role: str) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} on {host} is already in use")
        self.host, self.port, self.role = host, port, role


def _addresses(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    if host == "localhost":
        # Browsers may try ::1 first; listen on both loopback addresses when we can.
        return [(socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET6, ("::1", port, 0, 0))]
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)
    seen: list[tuple[int, tuple[Any, ...]]] = []
    for family, _, _, _, address in infos:
        if (family, address) not in seen:
            seen.append((family, address))
    return seen


def _bind(family: int, address: tuple[Any, ...]) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio disables Nagle's algorithm (TCP_NODELAY) only on accepted
    # connections of an IPPROTO_TCP socket, and uvicorn writes a response's head and body
    # separately, so without it every kept-alive answer with a body waits ~40 ms for the
    # client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def bind_origin(host: str, port: int, role: str) -> list[socket.socket]:
    """Listening sockets for one origin; port 0 picks a free port shared by every address."""
    addresses = _addresses(host, port)
    for _attempt in range(20):
        family, first = addresses[0]
        try:
            sockets = [_bind(family, first)]
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(host, port, role) from exc
            raise
        chosen = sockets[0].getsockname()[1]
        retry = False
        for family, address in addresses[1:]:
            try:
                sockets.append(_bind(family, (address[0], chosen, *address[2:])))
            except OSError as exc:
                if port == 0 and exc.errno == errno.EADDRINUSE:
                    retry = True  # the free port on one address is taken on another
                    break
                if exc.errno == errno.EADDRINUSE:
                    for sock in sockets:
                        sock.close()
                    raise PortInUse(host, port, role) from exc
                # This address family is unavailable here: serve the others.
        if not retry:
            return sockets
        for sock in sockets:
            sock.close()
    raise OSError(errno.EADDRINUSE, "could not find a free port on every loopback address")


class PlaygroundServer(uvicorn.Server):
    """A uvicorn server whose exit handler also ends the open event streams."""

    def __init__(self, config: uvicorn.Config, playground: Playground) -> None:
        super().__init__(config)
        self.playground = playground

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.playground.close_streams()
        super().handle_exit(sig, frame)


def _uvicorn_config(
    app: OriginsApp,
    log_level: str = "warning",
    head_timeout: float = HEAD_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> uvicorn.Config:
    # PlaygroundConfig serves with h11 (httptools answers 400 to methods like `patch` before
    # the app sees them).
    return PlaygroundConfig(
        app,
        head_timeout=head_timeout,
        max_connections=max_connections,
        lifespan="on",
        # asyncio's own loop, also where uvloop is installed: under uvloop a room's host
        # stream stalled for about 2.5 s now and then while answers arrived over a few seconds
        # (tests/bench/bench_rooms.py: p99 2,600 ms against 3.3 ms).
        loop="asyncio",
        log_level=log_level,
        access_log=False,
        server_header=False,  # the API origin answers with exactly the configured headers
        date_header=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=5,
    )


def allow_open_files(connections: int = MAX_CONNECTIONS) -> None:
    """Raise the soft limit on open files (often 1024) so ``connections`` can all be open."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_FILES
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    # If the system refuses, connections past its limit wait in the listen queue.
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def prepare(
    host: str,
    site_port: int,
    api_port: int,
    *,
    attacker_port: int = 0,
    head_timeout: float = HEAD_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    **overrides: Any,
) -> tuple[PlaygroundServer, list[socket.socket], Playground]:
    """Bind the three origins (site, API, attacker) and build the server (raises PortInUse);
    ``overrides`` are Settings fields."""
    settings, sockets = bind_origins(host, site_port, api_port, attacker_port, **overrides)
    server = build_server(settings, head_timeout, max_connections)
    return server, sockets, server.playground


def build_server(
    settings: Settings,
    head_timeout: float = HEAD_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> PlaygroundServer:
    """The server of one process (its own state, or its own connection to Redis)."""
    app = OriginsApp(Playground(settings))
    config = _uvicorn_config(app, head_timeout=head_timeout, max_connections=max_connections)
    return PlaygroundServer(config, app.playground)


def bind_origins(
    host: str, site_port: int, api_port: int, attacker_port: int = 0, **overrides: Any
) -> tuple[Settings, list[socket.socket]]:
    """The listening sockets of the three origins and the settings naming their ports."""
    ports = [p for p in (site_port, api_port, attacker_port) if p]
    if len(set(ports)) < len(ports):
        raise ValueError("the site, API and attacker origins need three different ports")
    sockets: list[list[socket.socket]] = []
    try:
        for port, role in ((site_port, "site"), (api_port, "API"), (attacker_port, "attacker")):
            sockets.append(bind_origin(host, port, role))
    except OSError:
        for sock in (s for bound in sockets for s in bound):
            sock.close()
        raise
    site_sockets, api_sockets, attacker_sockets = sockets
    settings = Settings(
        host=host,
        site_port=site_sockets[0].getsockname()[1],
        api_port=api_sockets[0].getsockname()[1],
        attacker_port=attacker_sockets[0].getsockname()[1],
        **overrides,
    )
    return settings, [*site_sockets, *api_sockets, *attacker_sockets]


def banner(settings: Settings, workers: int = 1) -> list[str]:
    """What ``serve`` prints once both origins listen."""
    lines = [
        f"CORS playground: open {settings.site_url}/",
        f"  site origin (the page):      {settings.site_url}",
        f"  API origin (the target):     {settings.api_url}",
        f"  attacker origin (attack lab): {settings.attacker_url}",
    ]
    if settings.redis_url:
        processes = f"{workers} processes" if workers > 1 else "this process"
        lines.append(f"  state: Redis at {where(settings.redis_url)}, served by {processes}")
    if settings.host in WILDCARD_HOSTS:
        lines.append(
            f"  from other machines: http://<this machine's name or address>:{settings.site_port}/"
            " (each page's API origin is the same name)"
        )
    if settings.allow_check:
        lines.append(
            "  --allow-check: the troubleshooting page sends requests to any URL a visitor "
            "enters, from this machine"
        )
    lines.append("Press Ctrl-C to stop.")
    return lines


def serve(
    host: str = "localhost",
    site_port: int = 8000,
    api_port: int = 8001,
    attacker_port: int = 8002,
    workers: int = 1,
    **overrides: Any,
) -> int:
    """Run the playground until Ctrl-C; return the process exit code (``overrides``: Settings
    fields). With ``workers`` > 1 (and Redis), that many processes share the sockets."""
    try:
        settings, sockets = bind_origins(host, site_port, api_port, attacker_port, **overrides)
    except PortInUse as exc:
        option = f"--{exc.role.lower()}-port"
        env = f"CORS_PLAYGROUND_{exc.role.upper()}_PORT"
        print(
            f"cors-playground: cannot start the {exc.role} origin: port {exc.port} on {exc.host} "
            f"is already in use (another playground?). Stop that program, or choose another "
            f"port with {option} or {env}.",
            file=sys.stderr,
        )
        return 1
    except (OSError, ValueError) as exc:
        print(f"cors-playground: cannot start: {exc}", file=sys.stderr)
        return 1
    allow_open_files()
    for line in banner(settings, workers):
        print(line, flush=True)
    try:
        if workers > 1:
            status = supervise(settings, sockets, workers)
        else:
            status = run_one(settings, sockets)
    finally:
        for sock in sockets:
            sock.close()
    print("CORS playground stopped.", flush=True)
    return status


#: Allocations between two collections of the youngest generation (CPython's default: 700).
YOUNG_THRESHOLD = 10_000


def settle_collector() -> None:
    """Keep the garbage collector's pauses short while serving: what exists once the server is
    built (modules, the application, its templates) is never scanned again, and the youngest
    generation is collected ten times less often. With CPython's defaults a full collection
    went through every object of every session and stopped the loop for 90 to 160 ms in the
    middle of a room's "everyone send" (tests/bench/bench_events.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def run_one(settings: Settings, sockets: list[socket.socket]) -> int:
    """Serve in this process until Ctrl-C (or SIGTERM); 1 when it could not start."""
    server = build_server(settings)
    settle_collector()
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:  # re-raised by uvicorn after a clean stop
        pass
    except SystemExit:  # uvicorn's exit when the application could not start (said why)
        return 1
    return 0


def supervise(settings: Settings, sockets: list[socket.socket], workers: int) -> int:
    """Fork ``workers`` processes that serve the same sockets (the kernel shares the
    connections out); restart one that dies, stop them all on Ctrl-C or SIGTERM."""
    children: dict[int, int] = {}  # pid -> worker number
    stopping = False

    def start(number: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: its own loop, state and Redis connection
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = 1
            try:
                code = run_one(settings, sockets)
            finally:
                os._exit(code)
        children[pid] = number

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for number in range(workers):
        start(number)
    previous = [signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)]
    failed = 0
    try:
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            number = children.pop(pid, -1)
            if number < 0 or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            print(f"cors-playground: worker {number + 1} exited ({code})", file=sys.stderr)
            failed += 1
            if failed > RESTARTS:
                print("cors-playground: workers keep exiting; stopping", file=sys.stderr)
                stop(signal.SIGTERM, None)
                stopping = True
                continue
            start(number)
    finally:
        for sig, handler in zip((signal.SIGINT, signal.SIGTERM), previous, strict=True):
            signal.signal(sig, handler)
    return 1 if failed > RESTARTS else 0


class BackgroundServer:
    """The playground on free loopback ports in a thread (tests, benchmarks, the harness);
    ``overrides`` are Settings fields, ``head_timeout`` or ``max_connections``."""

    def __init__(self, host: str = "localhost", **overrides: Any) -> None:
        self.server, self.sockets, self.playground = prepare(host, 0, 0, **overrides)
        app = self.server.config.app
        assert isinstance(app, OriginsApp)
        self.app = app
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": self.sockets}, daemon=True
        )

    @property
    def settings(self) -> Settings:
        return self.playground.settings

    @property
    def site_url(self) -> str:
        return self.settings.site_url

    @property
    def api_url(self) -> str:
        return self.settings.api_url

    def call(self, awaitable: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``awaitable`` on the server's event loop (a store's method, from a test)."""
        loop = self.playground.loop
        assert loop is not None, "the playground has not started"
        return asyncio.run_coroutine_threadsafe(awaitable, loop).result(timeout)

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self.thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self.server.started:
                return self
            deadline.wait(0.01)
        raise RuntimeError("the playground did not start")

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask for a clean shutdown, as a first Ctrl-C does; True if it finished in time."""
        self.server.handle_exit(2, None)
        self.thread.join(timeout)
        for sock in self.sockets:
            sock.close()
        return not self.thread.is_alive()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
