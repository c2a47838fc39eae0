"""The one composition root: the origins' applications, their security headers, their
routers, the one error handler, and the dispatch of each request by the port it arrived on
(``scope["server"][1]``). ``HEAD`` is answered as ``GET`` without the body everywhere but on
the API origin's target, which answers every method as the learner configured it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.runs.errors import BadRequest
from app.runs.origins import DEFAULT_PORT, OriginPair, is_loopback, origin, parse_host
from app.runs.validation import FieldMessage
from app.shared import RedisUnavailable
from app.web import room_events
from app.web.api_origin import console, target, victim
from app.web.attacker import routes as attacker
from app.web.config import Settings
from app.web.site import attack, composer, json_api, labs, lessons, rooms, runs, troubleshoot
from app.web.state import Playground

log = logging.getLogger("cors_playground")

#: A direct route's handler: the request, the playground and the path's parameters in, an
#: answer out.
DirectHandler = Callable[..., Awaitable[Response]]

CLOSE = (b"connection", b"close")
SERVER_ERROR = b"The playground failed to answer this request; the error is in its log.\n"
BAD_HOST = (
    b"The Host header must be one host name, IPv4 address or bracketed IPv6 address, with an "
    b"optional port.\n"
)
SITE_ROUTERS = (
    composer.router,
    runs.router,
    json_api.router,
    lessons.router,
    labs.router,
    troubleshoot.router,
    attack.router,
    rooms.router,
)


class SecurityHeaders:
    """Adds a Content-Security-Policy (no inline scripts) and friends to pages of one origin.

    The policy names the origins of the page behind each request, from the host name that
    request used. Paths under ``skip`` are left untouched: the API origin's target answers with
    exactly the headers the learner configured, nothing more.
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        csp: Callable[[OriginPair], str],
        skip: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.settings = settings
        self.csp = csp
        self.skip = skip

    def headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        host = Headers(scope=scope).get("host")
        port = (scope.get("server") or ("", 0))[1]
        return self._headers(host, port)

    @functools.lru_cache(maxsize=256)  # noqa: B019 (one instance per origin, for the process)
    def _headers(self, host: str | None, port: int) -> list[tuple[bytes, bytes]]:
        """The headers for pages reached as ``host`` on ``port`` (a handful of names, each
        worked out once)."""
        pair = self.settings.request_origins(host, port)
        headers = [
            (b"content-security-policy", self.csp(pair).encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
        ]
        # Browsers ignore (and complain in the console about) COOP on an origin that is not
        # potentially trustworthy: over plain http, only loopback names are.
        if is_loopback(pair.host):
            headers.append((b"cross-origin-opener-policy", b"same-origin"))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        added = self.headers(scope)  # shared between requests: never modified

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_json(request: Request) -> bool:
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        return route.response_class is JSONResponse
    return request.url.path.startswith("/api/") or "json" in request.headers.get("accept", "")


def refusal(request: Request, status: int, message: str, field: str = "body") -> Response:
    """A refused request, the same message everywhere: JSON for the API and the page's
    scripts, a small page for a browser, plain text otherwise."""
    if _wants_json(request):
        error = FieldMessage(field, message).to_json()
        return JSONResponse({"error": error, "errors": [error], "notes": []}, status_code=status)
    if "text/html" in request.headers.get("accept", ""):
        pg: Playground = request.app.state.playground
        return pg.templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )
    return PlainTextResponse(message + "\n", status_code=status)


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return refusal(request, exc.status, exc.message, exc.field)


async def _unavailable(request: Request, exc: Exception) -> Response:
    """Redis did not answer: a 503 that names it (the request changed nothing)."""
    assert isinstance(exc, RedisUnavailable)
    log.warning("%s %s: %s (%s)", request.method, request.url.path, exc, exc.cause)
    response = refusal(request, 503, str(exc), "redis")
    response.headers["Retry-After"] = "2"
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = "not found: no page or API route has this address"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed here"
    else:
        message = str(exc.detail)
    response = refusal(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _invalid_parameters(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
    return refusal(request, 422, f"{where}: {first.get('msg', 'invalid')}", where)


def _application(pg: Playground, **options: Any) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, **options)  # Swagger would load from a CDN
    app.state.playground = pg
    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(RedisUnavailable, _unavailable)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_parameters)
    return app


