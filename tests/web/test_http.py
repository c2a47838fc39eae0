"""HTTP on the wire, read from raw sockets: the API origin sends exactly the answer it records,
HEAD is answered as GET without a body, a stalled request head is cut off, connections past
the limit get a clean 503, and kept-alive answers never wait for a delayed ACK."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.cors.scenario import MAX_STATUS, MIN_STATUS
from app.web.app import create_app
from app.web.config import Settings
from app.web.server import BackgroundServer
from tests.web.conftest import new_session

STATUSES = range(MIN_STATUS, MAX_STATUS + 1)


@dataclass
class WireResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    closed: bool  # the server closed the connection after it


class RawConnection:
    """One kept-alive HTTP/1.1 connection, written and read byte for byte."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise AssertionError(f"closed {size - len(self.buffer)} bytes early")
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise AssertionError(f"closed in the middle of a line: {self.buffer!r}")
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def exchange(self, request: bytes, method: str) -> WireResponse:
        self.sock.sendall(request)
        return self.read_response(method)

    def read_response(self, method: str) -> WireResponse:
        status_line = self._line()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        status = int(status_line.split()[1])
        headers = []
        while line := self._line():
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name, value.strip(" \t")))
        fields = {name.lower(): value for name, value in headers}
        if method == "HEAD" or status in (204, 304) or status < 200:
            body = b""
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int(self._line().split(b";")[0], 16):
                body += self._take(size)
                assert self._line() == b""
            while self._line():  # trailers
                pass
        elif "content-length" in fields:
            body = self._take(int(fields["content-length"]))
        else:  # read until the server closes
            while self._fill():
                pass
            body, self.buffer = self.buffer, b""
        closed = "close" in fields.get("connection", "").lower()
        return WireResponse(status, headers, body, closed)

    def assert_closed(self) -> None:
        """The server closes the connection and sends nothing more."""
        while self._fill():
            pass
        assert self.buffer == b"", self.buffer


def raw_request(
    method: str, path: str, *headers: str, body: bytes = b"", version: str = "1.1"
) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: localhost", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture(scope="module")
def live() -> Iterator[BackgroundServer]:
    with BackgroundServer(runs_per_session=len(STATUSES) + 10) as server:
        yield server


def create_run(
    client: httpx.Client, live: BackgroundServer, session: str | None, **doc: Any
) -> str:
    query = f"?session={session}" if session else ""
    answer = client.post(f"{live.site_url}/api/runs{query}", json=doc)
    assert answer.status_code == 201, answer.text
    run_id: str = answer.json()["run_id"]
    return run_id


def recorded(
    client: httpx.Client, live: BackgroundServer, run_id: str
) -> dict[str, dict[str, Any]]:
    """The run's recorded answers by the path (query included) each request was sent to."""
    run = client.get(f"{live.site_url}/api/runs/{run_id}").json()
    return {e["request"]["path"]: e["response"] for e in run["exchanges"]}


def assert_sent_as_recorded(wire: WireResponse, record: dict[str, Any], what: str) -> None:
    assert wire.status == record["status"], what
    sent = [(name.lower(), value) for name, value in wire.headers]
    kept = [(name.lower(), value) for name, value in record["headers"]]
    assert sent == kept, what
    assert len(wire.body) == record["body_size"], what


# --- the API origin sends exactly what it records ---------------------------------------------


def test_every_status_is_sent_exactly_as_recorded(live: BackgroundServer) -> None:
    """For every status the composer allows, on one kept-alive connection: the actual request
    (GET, HEAD, a POST with a body) and the preflight; the headers on the wire are the recorded
    ones, in order, and the body has the recorded size (and nothing follows it)."""
    allow = [["Access-Control-Allow-Origin", "*"], ["x-Trace", "1"]]
    requests = [
        ("GET", raw_request("GET", "{path}?leg=get")),
        ("HEAD", raw_request("HEAD", "{path}?leg=head")),
        ("POST", raw_request("POST", "{path}?leg=post", body=b"hello")),
        (
            "OPTIONS",
            raw_request("OPTIONS", "{path}?leg=preflight", "Access-Control-Request-Method: PUT"),
        ),
    ]
    with httpx.Client(timeout=10) as client:
        session = new_session(client, live)
        connection = RawConnection(live.settings.api_port)
        try:
            for status in STATUSES:
                run_id = create_run(
                    client,
                    live,
                    session,
                    request={"method": "PUT"},
                    response={"status": status, "headers": allow},
                    preflight_response={"status": status, "headers": allow},
                )
                path = f"/r/{run_id}"
                wire = {}
                for method, request in requests:
                    sent = request.replace(b"{path}", path.encode())
                    wire[sent.split(b" ")[1].decode()] = (method, connection.exchange(sent, method))
                records = recorded(client, live, run_id)
                for target, (method, answer) in wire.items():
                    assert_sent_as_recorded(answer, records[target], f"{status} to {method}")
        finally:
            connection.close()


