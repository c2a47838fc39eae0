"""Room events on the event bus: where each audience's events go, and what a stream that
opens or resumes gets first.

- The host page and the projector each have a topic of their own per room.
- An attendee has no stream of their own: the room's events travel on the attendee's session
  topic (and on the topics of the sessions their labs keep runs in), so each page of theirs
  holds ONE event stream for run cards and room events alike (browsers allow six connections
  per host name, and attendees open several tabs).

The room store queues its events (``RoomStore.drain``); ``publish`` sends them, once per
topic, each payload rendered once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from app.lessons import LESSONS
from app.rooms import Attendee, Outgoing, Room, RoomEvent
from app.runs.origins import origin
from app.shared import RedisUnavailable
from app.web.deps import MEMBERSHIP
from app.web.events import Event, runs_topic
from app.web.state import Playground


def host_topic(room_id: str) -> str:
    """The room's host page: every change, names included."""
    return f"room-host:{room_id}"


def view_topic(room_id: str) -> str:
    """The room's projector view: counts and tallies, never a name."""
    return f"room-view:{room_id}"


def _topics(out: Outgoing) -> Iterator[str]:
    if out.audience == "host":
        yield host_topic(out.room.id)
    elif out.audience == "view":
        yield view_topic(out.room.id)
    elif out.audience == "attendee":
        assert out.attendee is not None
        yield from (runs_topic(sid) for sid in out.attendee.stream_ids)
    else:
        for attendee in out.room.attendees.values():
            if not attendee.left:
                yield from (runs_topic(sid) for sid in attendee.stream_ids)


def publish(pg: Playground) -> None:
    """Send every event the room store queued to the streams of its audience."""
    for out in pg.rooms.drain():
        event = out.event

        def payload(data: str = event.data) -> str:
            return data

        for topic in _topics(out):
            pg.bus.publish(topic, event.name, payload, event.id)


log = logging.getLogger("cors_playground.rooms")
LESSON_SLUGS = frozenset(item.slug for item in LESSONS)


async def lesson_progress(pg: Playground, session_id: str, slug: str | None) -> None:
    """The session answered or sent lesson ``slug``: if it is an attendee's, the host's
    progress grid gets that cell as it is now (answered right or wrong, sent)."""
    if slug not in LESSON_SLUGS:
        return
    found = await pg.rooms.membership(session_id)
    if found is None or found[1].session_id != session_id:
        return
    room, attendee = found
    answer = await pg.progress.get(session_id, slug)
    session = await pg.store.session(session_id)
    sent = session is not None and any(run.scenario.id == slug for run in session.runs.values())
    mark = None if answer is None else ("right" if answer.correct else "wrong")
    await pg.rooms.progress(room, attendee, slug, {"answer": mark, "sent": sent})
    publish(pg)


def as_events(events: list[RoomEvent]) -> list[Event]:
    return [Event(e.name, e.data, e.id) for e in events]


async def stream_opened(pg: Playground, session_id: str) -> None:
    """A page of this session opened its event stream (the host sees the attendee online)."""
    await pg.rooms.stream_opened(session_id)
    publish(pg)


async def stream_closed(pg: Playground, session_id: str) -> None:
    try:
        await pg.rooms.stream_closed(session_id)
    except RedisUnavailable as error:  # the stream ends because Redis went away
        log.warning("an attendee's stream closed while Redis was away: %s", error)
    publish(pg)


async def session_backlog(
    pg: Playground, session_id: str, since: int | None, upto: int
) -> list[Event]:
    """The room events a session's stream sends first (none when the session is in no room)."""
    return as_events(await pg.rooms.attendee_backlog(session_id, since, upto))


def banner_context(request: Request) -> dict[str, Any]:
    """The room banner of a session's page (a Jinja context processor): which room the
    session is in, and the room as this attendee sees it now. Only the site origin's session
    pages show it."""
    session_id = request.path_params.get("session_id")
    if not session_id or not request.url.path.startswith("/sessions/"):
        return {}
    pg: Playground = request.app.state.playground
    found: tuple[Room, Attendee] | None = getattr(request.state, MEMBERSHIP, None)
    if found is None:
        return {}
    room, attendee = found
    if attendee.session_id != session_id:  # a lab session's id: never in a page's links
        return {}
    pair = pg.settings.request_origins(
        request.headers.get("host"), (request.scope.get("server") or ("", 0))[1]
    )
    return {
        "room_banner": {
            "title": room.title,
            "code": room.code,
            "session_id": session_id,
            "events": f"/sessions/{session_id}/events",
            "api": f"/api/rooms/attendee/{session_id}",
            "state": pg.rooms.attendee_state(room, attendee),
            # Where an attack question's attacker lives for this page (its host name).
            "attacker": origin(pair.host, pg.settings.attacker_port),
        }
    }
