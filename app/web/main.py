"""One process, two origins: the site (the page) and the API (the recording target).

One ``uvicorn.Server`` listens on pre-bound sockets for both origins; each request is sent to
the site or the API application by the port it arrived on (``scope["server"][1]``). The first
Ctrl-C ends open event streams (the exit handler closes the event bus) so shutdown never waits
for a browser tab.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
import threading
from dataclasses import dataclass, replace
from types import FrameType
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import resource_dir
from app.runs.store import Run, RunStore
from app.web.events import EventBus, runs_topic

# Host names a page may be loaded from. IPv6 literals are left out: a CSP source cannot name
# them, so a page at http://[::1]:8000 talks to the configured host's API origin instead.
LOOPBACK_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class Settings:
    """Where the two origins listen and how much the playground keeps in memory."""

    host: str = "localhost"
    site_port: int = 8000
    api_port: int = 8001
    max_sessions: int = 1000
    runs_per_session: int = 50
    exchanges_per_run: int = 16
    session_ttl: float = 6 * 3600.0
    queue_size: int = 64
    subscribers_per_topic: int = 16

    @property
    def url_host(self) -> str:
        """The host name to print in URLs (a wildcard address is reached as localhost)."""
        if self.host in ("", "0.0.0.0", "::"):
            return "localhost"
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def site_url(self) -> str:
        return f"http://{self.url_host}:{self.site_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.url_host}:{self.api_port}"

    @property
    def page_hosts(self) -> tuple[str, ...]:
        """Host names the page may be loaded from; the API origin follows the page's host."""
        if self.host in LOOPBACK_NAMES or ":" in self.host or self.host in ("", "0.0.0.0"):
            return LOOPBACK_NAMES
        return (*LOOPBACK_NAMES, self.host)


def origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class SecurityHeaders:
    """Adds a Content-Security-Policy (no inline scripts) and friends to pages of one origin.

    Paths under ``skip`` are left untouched: the API origin's target answers with exactly the
    headers the learner configured, nothing more.
    """

    def __init__(self, app: ASGIApp, csp: str, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.skip = skip
        self.headers = [
            (b"content-security-policy", csp.encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Playground:
    """The ASGI application for both origins, and the state they share."""

    def __init__(self, settings: Settings) -> None:
        from starlette.templating import Jinja2Templates

        from app.web import api, site, views

        self.settings = settings
        self.store = RunStore(
            max_sessions=settings.max_sessions,
            runs_per_session=settings.runs_per_session,
            exchanges_per_run=settings.exchanges_per_run,
            session_ttl=settings.session_ttl,
        )
        self.bus = EventBus(
            queue_size=settings.queue_size, subscribers_per_topic=settings.subscribers_per_topic
        )
        self.templates = Jinja2Templates(directory=str(resource_dir("templates")))
        views.setup(self.templates)
        self.static_dir = resource_dir("static")
        self.site_origins = tuple(origin(h, settings.site_port) for h in settings.page_hosts)
        self.api_origins = tuple(origin(h, settings.api_port) for h in settings.page_hosts)
        self.site = SecurityHeaders(site.build(self), self._site_csp())
        self.api = SecurityHeaders(api.build(self), self._api_csp(), skip=("/r/",))
        self._loop: asyncio.AbstractEventLoop | None = None

    def _site_csp(self) -> str:
        apis = " ".join(self.api_origins)
        return (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {apis}; frame-src {apis}; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )

    def _api_csp(self) -> str:
        return (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {' '.join(self.site_origins)}"
        )

    def page_host(self, host: str | None) -> str:
        """The page's host name if it is one we serve, else the configured one."""
        if host and host in self.settings.page_hosts:
            return host
        configured = self.settings.url_host
        return configured if configured in self.settings.page_hosts else "localhost"

    def api_origin(self, host: str | None) -> str:
        """The API origin for a page loaded from ``host`` (localhost pairs with localhost)."""
        return origin(self.page_host(host), self.settings.api_port)

    def site_origin(self, host: str | None) -> str:
        return origin(self.page_host(host), self.settings.site_port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        server = scope.get("server")
        app = self.api if server and server[1] == self.settings.api_port else self.site
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop = asyncio.get_running_loop()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def publish_run(self, run: Run) -> None:
        """Send the run's card, as it is now, to the pages of its session."""
        from app.web import views

        topic = runs_topic(run.session_id)
        self.bus.publish(topic, "run", lambda: views.card_html(self.templates, run))

    def close_streams(self) -> None:
        """End every open event stream; safe to call from any thread or a signal handler."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self.bus.close()
            return
        try:
            loop.call_soon_threadsafe(self.bus.close)
        except RuntimeError:  # loop already stopped
            self.bus.close()


def playground(request: Request) -> Playground:
    """The route dependency every module of both origins uses: the playground serving it."""
    pg: Playground = request.app.state.playground
    return pg


PG = Annotated[Playground, Depends(playground)]


def create_app(settings: Settings | None = None, **overrides: Any) -> Playground:
    """Build the two-origin application (``overrides`` are Settings fields)."""
    return Playground(replace(settings or Settings(), **overrides))


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
    sock = socket.socket(family, socket.SOCK_STREAM)
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


def _uvicorn_config(app: Playground, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http="h11",  # httptools answers 400 to methods like `patch` before the app sees them
        lifespan="on",
        log_level=log_level,
        access_log=False,
        server_header=False,  # the API origin answers with exactly the configured headers
        date_header=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=5,
    )


def prepare(
    host: str, site_port: int, api_port: int, **overrides: Any
) -> tuple[PlaygroundServer, list[socket.socket], Playground]:
    """Bind both origins and build the server (raises PortInUse)."""
    if site_port and site_port == api_port:
        raise ValueError("the site and API origins need two different ports")
    site_sockets = bind_origin(host, site_port, "site")
    try:
        api_sockets = bind_origin(host, api_port, "API")
    except OSError:
        for sock in site_sockets:
            sock.close()
        raise
    settings = Settings(
        host=host,
        site_port=site_sockets[0].getsockname()[1],
        api_port=api_sockets[0].getsockname()[1],
        **overrides,
    )
    playground = Playground(settings)
    server = PlaygroundServer(_uvicorn_config(playground), playground)
    return server, [*site_sockets, *api_sockets], playground


def serve(host: str = "localhost", site_port: int = 8000, api_port: int = 8001) -> int:
    """Run the playground until Ctrl-C; return the process exit code."""
    try:
        server, sockets, playground = prepare(host, site_port, api_port)
    except PortInUse as exc:
        option = "--site-port" if exc.role == "site" else "--api-port"
        env = "CORS_PLAYGROUND_SITE_PORT" if exc.role == "site" else "CORS_PLAYGROUND_API_PORT"
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
    settings = playground.settings
    print(f"CORS playground: open {settings.site_url}/", flush=True)
    print(f"  site origin (the page):      {settings.site_url}", flush=True)
    print(f"  API origin (the target):     {settings.api_url}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the captured Ctrl-C after a clean shutdown
    finally:
        for sock in sockets:
            sock.close()
    print("CORS playground stopped.", flush=True)
    return 0


class BackgroundServer:
    """The playground on free loopback ports in a thread (tests, benchmarks, the harness)."""

    def __init__(self, host: str = "localhost", **overrides: Any) -> None:
        self.server, self.sockets, self.playground = prepare(host, 0, 0, **overrides)
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
