"""The recording target: a tiny HTTP/1.1 server that answers exactly as a scenario declares.

Loopback sockets, all bound to port 0: the first is the *page* origin, which serves a blank
HTML page at ``/`` so the browser has an origin to ``fetch()`` from; the second (the *target*
origin) answers ``/t/<key>`` with a registered one-URL scenario's preflight or actual response.
A whole fetch registers each of its URLs (host name, port and request target: the same port
answers as ``localhost`` and as ``127.0.0.1``, told apart by ``Host``), so redirects lead from
origin to origin; a sequence registers one answer set per fetch and the page switches between
them with a same-origin request to ``CONTROL_PATH`` before each fetch. Response headers go out
byte for byte as declared (duplicates, odd spacing and case included), plus ``Content-Length``
only. A framework cannot do this (h11 rejects odd values), hence the standard-library parser.

Every limit is bounded: header bytes, header count, body size, open connections, idle time,
registered keys and records per key.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import OrderedDict
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from app.cors.scenario import ServerResponse
from app.harness.driver import CONTROL_PATH
from app.harness.rewrite import PreparedSite

Header = tuple[str, str]
RequestKind = Literal["preflight", "actual"]

PATH_PREFIX = "/t/"
PORTS = 4
PAGE_HTML = b"<!doctype html><html><head><title>cors-playground harness</title></head></html>"
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 200
MAX_BODY_BYTES = 1024 * 1024
MAX_CONNECTIONS = 256
MAX_KEYS = 20_000
# A redirect loop: 21 requests, each with its preflight.
MAX_RECORDS_PER_KEY = 64
MAX_UNMATCHED = 64
IDLE_TIMEOUT = 15.0
READ_TIMEOUT = 10.0
WRITE_TIMEOUT = 10.0
# A response to these statuses never has content (RFC 9110 §8.6: no Content-Length on 204).
NO_CONTENT_STATUSES = frozenset({204, 304})
_CLASS_PHRASES = {2: "Success", 3: "Redirection", 4: "Client Error", 5: "Server Error"}


def reason_phrase(status: int) -> str:
    """The standard reason phrase for a status, or a generic one for its class (e.g. 299)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _CLASS_PHRASES.get(status // 100, "Unknown")


def _encode(text: str) -> bytes:
    """Header text as wire bytes: Latin-1 where possible (one char, one byte), else UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def render_response(status: int, headers: tuple[Header, ...] | list[Header], method: str) -> bytes:
    """The exact bytes of a response: status line, declared headers, Content-Length, empty body.

    ``Content-Length: 0`` is added unless the status forbids content (204, 304) or the scenario
    declares its own ``Content-Length`` / ``Transfer-Encoding`` (then the framing is theirs).
    """
    del method  # HEAD gets the same head; the body is always empty anyway.
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}".encode("ascii")]
    lines.extend(_encode(name) + b": " + _encode(value) for name, value in headers)
    if status not in NO_CONTENT_STATUSES and not _declares_framing(headers):
        lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _declares_framing(headers: tuple[Header, ...] | list[Header]) -> bool:
    return any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers)


def _unsafe_for_reuse(headers: tuple[Header, ...] | list[Header]) -> bool:
    """True when the declared head could desynchronize a kept-alive connection."""
    if _declares_framing(headers):
        return True
    return any(ch in "\r\n\0" for pair in headers for part in pair for ch in part)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the target received for a key, and the response it sent back."""

    kind: RequestKind
    method: str
    path: str
    headers: tuple[Header, ...]
    body_length: int
    response_status: int
    response_headers: tuple[Header, ...]
    # Which URL of a whole fetch answered (its index in the registered sites), and which
    # fetch of a sequence was under way.
    site: int = 0
    fetch: int = 0

    def header(self, name: str) -> str | None:
        """The first value of a request header (case-insensitive name), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "headers": [list(h) for h in self.headers],
            "body_length": self.body_length,
            "response": {
                "status": self.response_status,
                "headers": [list(h) for h in self.response_headers],
            },
        }


@dataclass
class _Entry:
    preflight_response: ServerResponse
    response: ServerResponse
    records: list[RecordedRequest] = field(default_factory=list)
    # A whole fetch's URLs, one list per fetch of a sequence; ``fetch`` is the current one.
    fetches: list[tuple[PreparedSite, ...]] = field(default_factory=list)
    fetch: int = 0


class _BadRequest(Exception):
    pass


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: list[Header]
    body_length: int


class TargetServer:
    """Page origin plus recording target origin, on two loopback sockets bound to port 0.

    Use inside a running event loop: ``await server.start()`` ... ``await server.close()``.
    """

    def __init__(self, host: str = "127.0.0.1", ports: int = PORTS) -> None:
        self.host = host
        self._count = max(2, ports)
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # (host name, port, request target) of a whole fetch's URL -> its key.
        self._sites: dict[tuple[str, int, str], str] = {}
        self._unmatched: list[RecordedRequest] = []
        self._servers: list[asyncio.base_events.Server] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._ports: tuple[int, ...] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every socket to port 0 on the loopback host and start serving."""
        ports: list[int] = []
        for _ in range(self._count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, 0))
            sock.listen(128)
            sock.setblocking(False)
            ports.append(sock.getsockname()[1])
            server = await asyncio.start_server(
                self._on_connection, sock=sock, limit=MAX_HEAD_BYTES
            )
            self._servers.append(server)
        self._ports = tuple(ports)

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self._servers.clear()

    async def __aenter__(self) -> TargetServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def page_port(self) -> int:
        if self._ports is None:
            raise RuntimeError("TargetServer.start() has not run")
        return self._ports[0]

    @property
    def target_port(self) -> int:
        if self._ports is None:
            raise RuntimeError("TargetServer.start() has not run")
        return self._ports[1]

    @property
    def ports(self) -> tuple[int, ...]:
        """Every port, the page's first."""
        if self._ports is None:
            raise RuntimeError("TargetServer.start() has not run")
        return self._ports

    # -- registry ------------------------------------------------------------------------------

    def register(
        self, key: str, preflight_response: ServerResponse, response: ServerResponse
    ) -> None:
        """Answer ``/t/<key>`` with these responses; the oldest key goes when the table is full."""
        self._entries.pop(key, None)
        self._entries[key] = _Entry(preflight_response, response)
        while len(self._entries) > MAX_KEYS:
            self._entries.popitem(last=False)

    def register_fetches(self, key: str, fetches: list[tuple[PreparedSite, ...]]) -> None:
        """Answer at every URL of a whole fetch (of each fetch of a sequence, the first fetch's
        answers until the page asks for the next)."""
        self.unregister(key)
        first = fetches[0][0]
        self._entries[key] = _Entry(first.preflight_response, first.response, fetches=fetches)
        for sites in fetches:
            for site in sites:
                self._sites[(site.host, site.port, site.target)] = key
        while len(self._entries) > MAX_KEYS:
            self.unregister(next(iter(self._entries)))

    def unregister(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            for sites in entry.fetches:
                for site in sites:
                    self._sites.pop((site.host, site.port, site.target), None)

    def records(self, key: str) -> list[RecordedRequest]:
        """Requests received for a key so far, in arrival order."""
        entry = self._entries.get(key)
        return list(entry.records) if entry else []

    @property
    def unmatched(self) -> list[RecordedRequest]:
        """The latest requests for paths that are neither ``/`` nor a registered key."""
        return list(self._unmatched)

    # -- HTTP ----------------------------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is None:
            return
        if len(self._connections) >= MAX_CONNECTIONS:
            writer.close()
            return
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (asyncio.CancelledError, ConnectionError, TimeoutError, _BadRequest):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local_port = writer.get_extra_info("sockname")[1]
        while True:
            request = await self._read_request(reader)
            if request is None:
                return
            head, keep = self._answer(request, is_page=local_port == self._ports_or_zero()[0])
            writer.write(head)
            await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
            connection = ",".join(v for k, v in request.headers if k.lower() == "connection")
            if not keep or request.version != "HTTP/1.1" or "close" in connection.lower():
                return

    def _ports_or_zero(self) -> tuple[int, ...]:
        return self._ports or (0, 0)

    async def _read_request(self, reader: asyncio.StreamReader) -> _Request | None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as exc:
            raise _BadRequest("request head too large") from exc
        lines = head[:-4].split(b"\r\n")
        while lines and not lines[0]:  # tolerate stray CRLF between requests (RFC 9112 §2.2)
            lines.pop(0)
        if not lines:
            return None
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest("bad request line")
        method, target, version = parts
        if len(lines) - 1 > MAX_HEADERS:
            raise _BadRequest("too many headers")
        headers: list[Header] = []
        for raw in lines[1:]:
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequest("bad header line")
            headers.append((name, value.strip(" \t")))
        body_length = await self._read_body(reader, headers)
        return _Request(method, target, version, headers, body_length)

    async def _read_body(self, reader: asyncio.StreamReader, headers: list[Header]) -> int:
        lowered = {k.lower(): v for k, v in headers}
        if "chunked" in lowered.get("transfer-encoding", "").lower():
            return await self._read_chunked(reader)
        length_text = lowered.get("content-length")
        if length_text is None:
            return 0
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            raise _BadRequest("bad or oversized Content-Length")
        length = int(length_text)
        if length:
            await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT)
        return length

    async def _read_chunked(self, reader: asyncio.StreamReader) -> int:
        total = 0
        while True:
            size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), READ_TIMEOUT)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise _BadRequest("bad chunk size") from exc
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadRequest("body too large")
            if size == 0:
                while (await asyncio.wait_for(reader.readuntil(b"\r\n"), READ_TIMEOUT)) != b"\r\n":
                    pass  # trailer fields, ignored
                return total
            await asyncio.wait_for(reader.readexactly(size + 2), READ_TIMEOUT)

    def _answer(self, request: _Request, *, is_page: bool) -> tuple[bytes, bool]:
        """The response bytes for a request and whether the connection may be reused."""
        path = request.target.split("?", 1)[0]
        if is_page and path == CONTROL_PATH:
            return self._control(request.target), True
        if is_page and path == "/" and request.method in ("GET", "HEAD"):
            body = b"" if request.method == "HEAD" else PAGE_HTML
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Cache-Control: no-store\r\nContent-Length: "
                + str(len(PAGE_HTML)).encode()
                + b"\r\n\r\n"
            )
            return head + body, True
        is_preflight = request.method == "OPTIONS" and any(
            k.lower() == "access-control-request-method" for k, _ in request.headers
        )
        kind: RequestKind = "preflight" if is_preflight else "actual"
        site_index = 0
        found = self._fetch_entry(request)
        entry: _Entry | None = None
        if found is not None:
            entry, site_index = found
            site = entry.fetches[entry.fetch][site_index]
            answer = site.preflight_response if is_preflight else site.response
        else:
            plain = (
                self._entries.get(path[len(PATH_PREFIX) :])
                if path.startswith(PATH_PREFIX)
                else None
            )
            entry = plain if plain is not None and not plain.fetches else None
            if entry is None:
                answer = ServerResponse(status=404, headers=(("Cache-Control", "no-store"),))
            else:
                answer = entry.preflight_response if is_preflight else entry.response
        record = RecordedRequest(
            kind=kind,
            method=request.method,
            path=request.target,
            headers=tuple(request.headers),
            body_length=request.body_length,
            response_status=answer.status,
            response_headers=tuple(answer.headers),
            site=site_index,
            fetch=entry.fetch if entry is not None else 0,
        )
        if entry is None:
            self._unmatched.append(record)
            del self._unmatched[:-MAX_UNMATCHED]
        elif len(entry.records) < MAX_RECORDS_PER_KEY:
            entry.records.append(record)
        return (
            render_response(answer.status, answer.headers, request.method),
            not _unsafe_for_reuse(answer.headers),
        )

    def _fetch_entry(self, request: _Request) -> tuple[_Entry, int] | None:
        """The whole fetch a request belongs to, by its Host and target, and the URL's index
        in the current fetch's sites."""
        host_header = next((v for k, v in request.headers if k.lower() == "host"), "")
        host, _, port_text = host_header.strip().lower().rpartition(":")
        if not port_text.isdigit():
            return None
        key = self._sites.get((host, int(port_text), request.target))
        entry = self._entries.get(key) if key is not None else None
        if entry is None:
            return None
        sites = entry.fetches[entry.fetch]
        for index, site in enumerate(sites):
            if (site.host, site.port, site.target) == (host, int(port_text), request.target):
                return entry, index
        return None

    def _control(self, target: str) -> bytes:
        """``CONTROL_PATH?key=<key>&fetch=<n>``: the sequence's fetch n starts now."""
        query = dict(
            part.partition("=")[::2] for part in target.partition("?")[2].split("&") if part
        )
        entry = self._entries.get(query.get("key", ""))
        fetch = query.get("fetch", "")
        status = b"404 Not Found"
        if entry is not None and fetch.isdigit() and int(fetch) < len(entry.fetches):
            entry.fetch = int(fetch)
            status = b"204 No Content"
        return b"HTTP/1.1 " + status + b"\r\nCache-Control: no-store\r\nContent-Length: 0\r\n\r\n"
