"""What handlers ask for, as ``Annotated`` dependencies: the shared state, the page's
origins, the session in the path, and request bodies read within one named limit per kind of
route. Imports no route module.

Dependencies are ``async def`` although none of them awaits: FastAPI runs a plain ``def``
dependency in a worker thread, which costs more than the request's own work here."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Query, Request

from app.attack.store import Attack
from app.cors import PROFILES
from app.runs.agreement import browser_from_user_agent
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair
from app.runs.store import Session
from app.runs.validation import MAX_BODY_BYTES, FormData, invalid_text
from app.web.state import Playground

# One limit per kind of request body, in bytes.
#: The composer's form and the JSON API's scenarios: headers, status lines and a request body.
SCENARIO_LIMIT = 4 * MAX_BODY_BYTES
#: What the page's script reports after fetch() settles (headers and the start of the body).
RESULT_LIMIT = 256 * 1024
#: A handful of choices: a lab's controls, a lesson's answer.
CHOICES_LIMIT = 4096
#: Fields in one urlencoded form (the composer has at most 3 x 32 header rows, two each).
MAX_FORM_FIELDS = 1000


async def playground(request: Request) -> Playground:
    """The playground serving this request (both origins share it)."""
    pg: Playground = request.app.state.playground
    return pg


PG = Annotated[Playground, Depends(playground)]


async def page_origins(request: Request, pg: PG) -> OriginPair:
    """The origins of the page this request came from (by the host name it used)."""
    port = (request.scope.get("server") or ("", 0))[1]
    return pg.settings.request_origins(request.headers.get("host"), port)


Origins = Annotated[OriginPair, Depends(page_origins)]


#: Event ids are at most the largest integer a page's script holds exactly (with Redis they are
# microseconds of the clock).
MAX_EVENT_ID = 2**53 - 1
_EVENT_ID = re.compile(r"[0-9]{1,16}")


async def resume_point(
    request: Request, since: Annotated[int | None, Query(ge=0, le=MAX_EVENT_ID)] = None
) -> int | None:
    """Where a reopened event stream resumes: the last event id the page had, from ``?since=``
    (the page's script reopening it) or ``Last-Event-ID`` (the browser's own reconnection),
    the later of the two; None for a new stream. A malformed ``Last-Event-ID`` is ignored."""
    header = request.headers.get("last-event-id", "")
    last = int(header) if _EVENT_ID.fullmatch(header) else None
    if since is None or last is None:
        return since if last is None else last
    return max(since, last)


Since = Annotated[int | None, Depends(resume_point)]


#: The refusal of a session id the store does not hold.
NO_SESSION = "this session expired or never existed: start again from the playground's home page"


#: Where a session page's request keeps the session's room membership, for its banner.
MEMBERSHIP = "room_membership"


async def current_session(request: Request, session_id: str, pg: PG) -> Session:
    """The session named in the path (refused with 404 when there is none: a session starts
    only at a route that starts one, never by naming an id). A page (GET) also notes the
    room the session is in, for the banner its templates show."""
    session = await pg.store.session(session_id)
    if session is None:
        raise BadRequest(404, NO_SESSION, "session")
    if request.method == "GET":
        setattr(request.state, MEMBERSHIP, await pg.rooms.membership(session_id))
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


def browser_profile(request: Request, explicit: str | None = None) -> str:
    """The engine profile to predict for: the one asked for, else the browser's own."""
    if explicit:
        if explicit not in PROFILES:
            raise BadRequest(
                400, f"unknown browser {explicit!r}: choose one of {', '.join(PROFILES)}", "browser"
            )
        return explicit
    return browser_from_user_agent(request.headers.get("user-agent", "")).profile


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


async def read_json(request: Request, limit: int = SCENARIO_LIMIT) -> Any:
    """The body as JSON, refused with a reason when it is not."""
    raw = await read_body(request, limit)
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(400, "the body is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise BadRequest(400, f"the body is not usable JSON: {exc}") from None
    # A lone surrogate arrives as a \u escape (a backslash) or as bytes that encode one (JSON
    # decodes them as they come: never ASCII bytes); other bodies need no walk through them.
    suspect = b"\\" in raw or not raw.isascii()
    problem = invalid_text(doc) if suspect else None
    if problem is not None:
        raise BadRequest(422, f"{problem.field}: {problem.message}", problem.field)
    return doc


async def read_form(request: Request, limit: int = SCENARIO_LIMIT) -> FormData:
    """The body as an urlencoded form (every field, in order)."""
    raw = await read_body(request, limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "the form is not UTF-8") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise BadRequest(
            413, f"the form has too many fields; at most {MAX_FORM_FIELDS}"
        ) from None
    return FormData(pairs)


NO_ATTACK = "no such attack: it expired or never existed"


async def live_attack(pg: Playground, attack_id: str) -> Attack | None:
    """The attack with this id while its lab session lives."""
    if await pg.store.session(attack_id) is None:
        return None
    return await pg.attacks.get(attack_id)


@asynccontextmanager
async def changing_attack(pg: Playground, attack_id: str) -> AsyncIterator[Attack]:
    """The attack to change in this block (kept as it is when the block ends); 404 when
    there is none."""
    async with pg.attacks.editing(attack_id) as attack:
        if attack is None:
            raise BadRequest(404, NO_ATTACK, "attack")
        yield attack