@pytest.mark.parametrize(
    "headers, version",
    [
        (("Connection: close",), "1.1"),
        (("connection: Close, TE",), "1.1"),
        ((), "1.0"),
    ],
    ids=["Connection: close", "close among other tokens", "HTTP/1.0"],
)
def test_a_closing_answer_is_sent_exactly_as_recorded(
    live: BackgroundServer, headers: tuple[str, ...], version: str
) -> None:
    """When the connection ends after the answer, its Connection header is in the record."""
    with httpx.Client(timeout=10) as client:
        response = {"status": 200, "headers": [["Access-Control-Allow-Origin", "*"]]}
        run_id = create_run(client, live, None, response=response)
        connection = RawConnection(live.settings.api_port)
        try:
            request = raw_request("GET", f"/r/{run_id}?closing", *headers, version=version)
            wire = connection.exchange(request, "GET")
            assert wire.closed
            connection.assert_closed()
        finally:
            connection.close()
        assert_sent_as_recorded(wire, recorded(client, live, run_id)[f"/r/{run_id}?closing"], "")


@pytest.mark.parametrize("closing", [False, True], ids=["kept alive", "request says close"])
@pytest.mark.parametrize(
    "configured",
    [
        [["X-A", "1"], ["Connection", "close"], ["X-B", "2"]],
        [["X-A", "1"], ["connection", "keep-alive, Upgrade"], ["X-B", "2"]],
        [["X-A", "1"], ["Connection", "Keep-Alive"], ["connection", "x-hop"], ["X-B", "2"]],
        [["X-A", "1"], ["Host", "example.com"], ["host", "b"]],
    ],
    ids=["Connection: close", "several tokens", "two Connection headers", "Host headers"],
)
def test_configured_connection_and_host_headers_are_recorded_as_sent(
    live: BackgroundServer, configured: list[list[str]], closing: bool
) -> None:
    """h11 writes Host first, and rewrites Connection when the request ends the connection."""
    with httpx.Client(timeout=10) as client:
        run_id = create_run(client, live, None, response={"status": 200, "headers": configured})
        connection = RawConnection(live.settings.api_port)
        extra = ("Connection: close",) if closing else ()
        try:
            wire = connection.exchange(raw_request("GET", f"/r/{run_id}?c", *extra), "GET")
        finally:
            connection.close()
        record = recorded(client, live, run_id)[f"/r/{run_id}?c"]
        assert_sent_as_recorded(wire, record, str(configured))
        if not closing and configured[1][0] != "Host":  # sent as configured, in order
            assert [list(h) for h in record["headers"][:-1]] == configured


# --- HEAD is GET without the body -------------------------------------------------------------


def test_head_is_answered_as_get_without_a_body_on_every_page(live: BackgroundServer) -> None:
    with httpx.Client(timeout=10) as client:
        session = new_session(client, live)
        pages = [
            live.site_url + "/",
            live.site_url + f"/sessions/{session}",
            live.site_url + "/api",
            live.site_url + "/lessons",
            live.site_url + f"/sessions/{session}/lessons",
            live.site_url + "/static/js/runner.js",
            live.api_url + "/",
            live.api_url + f"/console/{session}",
        ]
        for url in pages:
            head = client.head(url)
            get = client.get(url)
            assert head.status_code == get.status_code, url
            assert head.content == b"", url
            assert head.headers.keys() == get.headers.keys(), url
            for name in get.headers:
                if name != "location":  # / and /lessons redirect to a new session each time
                    assert head.headers.get_list(name) == get.headers.get_list(name), (url, name)


def test_head_on_an_event_stream_answers_at_once(live: BackgroundServer) -> None:
    with httpx.Client(timeout=10) as client:
        session = new_session(client, live)
        for url in (
            f"{live.site_url}/sessions/{session}/events",
            f"{live.api_url}/console/{session}/events",
        ):
            head = client.head(url)
            assert head.status_code == 200, url
            assert head.headers["content-type"].startswith("text/event-stream"), url
            assert head.content == b""
            assert client.get(f"{live.site_url}/api").status_code == 200  # the connection is free


def test_head_to_the_target_is_still_recorded_as_head(live: BackgroundServer) -> None:
    with httpx.Client(timeout=10) as client:
        run_id = create_run(client, live, None)
        assert client.head(f"{live.api_url}/r/{run_id}").status_code == 200
        run = client.get(f"{live.site_url}/api/runs/{run_id}").json()
        assert [e["request"]["method"] for e in run["exchanges"]] == ["HEAD"]


# --- a stalled request head, too many connections ---------------------------------------------


HEAD_TIMEOUT = 1.0
CONNECTION_LIMIT = 8


@pytest.fixture(scope="module")
def impatient() -> Iterator[BackgroundServer]:
    with BackgroundServer(head_timeout=HEAD_TIMEOUT) as server:
        yield server


@pytest.fixture(scope="module")
def crowded() -> Iterator[BackgroundServer]:
    with BackgroundServer(max_connections=CONNECTION_LIMIT) as server:
        yield server


