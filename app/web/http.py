"""Refusing a request: the error both site routes and lab routes raise, its JSON form, and a
bounded body reader."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from app.runs.errors import BadRequest
from app.runs.validation import FieldMessage


def bad_request_json(exc: BadRequest) -> JSONResponse:
    """The refusal as the JSON API reports every field message."""
    error = FieldMessage(exc.field, exc.message)
    return JSONResponse(
        {"error": error.to_json(), "errors": [error.to_json()], "notes": []},
        status_code=exc.status,
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, f"request too large ({declared} bytes); at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, f"request too large; at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