def site_app(pg: Playground) -> FastAPI:
    """The site origin: the pages, the JSON API and the session's event streams."""
    app = _application(
        pg, title="CORS playground", summary="Learn CORS with real cross-origin requests."
    )
    # The pages of a session in a room show the room's banner.
    if room_events.banner_context not in pg.templates.context_processors:
        pg.templates.context_processors.append(room_events.banner_context)
    for router in SITE_ROUTERS:
        app.include_router(router)
    for route in app.routes:
        if isinstance(route, APIRoute):
            route.include_in_schema = route.path.startswith("/api/")
    app.mount("/static", StaticFiles(directory=pg.static_dir), name="static")
    return app


def api_app(pg: Playground) -> FastAPI:
    """The API origin: the recording target and its server console."""
    app = _application(pg, title="CORS playground: API origin", openapi_url=None)
    app.include_router(console.router)
    app.include_router(victim.router)
    app.router.routes.extend(target.routes(pg))
    app.mount("/static", StaticFiles(directory=pg.static_dir), name="static")
    return app


def attacker_app(pg: Playground) -> FastAPI:
    """The attacker's origin: its page, its sandboxed frame, its log and its report endpoint."""
    app = _application(pg, title="CORS playground: attacker's origin", openapi_url=None)
    app.include_router(attacker.router)
    app.mount("/static", StaticFiles(directory=pg.static_dir), name="static")
    return app


def csp_source(origin: str) -> str:
    """A CSP source expression for an http origin. A host-source cannot name an IPv6 address,
    so one on an IPv6 address is every host on its port (browsers match IP addresses with
    ``*``)."""
    parts = urlsplit(origin)
    if parts.hostname and ":" in parts.hostname:
        return f"http://*:{parts.port or DEFAULT_PORT}"
    return origin


def _attackers(pair: OriginPair, attacker_port: int) -> str:
    """The attacker's origins on the page's host names, as CSP sources."""
    return " ".join(
        csp_source(origin(urlsplit(o).hostname or pair.host, attacker_port))
        for o in pair.site_origins
    )


