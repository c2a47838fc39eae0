"""A recorded leg as raw HTTP text: the request line and headers as the API origin received
them, the status line and headers as it sent them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.fix.sequence import ExchangeLike, status_line, visible

# The API origin is plain HTTP/1.1 on loopback (uvicorn speaks no HTTP/2 without TLS).
HTTP_VERSION = "HTTP/1.1"
KIND_WORDS = {"preflight": "Preflight", "actual": "Actual request"}


@dataclass(frozen=True)
class RawLeg:
    """One leg, ready to print in a <pre> (the template escapes it)."""

    kind: str
    title: str
    request: str
    response: str
    request_body_size: int
    response_body_size: int


def raw_leg(exchange: ExchangeLike, index: int = 0) -> RawLeg:
    request, response = exchange.request, exchange.response
    lines = [f"{visible(request.method)} {visible(request.path)} {HTTP_VERSION}"]
    lines += [f"{visible(n)}: {visible(v)}" for n, v in request.headers]
    answer = [f"{HTTP_VERSION} {status_line(response.status)}"]
    answer += [f"{visible(n)}: {visible(v)}" for n, v in response.headers]
    title = KIND_WORDS.get(exchange.kind, exchange.kind)
    if exchange.kind == "actual" and index:
        title += f" (hop {index})"
    return RawLeg(
        exchange.kind,
        title,
        "\n".join(lines),
        "\n".join(answer),
        getattr(request, "body_size", 0),
        getattr(response, "body_size", 0),
    )


def raw_legs(exchanges: Sequence[ExchangeLike]) -> tuple[RawLeg, ...]:
    """Every recorded leg, in the order it arrived."""
    legs: list[RawLeg] = []
    actual = 0
    for exchange in exchanges:
        legs.append(raw_leg(exchange, actual if exchange.kind == "actual" else 0))
        if exchange.kind == "actual":
            actual += 1
    return tuple(legs)
