"""What a run shows to anyone holding its id, as opposed to its own session's pages.

A run id is a capability: whoever has ``/runs/<id>`` or ``/api/runs/<id>`` sees that run (and
may post its first result), nothing more. So the public view of a run names no session, and
the credentials the learner's browser sent (cookies and authorization headers, which may belong
to other applications on the same host) are replaced by their size.
"""

from __future__ import annotations

from dataclasses import replace

from app.runs.store import Exchange, Header, Run

CREDENTIAL_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})


def redacted(name: str, value: str) -> str:
    """What is shown instead of a credential header's value: how much there was."""
    size = len(value)  # header values are kept as latin-1 text: one character per byte
    if name.lower() == "cookie":
        count = sum(1 for pair in value.split(";") if pair.strip())
        return f"(redacted: {count} cookie{'' if count == 1 else 's'}, {size} bytes)"
    return f"(redacted: {size} bytes)"


def redact_headers(headers: tuple[Header, ...]) -> tuple[Header, ...]:
    return tuple(
        (name, redacted(name, value)) if name.lower() in CREDENTIAL_HEADERS else (name, value)
        for name, value in headers
    )


def public_exchange(exchange: Exchange) -> Exchange:
    """The leg with the credentials its request carried redacted."""
    request = exchange.request
    if not any(name.lower() in CREDENTIAL_HEADERS for name, _ in request.headers):
        return exchange
    return replace(exchange, request=replace(request, headers=redact_headers(request.headers)))


def public_run(run: Run) -> Run:
    """A copy of the run for anyone holding its id: no session, credentials redacted."""
    return replace(run, session_id="", exchanges=[public_exchange(e) for e in run.exchanges])