def site_csp(pair: OriginPair, attacker_port: int) -> str:
    """The site's policy: scripts from itself, fetch() and frames to the page's API origins;
    frames also to the attacker's origin (a room's attack question runs its page in one)."""
    apis = " ".join(csp_source(o) for o in pair.api_origins)
    attackers = _attackers(pair, attacker_port)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {apis}; frame-src {apis} {attackers}; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def api_csp(pair: OriginPair) -> str:
    """The API origin's pages: framed only by the page on the same host name (the console)."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {' '.join(csp_source(o) for o in pair.site_origins)}"
    )


def attacker_csp(pair: OriginPair, attacker_port: int) -> str:
    """The attacker's pages reach the playground's own origins only: scripts and frames from
    the attacker's origin, fetch() to the page's API origins and the attacker's own. Framed
    only by the attacker's origin and the site's pages (a room's attack question)."""
    attackers = _attackers(pair, attacker_port)
    apis = " ".join(csp_source(o) for o in pair.api_origins)
    sites = " ".join(csp_source(o) for o in pair.site_origins)
    return (
        f"default-src 'none'; script-src 'self' {attackers}; style-src 'self' {attackers}; "
        f"img-src 'self' data:; connect-src 'self' {attackers} {apis}; "
        f"frame-src 'self' {attackers}; object-src 'none'; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors {attackers} {sites}"
    )


class DirectRoute:
    """A hot route straight to its handler (``handler(request, playground, **path params)``):
    when a whole room answers at the same instant, or a script explains scenarios in a
    burst, the framework's routing, dependencies and middleware cost more than the work
    itself. The same checks and refusals as every route."""

    def __init__(self, pg: Playground, handler: DirectHandler) -> None:
        self.playground = pg
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.handler(request, self.playground, **scope["path_params"])
        except BadRequest as exc:
            response = refusal(request, exc.status, exc.message, exc.field)
        await response(scope, receive, send)


def _head_only(send: Send) -> Send:
    """Send an answer's status and headers and end it there: the answer to HEAD (RFC 9110
    §9.3.2). A streamed answer (an event stream) ends at once too; whatever the application
    sends after that is dropped."""
    ended = False

    async def send_head(message: Message) -> None:
        nonlocal ended
        if ended:
            return
        await send(message)
        if message["type"] == "http.response.start":
            ended = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return send_head


class OriginsApp:
    """The ASGI application for every origin: each request goes to the site, the API or the
    attacker's application by the port it arrived on; the target's own paths go to it
    directly."""

    def __init__(self, pg: Playground) -> None:
        self.playground = pg
        self.settings = pg.settings
        port = self.settings.attacker_port
        self.site = SecurityHeaders(site_app(pg), self.settings, lambda pair: site_csp(pair, port))
        # The target and the victim API answer with exactly the headers they record.
        self.api = SecurityHeaders(
            api_app(pg), self.settings, api_csp, skip=("/r/", "/victim/")
        )
        self.attacker = SecurityHeaders(
            attacker_app(pg), self.settings, lambda pair: attacker_csp(pair, port)
        )
        self.target = target.Target(pg)
        # The site's hot POST routes, each with the site's security headers.
        self.direct = [
            (path, SecurityHeaders(DirectRoute(pg, handler), self.settings, self.site.csp))
            for path, handler in (
                (rooms.ANSWER_PATH, rooms.answer),
                (json_api.EXPLAIN_PATH, json_api.explain),
            )
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        port = (scope.get("server") or ("", 0))[1]
        app: ASGIApp = self.site
        if port == self.settings.api_port:
            app = self.api
        elif port == self.settings.attacker_port:
            app = self.attacker
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        hosts = Headers(scope=scope).getlist("host")
        if len(hosts) > 1 or (hosts and parse_host(hosts[0]) is None):
            await _plain_answer(send, 400, BAD_HOST)
            return
        # The API origin's target answers every method, and sends exactly what it records.
        to_target = app is self.api and scope["path"].startswith("/r/")
        if to_target and (found := target.TARGET_PATH.fullmatch(scope["path"])):
            # The hot path (a room's "everyone send"): straight to the target, no framework.
            run_id, hop = found.groups()
            scope["path_params"] = {"run_id": run_id, "hop": int(hop or 0)}
            app = self.target
        elif app is self.site and scope["method"] == "POST":
            for pattern, route in self.direct:
                if found := pattern.fullmatch(scope["path"]):
                    scope["path_params"] = found.groupdict()
                    app = route
                    break
        if scope["method"] == "HEAD" and not to_target:
            scope = {**scope, "method": "GET"}
            send = _head_only(send)
        started = False

        async def send_closing_on_error(message: Message) -> None:
            # A server error ends its connection cleanly (Connection: close) instead of the
            # server dropping it after the answer, which resets the browser's next request.
            # The target's 5xx answers are the learner's, not errors.
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] >= 500 and not to_target:
                    message["headers"] = [*message.get("headers", []), CLOSE]
            await send(message)

        try:
            await app(scope, receive, send_closing_on_error)
        except RedisUnavailable as error:  # the target's fast path has no framework
            method, path = scope.get("method"), scope.get("path")
            log.warning("%s %s: %s (%s)", method, path, error, error.cause)
            if not started:
                await _plain_answer(send, 503, f"{error}\n".encode())
        except Exception:
            log.exception("error while answering %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _plain_answer(send, 500, SERVER_ERROR)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.playground.start()
                except RedisUnavailable as error:
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.playground.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _plain_answer(send: Send, status: int, text: bytes) -> None:
    """A plain-text answer that ends its connection (the request was not one to go on from)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})


def create_app(settings: Settings | None = None, **overrides: Any) -> OriginsApp:
    """Build the two-origin application (``overrides`` are Settings fields)."""
    return OriginsApp(Playground(replace(settings or Settings(), **overrides)))
