"""The API origin's target: answers and records every leg of a run.

``/r/<run_id>`` answers the browser's preflight (an OPTIONS request carrying
``Access-Control-Request-Method``) and the actual request with exactly the status and headers
the learner configured, plus only the framing HTTP needs (``Content-Length``, and
``Connection: close`` when the connection ends after the answer). Each leg is recorded as
received (method, every header, body size) and exactly as it goes on the wire, then published
to the session's page and console before the answer leaves, so the page never misses a leg.
``/r/<run_id>/<n>`` answers the run's n-th follow-up hop (where its redirects point).
"""

from __future__ import annotations

import re
import time

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.runs.answers import NO_BODY_STATUSES, framing_headers
from app.runs.store import Exchange, RecordedRequest, RecordedResponse, Run
from app.web import render
from app.web.events import console_topic
from app.web.state import Playground

MAX_TARGET_BODY = 1024 * 1024

Header = tuple[str, str]


async def _read_body(receive: Receive, limit: int) -> tuple[int, bool]:
    """Count the request body's bytes (kept no longer than needed); True if over ``limit``."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return size, False
        size += len(message.get("body", b""))
        if size > limit:
            return size, True
        if not message.get("more_body", False):
            return size, False


def answer_body(run: Run, method: str, status: int, preflight: bool) -> bytes:
    """The answer's content; a HEAD request gets the headers of this body, not the body."""
    if preflight or status in NO_BODY_STATUSES:
        return b""
    return f"Hello from the API origin: run {run.id} answered {method} with {status}.\n".encode()


def closes_after(scope: Scope) -> bool:
    """Whether the connection ends after this answer (RFC 9112 §9.3): an HTTP/1.0 request, or
    one that says ``Connection: close``."""
    if scope.get("http_version", "1.1") < "1.1":
        return True
    return any(
        name.lower() == b"connection" and b"close" in _tokens(value)
        for name, value in scope["headers"]
    )


def _tokens(value: bytes) -> list[bytes]:
    return [t.strip() for t in value.lower().split(b",") if t.strip()]


def wire_headers(headers: list[Header], closing: bool) -> list[Header]:
    """The headers as h11 writes them, so the record is what the browser receives: Host first,
    and when the request ends the connection, every Connection header replaced by one
    ``Connection`` line per token, ``keep-alive`` dropped and ``close`` added, sorted."""
    if closing:
        tokens = {t for k, v in headers if k.lower() == "connection" for t in _tokens(v.encode())}
        kept = [(k, v) for k, v in headers if k.lower() != "connection"]
        final = sorted((tokens - {b"keep-alive"}) | {b"close"})
        headers = kept + [("Connection", t.decode("latin-1")) for t in final]
    host = [(k, v) for k, v in headers if k.lower() == "host"]
    return host + [(k, v) for k, v in headers if k.lower() != "host"]


class Target:
    """ASGI endpoint for ``/r/{run_id}`` and its hops: any method, answered from the run."""

    def __init__(self, pg: Playground) -> None:
        self.pg = pg

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at = time.time()
        pg = self.pg
        run = await pg.store.target(scope["path_params"]["run_id"])
        hop: int = scope["path_params"].get("hop", 0)
        method: str = scope["method"]
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        body_size, too_large = await _read_body(receive, MAX_TARGET_BODY)
        if run is None:
            await _plain(send, 404, b"No such run: it expired or never existed.\n")
            return
        if not 0 <= hop <= len(run.hops):
            await _plain(send, 404, b"No such hop in this run.\n")
            return
        if too_large:
            await _plain(send, 413, b"Request body too large for the playground.\n")
            return
        preflight = method == "OPTIONS" and any(
            k.lower() == "access-control-request-method" for k, _ in headers
        )
        if preflight:
            # A whole fetch's hop answers its own preflight; otherwise the run's answer does.
            hops = run.scenario.hops
            answer = hops[hop - 1].preflight_response if 0 < hop <= len(hops) else (
                run.scenario.preflight_response
            )
        else:
            answer = run.hops[hop - 1] if hop else run.scenario.response
        body = answer_body(run, method, answer.status, preflight)
        sent_headers = [*answer.headers, *framing_headers(answer.status, len(body))]
        sent_headers = wire_headers(sent_headers, closes_after(scope))
        sent_size = 0 if method == "HEAD" else len(body)
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        exchange = Exchange(
            kind="preflight" if preflight else "actual",
            request=RecordedRequest(method, path, headers, body_size),
            response=RecordedResponse(answer.status, tuple(sent_headers), sent_size),
            at=received_at,
            seq=pg.bus.next_id(),
            run_id=run.id,
        )
        if await pg.store.record(run, exchange, published=exchange.seq):
            exchange = run.exchanges[-1]  # as kept: a leg over its budget is cut down
            pg.publish_leg(run, exchange)
        else:
            pg.publish_count(run)  # not kept: the card counts it
        pg.bus.publish(
            console_topic(run.session_id),
            "exchange",
            lambda: render.console_entry_html(pg.templates, run, exchange),
            exchange.seq,
        )
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent_headers],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# The run's URL and its redirect hops: /r/<run id> and /r/<run id>/<n>.
TARGET_PATH = re.compile(r"/r/([^/]+)(?:/([0-9]+))?")


def routes(pg: Playground) -> list[Route]:
    """The target's routes: the run's URL and its redirect hops, any method."""
    target = Target(pg)
    return [Route("/r/{run_id}", target), Route("/r/{run_id}/{hop:int}", target)]
