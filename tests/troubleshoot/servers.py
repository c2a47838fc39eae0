"""Real servers on loopback for ``check``: one Starlette application with CORSMiddleware in
several configurations, each under its own path, started on a free port in a thread; a second
port on the same application serves a blank page, so a real browser has an origin to fetch
from."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

# Each configuration: CORSMiddleware's keyword arguments (None: no CORS middleware at all).
PAGE = "PAGE"  # replaced by the page origin once its port is known


def configurations(page: str) -> dict[str, dict[str, Any] | None]:
    return {
        "strict": {
            "allow_origins": [page],
            "allow_methods": ["GET", "PUT"],
            "allow_headers": ["X-Token"],
        },
        "wildcard": {"allow_origins": ["*"]},
        "credentials": {
            "allow_origins": [page],
            "allow_credentials": True,
            "allow_methods": ["*"],
            "allow_headers": ["*"],
            "expose_headers": ["X-Secret"],
        },
        "none": None,
    }


@dataclass
class Servers:
    """The test application: its URL, the page's origin, what each path received."""

    api: str
    page: str
    received: list[tuple[str, str, tuple[tuple[str, str], ...]]] = field(default_factory=list)

    def url(self, config: str, path: str = "/items") -> str:
        return f"{self.api}/{config}{path}"

    def seen(self, config: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        return [(m, h) for p, m, h in self.received if p.startswith(f"/{config}/")]


def _inner(servers: Servers) -> Starlette:
    async def items(request: Request) -> Response:
        servers.received.append(
            (
                request.url.path,
                request.method,
                tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw),
            )
        )
        return PlainTextResponse("items", headers={"X-Secret": "42"})

    async def slow(request: Request) -> Response:
        await asyncio.sleep(3)
        return PlainTextResponse("late")

    async def big(request: Request) -> Response:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(64):
                yield b"x" * 65536

        return StreamingResponse(chunks(), headers={"Access-Control-Allow-Origin": "*"})

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
    return Starlette(
        routes=[
            Route("/items", items, methods=methods),
            Route("/slow", slow, methods=methods),
            Route("/big", big, methods=["GET"]),
        ]
    )


def _page(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>page</title>")


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    return sock


@contextmanager
def cors_servers() -> Iterator[Servers]:
    """The application on two free ports: the API and, on the other port, the page."""
    api_sock, page_sock = _free_socket(), _free_socket()
    api_port, page_port = api_sock.getsockname()[1], page_sock.getsockname()[1]
    servers = Servers(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{page_port}")
    mounts = []
    for name, options in configurations(servers.page).items():
        inner = _inner(servers)
        app = inner if options is None else CORSMiddleware(inner, **options)
        mounts.append(Mount(f"/{name}", app=app))
    app = Starlette(routes=[Route("/page", _page), *mounts])
    server = uvicorn.Server(uvicorn.Config(app, http="h11", log_level="warning", lifespan="off"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [api_sock, page_sock]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield servers
    finally:
        server.should_exit = True
        thread.join(10)
        api_sock.close()
        page_sock.close()