@pytest.mark.parametrize("origin", ["site", "api"])
def test_a_half_sent_request_head_is_cut_off(impatient: BackgroundServer, origin: str) -> None:
    port = impatient.settings.site_port if origin == "site" else impatient.settings.api_port
    connection = RawConnection(port)
    try:
        connection.sock.sendall(b"GET /api HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        answer = connection.read_response("GET")
        assert answer.status == 408
        assert answer.closed and b"did not arrive in time" in answer.body
        connection.assert_closed()
    finally:
        connection.close()


def test_a_stall_after_a_kept_alive_answer_is_cut_off(impatient: BackgroundServer) -> None:
    connection = RawConnection(impatient.settings.site_port)
    try:
        for _ in range(4):  # prompt requests are served for longer than the head timeout
            assert connection.exchange(raw_request("GET", "/api"), "GET").status == 200
            time.sleep(HEAD_TIMEOUT * 0.4)
        connection.sock.sendall(b"GET /api HTTP/1.1\r\n")
        assert connection.read_response("GET").status == 408
        connection.assert_closed()
    finally:
        connection.close()


def test_a_connection_that_sends_nothing_is_closed(impatient: BackgroundServer) -> None:
    connection = RawConnection(impatient.settings.api_port)
    try:
        connection.assert_closed()  # within the socket's 10 s timeout, without an answer
    finally:
        connection.close()


def test_past_the_connection_limit_a_request_gets_a_503(crowded: BackgroundServer) -> None:
    held = [RawConnection(crowded.settings.site_port) for _ in range(CONNECTION_LIMIT)]
    try:
        for connection in held:  # each counted by the server before the next one
            assert connection.exchange(raw_request("GET", "/api"), "GET").status == 200
        extra = RawConnection(crowded.settings.api_port)
        try:
            answer = extra.exchange(raw_request("GET", "/"), "GET")
            assert answer.status == 503
            assert answer.closed and b"try again" in answer.body
            extra.assert_closed()
        finally:
            extra.close()
        for connection in held:  # the connections within the limit are still served
            assert connection.exchange(raw_request("GET", "/api"), "GET").status == 200
    finally:
        for connection in held:
            connection.close()
    # Once they close, new connections are served again (the server notices the close soon).
    deadline = time.monotonic() + 10
    while True:
        fresh = RawConnection(crowded.settings.site_port)
        try:
            if fresh.exchange(raw_request("GET", "/api"), "GET").status == 200:
                break
        finally:
            fresh.close()
        assert time.monotonic() < deadline, "the freed connections were never counted off"
        time.sleep(0.05)


# --- kept-alive answers do not wait for the client's delayed ACK ------------------------------


def test_the_listening_sockets_are_tcp_sockets(live: BackgroundServer) -> None:
    """asyncio sets TCP_NODELAY only on connections accepted from IPPROTO_TCP sockets: a
    listening socket made with protocol 0 lets Nagle delay every body."""
    assert live.sockets and all(sock.proto == socket.IPPROTO_TCP for sock in live.sockets)


def test_the_server_runs_asyncio_s_own_loop_even_beside_uvloop(live: BackgroundServer) -> None:
    """uvicorn would pick uvloop wherever it is installed; under it a room's host stream
    stalled for seconds (tests/bench/bench_rooms.py), so the loop is asyncio's, by name."""
    assert live.server.config.loop == "asyncio"


def test_kept_alive_answers_with_a_body_are_not_delayed(live: BackgroundServer) -> None:
    """uvicorn writes an answer's head and body separately; without TCP_NODELAY on the accepted
    connections (the listening sockets must be IPPROTO_TCP for asyncio to set it) the body
    waits for the client's delayed ACK, ~40 ms on Linux, on every kept-alive request."""
    with httpx.Client(timeout=10) as client:
        run_id = create_run(client, live, None)
        for url in (f"{live.api_url}/r/{run_id}", f"{live.site_url}/api"):
            client.get(url)  # open the connection
            times = []
            for _ in range(10):
                started = time.perf_counter()
                answer = client.get(url)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200 and answer.content
            assert statistics.median(times) < 0.020, (url, times)


# --- hot routes go straight to their handlers --------------------------------------------------


def test_explaining_and_answering_never_reach_the_site_application() -> None:
    """``POST /api/explain`` and a room's answers skip the framework's routing and
    dependencies (they come in bursts); they keep the site's security headers and the same
    refusals."""
    app = create_app(Settings(host="127.0.0.1", site_port=8000, api_port=8001))
    seen: list[str] = []
    site = app.site.app

    async def watched(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope.get("path", ""))
        await site(scope, receive, send)

    app.site.app = watched

    async def check() -> None:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8000"
        ) as client:
            explained = await client.post("/api/explain?browser=firefox", json={})
            assert explained.status_code == 200, explained.text
            assert explained.json()["browser"] == "firefox"
            assert "content-security-policy" in explained.headers
            refused = await client.post("/api/explain?browser=lynx", json={})
            assert refused.status_code == 400
            assert refused.json()["error"]["field"] == "browser"
            unknown = await client.post("/api/rooms/attendee/nobody/answer", json={})
            assert unknown.status_code == 404, unknown.text
            assert unknown.json()["error"]["field"] == "session"
            assert seen == []
            await client.get("/api")  # every other route still goes through the site's app
            assert seen == ["/api"]

    asyncio.run(check())
