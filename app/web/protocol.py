"""Each HTTP/1.1 connection: uvicorn's h11 protocol, stricter about what it reads and for how
long it waits.

- A request whose length could be read two ways is refused before the application sees it:
  ``Content-Length`` together with ``Transfer-Encoding`` (RFC 9112 §6.1), or a header line
  folded onto the next (obs-fold, RFC 9112 §5.2, which hides a ``Transfer-Encoding`` from
  anything that reads headers line by line). It gets a 400 with a message and the connection
  closes, so nothing of it, nor anything hidden after it, is answered or recorded.
- A request's head must arrive within ``head_timeout`` seconds of the connection being ready
  for it (just opened, or the previous answer sent); a connection that stalls is closed, with a
  408 when part of a head had arrived.
- At most ``max_connections`` connections are served at once: a request on a connection opened
  past that gets a 503 and the connection closes.

The h11 parser stays: httptools refuses lowercase methods such as ``patch`` before the
application could record them.
"""

from __future__ import annotations

import asyncio
import http
import re
from typing import Any

import h11
import uvicorn
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

# The end of a request's head: an empty line (h11 also accepts a bare LF as a line end).
_HEAD_END = re.compile(rb"\n\r?\n")
# A line of the head that starts with a space or a tab continues the previous one (obs-fold).
_FOLD = re.compile(rb"\n[ \t]")

AMBIGUOUS_LENGTH = (
    "the request has both Content-Length and Transfer-Encoding, so its length could be read "
    "two ways (RFC 9112 section 6.1); send one of them"
)
FOLDED_HEADER = (
    "a header line starts with a space or a tab: obsolete line folding is not accepted "
    "(RFC 9112 section 5.2); send each header on one line"
)
NOT_HTTP = "the request is not valid HTTP/1.1"
HEAD_TIMED_OUT = b"The request's head did not arrive in time; the connection is closed.\n"
TOO_MANY_CONNECTIONS = (
    b"The playground is serving as many connections as it can; try again in a moment.\n"
)


class PlaygroundConfig(uvicorn.Config):
    """A uvicorn configuration for :class:`PlaygroundProtocol` with its two limits."""

    def __init__(
        self, app: Any, *, head_timeout: float, max_connections: int, **options: Any
    ) -> None:
        super().__init__(app, http=PlaygroundProtocol, **options)
        self.head_timeout = head_timeout
        self.max_connections = max_connections


class StrictConnection(h11.Connection):
    """An h11 server connection that refuses requests of ambiguous length and keeps the reason
    for the 400 it answers with."""

    refusal: str | None = None

    def _refuse(self, reason: str) -> h11.RemoteProtocolError:
        self.refusal = reason
        return h11.RemoteProtocolError(reason, error_status_hint=400)

    def next_event(self) -> Any:
        if self.their_state is h11.IDLE:
            data = self.trailing_data[0]
            end = _HEAD_END.search(data)
            if _FOLD.search(data, 0, end.start() if end else len(data)):
                raise self._refuse(FOLDED_HEADER)
        try:
            event = super().next_event()
        except h11.RemoteProtocolError:
            self.refusal = self.refusal or NOT_HTTP
            raise
        if isinstance(event, h11.Request):
            names = {name for name, _ in event.headers}  # h11 gives names in lowercase
            if b"content-length" in names and b"transfer-encoding" in names:
                raise self._refuse(AMBIGUOUS_LENGTH)
        return event


async def _too_many_connections(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(TOO_MANY_CONNECTIONS)).encode()),
                (b"retry-after", b"5"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_MANY_CONNECTIONS})


class PlaygroundProtocol(H11Protocol):
    """uvicorn's h11 protocol with the refusals, the head timeout and the connection limit
    described above."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        assert isinstance(config, PlaygroundConfig)
        self.conn = StrictConnection(
            h11.SERVER, config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
        )
        self.head_timeout = config.head_timeout
        self.max_connections = config.max_connections
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.app = _too_many_connections
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_head()

    def _watch_head(self) -> None:
        """Time the wait for a request's head: a timer runs exactly while one is awaited."""
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self.head_timer is None:
                self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)
        else:
            self._stop_head_timer()

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0] and self.conn.our_state is h11.IDLE:
            self._answer_and_close(408, HEAD_TIMED_OUT)
        else:
            self.conn.send(h11.ConnectionClosed())
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """Refuse a request that cannot be read safely, saying why, and close."""
        reason = getattr(self.conn, "refusal", None) or NOT_HTTP
        self._answer_and_close(400, f"Bad request: {reason}.\n".encode())

    def _answer_and_close(self, status: int, body: bytes) -> None:
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            headers = [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ]
            reason = http.HTTPStatus(status).phrase
            events = (
                h11.Response(status_code=status, headers=headers, reason=reason),
                h11.Data(data=body),
                h11.EndOfMessage(),
            )
            self.transport.write(b"".join(self.conn.send(event) or b"" for event in events))
        self.transport.close()
