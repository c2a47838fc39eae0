"""A run after it is created: the browser's result (compared with the prediction), the run's
own page, and the session's live event stream of run cards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.runs.agreement import differences, parse_result
from app.runs.errors import BadRequest
from app.runs.privacy import public_run
from app.runs.store import Run
from app.web import render, room_events
from app.web.deps import PG, RESULT_LIMIT, CurrentSession, Since, read_json
from app.web.events import (
    Event,
    EventStreamResponse,
    Subscription,
    event_stream,
    runs_topic,
    subscription,
)

router = APIRouter()


async def known_run(run_id: str, pg: PG) -> Run:
    run = await pg.store.run(run_id)
    if run is None:
        raise BadRequest(404, "no such run (it expired or never existed)", "run")
    return run


KnownRun = Annotated[Run, Depends(known_run)]


async def _record_result(request: Request, run: Run, pg: PG, *, own: bool) -> JSONResponse:
    if run.browser_result is not None:
        raise BadRequest(409, "this run already has its result", "run")
    doc = await read_json(request, RESULT_LIMIT)
    result = parse_result(doc, run, request.headers.get("user-agent", ""))
    if run.browser_result is not None:  # another answer came first while this one was read
        raise BadRequest(409, "this run already has its result", "run")
    diffs = differences(run.prediction, run.exchanges, result)
    await pg.store.finish(run, result, diffs, published=pg.bus.next_id())
    pg.publish_run(run)
    return JSONResponse(
        {
            "card": render.card_html(pg.templates, run, own=own),
            "agreement": run.agreement,
            "differences": list(run.differences),
        }
    )


@router.post("/runs/{run_id}/result", response_class=JSONResponse)
async def post_result(request: Request, run: KnownRun, pg: PG) -> JSONResponse:
    """What the page's JavaScript got from fetch(); compared with the prediction. Anyone
    holding the run id may post its first result; the card answered is the run's public one."""
    return await _record_result(request, run, pg, own=False)


async def own_run(session: CurrentSession, run_id: str, pg: PG) -> Run:
    """A run of the session named in the path."""
    run = session.runs.get(run_id)
    if run is None:
        raise BadRequest(404, "no such run in this session (it expired or never existed)", "run")
    return run


OwnRun = Annotated[Run, Depends(own_run)]


@router.post("/sessions/{session_id}/runs/{run_id}/result", response_class=JSONResponse)
async def post_own_result(request: Request, run: OwnRun, pg: PG) -> JSONResponse:
    """The same, from the run's own session page: answered with the card that page shows."""
    return await _record_result(request, run, pg, own=True)


@router.get("/sessions/{session_id}/runs/{run_id}/card", response_class=HTMLResponse)
async def own_card(run: OwnRun, pg: PG) -> HTMLResponse:
    """A run's whole card as its session's pages show it (live events carry only the legs)."""
    return HTMLResponse(render.card_html(pg.templates, run, own=True))


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(request: Request, run: KnownRun, pg: PG) -> HTMLResponse:
    """One run on its own page (no composer): its card, as it is now, as anyone holding the run
    id sees it (no session, the browser's credentials redacted)."""
    return pg.templates.TemplateResponse(
        request,
        "runs/page.html",
        {"run": public_run(run), "card": render.card_html(pg.templates, run)},
    )


async def runs_subscription(session: CurrentSession, pg: PG) -> AsyncIterator[Subscription]:
    busy = "Too many open pages for this session"
    async with subscription(pg.bus, runs_topic(session.id), busy) as sub:
        await room_events.stream_opened(pg, session.id)  # an attendee of a room is online
        try:
            yield sub
        finally:
            await room_events.stream_closed(pg, session.id)


@router.get("/sessions/{session_id}/events", response_class=EventStreamResponse)
async def session_events(
    sub: Annotated[Subscription, Depends(runs_subscription)],
    session: CurrentSession,
    since: Since,
    pg: PG,
) -> EventStreamResponse:
    """Run cards of this session as they change (server-sent events, HTML payloads), and the
    events of the room it is in (``room``, JSON).

    With ``since`` (or Last-Event-ID), first the cards of the runs changed after that event
    and the room events since; a new stream first gets the room as it is."""
    upto = pg.bus.last_id
    backlog = None
    if since is not None:
        changed = sorted(
            (run for run in session.runs.values() if since < run.published <= upto),
            key=lambda run: run.published,
        )
        backlog = [
            Event("run", render.card_html(pg.templates, run, own=True), run.published)
            for run in changed
        ]
    room = await room_events.session_backlog(pg, session.id, since, upto)
    if room:
        backlog = sorted([*(backlog or ()), *room], key=lambda event: event.id)
    return EventStreamResponse(event_stream(sub, named=True, upto=upto, backlog=backlog))
