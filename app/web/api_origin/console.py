"""The API origin's pages: what this origin is, and a session's live server console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.web import render
from app.web.deps import PG, CurrentSession, Origins, Since
from app.web.events import (
    Event,
    EventStreamResponse,
    Subscription,
    console_topic,
    event_stream,
    subscription,
)

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, pg: PG, origins: Origins) -> HTMLResponse:
    """What this origin is."""
    return pg.templates.TemplateResponse(
        request, "api_origin/index.html", {"site_url": origins.page}
    )


@router.get("/console/{session_id}", response_class=HTMLResponse)
async def console(
    request: Request, session: CurrentSession, origins: Origins, pg: PG
) -> HTMLResponse:
    """The server console of a session, live."""
    exchanges = [(run, e) for run in session.runs.values() for e in run.exchanges]
    exchanges.sort(key=lambda pair: pair[1].at, reverse=True)
    return pg.templates.TemplateResponse(
        request,
        "api_origin/console.html",
        {"session_id": session.id, "exchanges": exchanges, "site_url": origins.page},
    )


async def console_subscription(session: CurrentSession, pg: PG) -> AsyncIterator[Subscription]:
    busy = "Too many open consoles for this session"
    async with subscription(pg.bus, console_topic(session.id), busy) as sub:
        yield sub


@router.get("/console/{session_id}/events", response_class=EventStreamResponse)
async def console_events(
    sub: Annotated[Subscription, Depends(console_subscription)],
    session: CurrentSession,
    since: Since,
    pg: PG,
) -> EventStreamResponse:
    """Its exchanges as server-sent events (HTML).

    With ``since`` (or Last-Event-ID), first the exchanges that arrived after that event."""
    upto = pg.bus.last_id
    backlog = None
    if since is not None:
        missed = sorted(
            (
                (exchange.seq, run, exchange)
                for run in session.runs.values()
                for exchange in run.exchanges
                if since < exchange.seq <= upto
            ),
            key=lambda item: item[0],
        )
        backlog = [
            Event("exchange", render.console_entry_html(pg.templates, run, exchange), seq)
            for seq, run, exchange in missed
        ]
    return EventStreamResponse(event_stream(sub, named=False, upto=upto, backlog=backlog))
