"""The recording target server, over raw sockets: exact bytes out, faithful records in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.cors.scenario import ServerResponse
from app.harness import target
from app.harness.target import TargetServer, reason_phrase, render_response

PREFLIGHT = ServerResponse(
    204,
    (
        ("Access-Control-Allow-Origin", "http://localhost:8701"),
        ("Access-Control-Allow-Methods", "PUT"),
    ),
)
ACTUAL = ServerResponse(
    200,
    (
        ("Access-Control-Allow-Origin", "http://localhost:8701"),
        ("Access-Control-Allow-Origin", "*"),
        ("X-Odd", "  spaced  value "),
        ("x-lower", ""),
        ("Set-Cookie", "a=b"),
        ("Set-Cookie", "c=d"),
    ),
)


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One response: its head (up to the blank line) and Content-Length body bytes."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    body = await asyncio.wait_for(reader.readexactly(length), 5) if length else b""
    return head, body


def run(test: Callable[[TargetServer], Awaitable[None]]) -> None:
    async def main() -> None:
        async with TargetServer() as server:
            server.register("k", PREFLIGHT, ACTUAL)
            await test(server)

    asyncio.run(main())


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def test_ports_are_distinct_and_dynamic() -> None:
    async def check(server: TargetServer) -> None:
        assert server.page_port != server.target_port
        assert 0 not in (server.page_port, server.target_port)

    run(check)


def test_actual_response_sends_declared_headers_byte_for_byte_plus_content_length() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        writer.write(b"GET /t/k HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:8701\r\n\r\n")
        head, body = await read_response(reader)
        assert head == (
            b"HTTP/1.1 200 OK\r\n"
            b"Access-Control-Allow-Origin: http://localhost:8701\r\n"
            b"Access-Control-Allow-Origin: *\r\n"
            b"X-Odd:   spaced  value \r\n"
            b"x-lower: \r\n"
            b"Set-Cookie: a=b\r\n"
            b"Set-Cookie: c=d\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
        assert body == b""
        writer.close()

    run(check)


def test_preflight_is_options_with_access_control_request_method() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        writer.write(
            b"OPTIONS /t/k HTTP/1.1\r\nHost: x\r\nAccess-Control-Request-Method: PUT\r\n"
            b"Access-Control-Request-Headers: x-b,x-a\r\n\r\n"
        )
        head, _ = await read_response(reader)
        # 204 forbids content: no Content-Length is added.
        assert head == (
            b"HTTP/1.1 204 No Content\r\n"
            b"Access-Control-Allow-Origin: http://localhost:8701\r\n"
            b"Access-Control-Allow-Methods: PUT\r\n\r\n"
        )
        # An OPTIONS without Access-Control-Request-Method is an actual request.
        writer.write(b"OPTIONS /t/k HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _ = await read_response(reader)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        writer.close()
        kinds = [(r.kind, r.method) for r in server.records("k")]
        assert kinds == [("preflight", "OPTIONS"), ("actual", "OPTIONS")]
        assert server.records("k")[0].header("access-control-request-headers") == "x-b,x-a"

    run(check)


def test_records_method_header_names_as_received_and_body_length() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        writer.write(
            b"patch /t/k HTTP/1.1\r\nHost: x\r\nx-Mixed-CASE: a\r\nX-Dup: 1\r\nx-dup: 2\r\n"
            b"Content-Length: 5\r\n\r\nhello"
        )
        await read_response(reader)
        writer.close()
        (record,) = server.records("k")
        assert record.kind == "actual"
        assert record.method == "patch"
        assert record.headers == (
            ("Host", "x"),
            ("x-Mixed-CASE", "a"),
            ("X-Dup", "1"),
            ("x-dup", "2"),
            ("Content-Length", "5"),
        )
        assert record.body_length == 5
        assert record.response_status == 200
        assert record.response_headers == ACTUAL.headers

    run(check)


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        for _ in range(3):
            writer.write(b"POST /t/k HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            head, _ = await read_response(reader)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        writer.write(b"GET /t/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await read_response(reader)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed after Connection: close
        assert len(server.records("k")) == 4

    run(check)


def test_chunked_request_body_is_read() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        writer.write(
            b"POST /t/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        await read_response(reader)
        writer.close()
        assert server.records("k")[0].body_length == 5

    run(check)


def test_page_origin_serves_a_blank_no_store_page() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.page_port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = await read_response(reader)
        writer.close()
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\nCache-Control: no-store\r\n" in head
        assert b"<html" in body

    run(check)


def test_unknown_key_is_404_and_recorded_as_unmatched() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        writer.write(b"GET /t/nope HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _ = await read_response(reader)
        writer.close()
        assert head.startswith(b"HTTP/1.1 404 Not Found\r\n")
        assert [r.path for r in server.unmatched] == ["/t/nope"]

    run(check)


def test_oversized_request_head_closes_the_connection() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        writer.write(b"GET /t/k HTTP/1.1\r\nX-Big: " + b"a" * (target.MAX_HEAD_BYTES + 10))
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert server.records("k") == []

    run(check)


def test_oversized_body_closes_the_connection() -> None:
    async def check(server: TargetServer) -> None:
        reader, writer = await connect(server.target_port)
        size = target.MAX_BODY_BYTES + 1
        writer.write(f"POST /t/k HTTP/1.1\r\nContent-Length: {size}\r\n\r\n".encode())
        assert await asyncio.wait_for(reader.read(), 5) == b""

    run(check)


def test_idle_connection_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(target, "IDLE_TIMEOUT", 0.2)

    async def check(server: TargetServer) -> None:
        reader, _ = await connect(server.target_port)
        assert await asyncio.wait_for(reader.read(), 5) == b""

    run(check)


def test_declared_framing_is_kept_and_the_connection_closed() -> None:
    async def check(server: TargetServer) -> None:
        server.register(
            "cl", PREFLIGHT, ServerResponse(200, (("Content-Length", "0"), ("X-A", "1")))
        )
        reader, writer = await connect(server.target_port)
        writer.write(b"GET /t/cl HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        assert data == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n"

    run(check)


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        (200, "OK"),
        (204, "No Content"),
        (418, "I'm a Teapot"),
        (299, "Success"),
        (599, "Server Error"),
    ],
)
def test_reason_phrase(status: int, phrase: str) -> None:
    assert reason_phrase(status) == phrase


def test_render_response_encodes_latin1_and_skips_content_length_for_304() -> None:
    assert render_response(304, [("ETag", '"é"')], "GET") == (
        b'HTTP/1.1 304 Not Modified\r\nETag: "\xe9"\r\n\r\n'
    )
