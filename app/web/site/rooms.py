"""Workshop rooms on the site origin: create a room, its private host page (the host key in
its URL) and projector view (the view key), the join page (the join code) with its QR code,
the live streams of the host and the projector, and the JSON API (``/api/rooms/...``) that
the pages' scripts use, so a room can be scripted and load-tested from outside.

The rooms themselves (limits, answers, tallies, results, exports) are app/rooms; this module
finds the room by its key or the attendee by their session, builds each question's scenario
and explanation (the engine, the lessons and the fix), creates each attendee's run in their
own session, and publishes what changed (app/web/room_events.py).
"""

from __future__ import annotations

import io
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.sse import ServerSentEvent

from app.attack.view import attack_id
from app.cors import Scenario, predict
from app.cors.engines import ENGINES, compare_engines
from app.fix.sequence import prediction_line
from app.labs.registry import LABS, lab_session_id
from app.lessons import LESSONS, lesson
from app.rooms import CLASSICS, CLASSICS_BY_KEY, KINDS, QuestionSpec, Result, Room, spec_for, views
from app.rooms.export import export_csv, export_json
from app.rooms.model import Attendee, Question
from app.rooms.questions import ATTACK_KIND, LESSON_KIND, REFERENCE_ENGINE, document, for_page
from app.rooms.store import clean_text, normal_code
from app.runs.agreement import browser_from_user_agent, differences, parse_result
from app.runs.errors import BadRequest
from app.runs.origins import OriginPair, is_loopback, origin
from app.runs.share import decode_share
from app.runs.store import Session, is_valid_id
from app.runs.validation import scenario_from_json
from app.web import render, room_attacks, room_events
from app.web.config import WILDCARD_HOSTS
from app.web.deps import (
    CHOICES_LIMIT,
    PG,
    RESULT_LIMIT,
    SCENARIO_LIMIT,
    CurrentSession,
    Origins,
    Since,
    browser_profile,
    current_session,
    read_form,
    read_json,
)
from app.web.events import EventStreamResponse, Subscription, event_stream, subscription
from app.web.state import Playground

router = APIRouter()

PREVIEW_PATH = "/r/preview"
NO_ROOM = "no room has this key: it expired, was mistyped, or never existed"
NO_CODE = "no open room has this code: check it with the instructor"
NOT_IN_ROOM = "this session is in no room: join one with its code at /join"


# --- finding the room --------------------------------------------------------------------------


async def host_room(host_key: str, pg: PG) -> Room:
    """The room whose host key is in the path (404 otherwise: a view key or a join code
    opens no host route)."""
    room = await pg.rooms.by_host_key(host_key)
    if room is None:
        raise BadRequest(404, NO_ROOM, "room")
    return room


async def view_room(view_key: str, pg: PG) -> Room:
    room = await pg.rooms.by_view_key(view_key)
    if room is None:
        raise BadRequest(404, NO_ROOM, "room")
    return room


async def membership(session: CurrentSession, pg: PG) -> tuple[Room, Attendee]:
    """The room the session in the path is in, and the attendee it is there."""
    found = await pg.rooms.membership(session.id)
    if found is None or found[1].session_id != session.id or found[1].left:
        raise BadRequest(404, NOT_IN_ROOM, "session")
    return found


HostRoom = Annotated[Room, Depends(host_room)]
ViewRoom = Annotated[Room, Depends(view_room)]
Membership = Annotated[tuple[Room, Attendee], Depends(membership)]


def _question(room: Room, number: int) -> Question:
    question = room.question(number)
    if question is None:
        raise BadRequest(404, f"this room has no question {number}", "question")
    return question


def _number(value: object, field: str = "question") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit() and len(value) < 6:
            return int(value)
        raise BadRequest(422, f"{field} must be a question number", field)
    return value


def _browser(request: Request) -> tuple[str, str]:
    info = browser_from_user_agent(request.headers.get("user-agent", ""))
    return info.label, info.family


# --- where attendees reach the playground ---------------------------------------------------


def _lan_address() -> str | None:
    """This machine's address on its network, if it has one (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.254.254.254", 9))
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def join_origin(pg: Playground, origins: OriginPair) -> tuple[str, str | None]:
    """The site origin attendees open (from the ``--host`` the playground was started with),
    and a warning when attendees on other machines cannot reach it."""
    settings = pg.settings
    host = settings.host
    port = settings.site_port
    if host in WILDCARD_HOSTS:
        if not is_loopback(origins.host):
            return origins.page, None
        lan = _lan_address()
        if lan is not None:
            return origin(lan, port), None
        return origin("localhost", port), (
            "This machine has no network address right now: attendees on other machines "
            "cannot reach the playground until it joins the workshop's network."
        )
    if is_loopback(host.strip("[]")) or host == "localhost":
        return origin(settings.url_host, port), (
            f"The playground listens on {host} only: attendees on other machines cannot "
            "reach it. Restart it with --host 0.0.0.0 (every interface) or this machine's "
            f"LAN address, and let ports {settings.site_port} and {settings.api_port} "
            "through the firewall."
        )
    return origin(settings.url_host, port), None


def join_url(pg: Playground, origins: OriginPair, room: Room) -> tuple[str, str | None]:
    base, warning = join_origin(pg, origins)
    return f"{base}/join/{room.code}", warning


def qr_svg(text: str) -> bytes:
    """A QR code of ``text`` as SVG (drawn here, nothing from a CDN), black on white."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", scale=1, border=2, dark="#000", light="#fff", xmldecl=False,
        omitsize=True, title="QR code of the join link",
    )  # fmt: skip
    return out.getvalue()


# --- questions --------------------------------------------------------------------------------


def _scenario(doc: Any, origins: OriginPair) -> Scenario:
    checked = scenario_from_json(
        doc, default_origin=origins.page, default_url=origins.api + PREVIEW_PATH
    )
    if checked.scenario is None:
        first = checked.errors[0]
        raise BadRequest(422, f"scenario.{first.field}: {first.message}", f"scenario.{first.field}")
    return checked.scenario


def _share_value(text: str) -> str:
    """The ``s=`` value of a share link (the link itself, its query, or the value alone)."""
    text = text.strip()
    if "s=" in text:
        found = parse_qs(urlsplit(text).query or text.lstrip("?")).get("s")
        if found:
            return found[0]
    return text


def question_spec(
    doc: Any, origins: OriginPair, title_length: int, attacker_port: int
) -> QuestionSpec:
    """The question a host asks: its scenario (from the composer, a lesson, a classic or an
    attack), its kind, and every engine's answer, computed on the host page's origins."""
    if not isinstance(doc, dict):
        raise BadRequest(422, "the question must be a JSON object", "body")
    source = doc.get("source")
    kind = doc.get("kind") or None
    # A title of the host's own (else the lesson's, the classic's or the request's).
    title = clean_text(doc.get("title"), "title", title_length) or None
    item = None
    if source == "attack":
        if kind not in (None, ATTACK_KIND):
            raise BadRequest(
                422, "kind: an attack asks whether the attacker's page reads the secret (attack)",
                "kind",
            )  # fmt: skip
        return room_attacks.question(doc.get("attack"), title, origins, attacker_port)
    if source == "lesson":
        item = lesson(str(doc.get("lesson", "")))
        if item is None:
            raise BadRequest(422, "lesson: no such lesson (see GET /api/lessons)", "lesson")
        scenario = item.scenario(origins.page, origins.api)
        kind = kind or LESSON_KIND
        title = title or item.title
    elif source == "classic":
        classic = CLASSICS_BY_KEY.get(str(doc.get("classic", "")))
        if classic is None:
            keys = ", ".join(CLASSICS_BY_KEY)
            raise BadRequest(422, f"classic: choose one of {keys}", "classic")
        scenario = _scenario(for_page(classic.scenario, origins.page), origins)
        kind = kind or classic.kind
        title = title or classic.title
    elif source == "composer":
        if isinstance(doc.get("share"), str) and doc["share"].strip():
            raw = decode_share(_share_value(doc["share"]), page_origin=origins.page)
        elif isinstance(doc.get("scenario"), dict):
            raw = doc["scenario"]
        else:
            raise BadRequest(
                422, "share: paste the composer's share link (or give a scenario)", "share"
            )
        scenario = _scenario(raw, origins)
        kind = kind or "check"
        title = title or f"From the composer: {scenario.request.method}"
    else:
        raise BadRequest(422, "source must be composer, lesson, classic or attack", "source")
    predictions = {engine: predict(scenario, engine) for engine in ENGINES}
    why = prediction_line(predictions[REFERENCE_ENGINE])
    notes = tuple(d.sentence for d in compare_engines(scenario, REFERENCE_ENGINE))
    slug = item.slug if item is not None else None
    if kind == LESSON_KIND:
        if item is None:
            raise BadRequest(422, "kind lesson is for a lesson's own question", "kind")
        question = item.question
        return QuestionSpec(
            source="lesson",
            title=title,
            kind=LESSON_KIND,
            prompt=item.text(question.prompt, origins.page, origins.api),
            choices=tuple((c.value, c.label) for c in question.choices),
            answers={e: question.answer(predictions[e]) for e in ENGINES},
            outcomes={e: predictions[e].outcome for e in ENGINES},
            why=why,
            engine_notes=notes,
            scenario=document(scenario),
            lesson=slug,
        )
    if kind not in KINDS:
        raise BadRequest(422, f"kind must be one of {', '.join([*KINDS, LESSON_KIND])}", "kind")
    return spec_for(
        str(source), title, kind, scenario, predictions, why=why, engine_notes=notes, lesson=slug
    )


def attendee_scenario(spec: QuestionSpec, origins: OriginPair) -> Scenario:
    """The question's scenario as this attendee's page sends it (from its own origin)."""
    if spec.lesson is not None:
        item = lesson(spec.lesson)
        if item is not None:
            return item.scenario(origins.page, origins.api)
    return _scenario(for_page(spec.scenario, origins.page), origins)


def host_scenario(spec: QuestionSpec, origins: OriginPair) -> Scenario:
    return attendee_scenario(spec, origins)


# --- progress and the room console ------------------------------------------------------------


async def progress(pg: Playground, room: Room) -> dict[int, dict[str, dict[str, Any]]]:
    """Each attendee's lesson progress: answered right or wrong, and sent."""
    rows: dict[int, dict[str, dict[str, Any]]] = {}
    for attendee in room.attendees.values():
        answers = await pg.progress.answers(attendee.session_id)
        session = await pg.store.session(attendee.session_id)
        sent = set()
        if session is not None:
            sent = {run.scenario.id for run in session.runs.values()}
        rows[attendee.number] = {
            item.slug: {
                "answer": None
                if item.slug not in answers
                else ("right" if answers[item.slug].correct else "wrong"),
                "sent": item.slug in sent,
            }
            for item in LESSONS
        }
    return rows


async def room_console(pg: Playground, room: Room, attendee: int | None) -> list[dict[str, Any]]:
    """The API origin's exchanges of the room's runs, per question: legs seen, statuses
    answered, Origin values received (of one attendee, or everyone)."""
    out = []
    for question in room.questions:
        legs: dict[str, int] = {}
        statuses: dict[str, dict[str, int]] = {}
        origins: dict[str, int] = {}
        runs = 0
        for number, run_id in question.runs.items():
            if attendee is not None and number != attendee:
                continue
            run = await pg.store.run(run_id)
            if run is None:
                continue
            runs += 1
            for exchange in run.exchanges:
                legs[exchange.kind] = legs.get(exchange.kind, 0) + 1
                by_status = statuses.setdefault(exchange.kind, {})
                key = str(exchange.response.status)
                by_status[key] = by_status.get(key, 0) + 1
                value = exchange.request.header("origin") or "(no Origin header)"
                origins[value] = origins.get(value, 0) + 1
        out.append(
            {
                "question": question.number,
                "title": question.spec.title,
                "runs": runs,
                "legs": legs,
                "statuses": statuses,
                "origins": origins,
            }
        )
    return out


# --- pages -------------------------------------------------------------------------------------


@router.get("/rooms", response_class=HTMLResponse)
async def rooms_page(request: Request, pg: PG) -> HTMLResponse:
    """Workshop rooms: create one (instructor), or join one with its code (attendee)."""
    return pg.templates.TemplateResponse(
        request, "rooms/index.html", {"limits": pg.settings.room_limits}
    )


@router.post("/rooms", response_class=RedirectResponse)
async def create_room_form(request: Request, pg: PG) -> RedirectResponse:
    """Create a room from the form (a title is enough); on to its private host page."""
    form = await read_form(request, CHOICES_LIMIT)
    room = await pg.rooms.create(form.get("title"))
    return RedirectResponse(f"/rooms/host/{room.host_key}", 303)


@router.get("/rooms/host/{host_key}", response_class=HTMLResponse)
async def host_page(request: Request, room: HostRoom, origins: Origins, pg: PG) -> HTMLResponse:
    """The room's private host page: who joined, the questions, live tallies and results."""
    link, warning = join_url(pg, origins, room)
    return pg.templates.TemplateResponse(
        request,
        "rooms/host.html",
        {
            "room": room,
            "join_url": link,
            "warning": warning,
            "view_url": f"/rooms/view/{room.view_key}",
            "lessons": LESSONS,
            "classics": CLASSICS,
            "attacks": room_attacks.choices(origins, pg.settings.attacker_port),
            "attacker": room_attacks.stage(origins, pg.settings.attacker_port).attacker,
            "kinds": KINDS,
            "limits": pg.settings.room_limits,
        },
    )


async def _room_stream(
    pg: Playground, room: Room, sub: Subscription, since: int | None, *, view: bool
) -> AsyncIterator[ServerSentEvent]:
    """The host's or the projector's stream. Should the bus ever drop events for it (a page
    that fell far behind), the stream sends the room as it is instead of going on without
    them, and then only what is newer."""
    upto = pg.bus.last_id
    backlog = room_events.as_events(pg.rooms.host_backlog(room, since, upto, view=view))
    dropped = sub.dropped
    resynced = 0
    async for event in event_stream(sub, named=True, upto=upto, backlog=backlog):
        if sub.dropped != dropped:
            dropped = sub.dropped
            resynced = pg.bus.last_id
            (snapshot,) = pg.rooms.host_backlog(room, None, resynced, view=view)
            yield ServerSentEvent(raw_data=snapshot.data, event=snapshot.name, id=str(resynced))
        if resynced and event.id is not None and int(event.id) <= resynced:
            continue
        yield event


async def host_subscription(room: HostRoom, pg: PG) -> AsyncIterator[Subscription]:
    busy = "Too many open host pages for this room"
    size = pg.settings.room_limits.host_replay  # every attendee's answer, in a burst
    async with subscription(pg.bus, room_events.host_topic(room.id), busy, size) as sub:
        yield sub


async def view_subscription(room: ViewRoom, pg: PG) -> AsyncIterator[Subscription]:
    busy = "Too many open projector views for this room"
    size = pg.settings.room_limits.host_replay
    async with subscription(pg.bus, room_events.view_topic(room.id), busy, size) as sub:
        yield sub


@router.get("/rooms/host/{host_key}/events", response_class=EventStreamResponse)
async def host_events(
    sub: Annotated[Subscription, Depends(host_subscription)], room: HostRoom, since: Since,
    pg: PG,
) -> EventStreamResponse:
    """The room's changes for its host page (server-sent events, JSON).

    A new stream first gets a ``snapshot``; with ``since`` (or Last-Event-ID) the events after
    it, from a bounded buffer (a snapshot when they are no longer all there)."""
    return EventStreamResponse(_room_stream(pg, room, sub, since, view=False))


@router.get("/rooms/host/{host_key}/questions/{number}/explanation", response_class=HTMLResponse)
async def explanation(
    request: Request, room: HostRoom, number: int, origins: Origins, pg: PG
) -> HTMLResponse:
    """A question's explanation and fix, as the playground gives them (HTML fragment)."""
    question = _question(room, number)
    if question.spec.attack is not None:
        context = room_attacks.explanation(question.spec, origins, pg.settings.attacker_port)
        return pg.templates.TemplateResponse(
            request,
            "rooms/attack_explanation.html",
            {"question": question, "rich": render.rich, **context},
        )
    scenario = host_scenario(question.spec, origins)
    prediction = predict(scenario, REFERENCE_ENGINE)
    return pg.templates.TemplateResponse(
        request,
        "rooms/explanation.html",
        {"question": question, **render.prediction_context(scenario, prediction)},
    )


@router.get("/rooms/view/{view_key}", response_class=HTMLResponse)
async def view_page(request: Request, room: ViewRoom, origins: Origins, pg: PG) -> HTMLResponse:
    """The room on a projector: the join code, the question, the tallies; no names, no key."""
    link, _ = join_url(pg, origins, room)
    attacker = room_attacks.stage(origins, pg.settings.attacker_port).attacker
    return pg.templates.TemplateResponse(
        request, "rooms/view.html", {"room": room, "join_url": link, "attacker": attacker}
    )


@router.get("/rooms/view/{view_key}/events", response_class=EventStreamResponse)
async def view_events(
    sub: Annotated[Subscription, Depends(view_subscription)], room: ViewRoom, since: Since,
    pg: PG,
) -> EventStreamResponse:
    """The projector's stream: counts, tallies once revealed, results by engine (JSON)."""
    return EventStreamResponse(_room_stream(pg, room, sub, since, view=True))


@router.get("/join", response_class=HTMLResponse)
async def join_page(request: Request, pg: PG) -> HTMLResponse:
    """Join a room: its code and, if you like, your name."""
    return _join_form(request, pg, code="", room=None)


@router.get("/join/{code}", response_class=HTMLResponse)
async def join_code_page(request: Request, code: str, pg: PG) -> HTMLResponse:
    """The join link of a room (its QR code points here): your name, and in."""
    room = await pg.rooms.by_code(code)
    if room is None or room.state != "open":
        return _join_form(request, pg, code=code[:20], room=None, error=NO_CODE, status=404)
    return _join_form(request, pg, code=room.code, room=room)


@router.get("/join/{code}/qr.svg")
async def join_qr(code: str, origins: Origins, pg: PG) -> Response:
    """The QR code of a room's join link (SVG, drawn by the playground)."""
    room = await pg.rooms.by_code(code)
    if room is None:
        raise BadRequest(404, NO_CODE, "code")
    link, _ = join_url(pg, origins, room)
    return Response(qr_svg(link), media_type="image/svg+xml")


@router.get("/sessions/{session_id}/join", response_class=HTMLResponse)
async def join_from_session(request: Request, session: CurrentSession, pg: PG) -> HTMLResponse:
    """Join a room with this session (its runs and lessons stay)."""
    return _join_form(request, pg, code="", room=None, session=session)


def _join_form(
    request: Request,
    pg: PG,
    *,
    code: str,
    room: Room | None,
    session: Session | None = None,
    error: str | None = None,
    name: str = "",
    status: int = 200,
) -> HTMLResponse:
    return pg.templates.TemplateResponse(
        request,
        "rooms/join.html",
        {
            "code": code,
            "room": room,
            "error": error,
            "name": name,
            "session": session.id if session else None,
            "limits": pg.settings.room_limits,
        },
        status_code=status,
    )


async def _join(
    request: Request, pg: Playground, code: object, name: object, session_id: object
) -> tuple[Session, Room, Attendee]:
    if not isinstance(code, str) or not code.strip():
        raise BadRequest(422, "code: type the room's code", "code")
    room = await pg.rooms.by_code(code)
    if room is None:
        raise BadRequest(404, NO_CODE, "code")
    session = None
    if session_id is not None and session_id != "":
        if not isinstance(session_id, str) or not is_valid_id(session_id):
            raise BadRequest(422, "session: not a valid session id", "session")
        session = await pg.store.session(session_id)
        if session is None:
            raise BadRequest(404, "session: this session expired or never existed", "session")
    if session is None:
        session = await pg.store.new_session()
    browser, engine = _browser(request)
    attendee = await pg.rooms.join(
        room,
        session.id,
        name,
        browser=browser,
        engine=engine,
        # The labs' sessions and the attack lab's: their pages' streams carry the room too.
        stream_ids=[*(lab_session_id(session.id, lab) for lab in LABS), attack_id(session.id)],
    )
    await pg.store.mark_used(session)  # an attendee's session is never one of the unused ones
    room_events.publish(pg)
    return session, room, attendee


@router.post("/join", response_class=HTMLResponse)
async def join_form(request: Request, pg: PG) -> Response:
    """Join from the form: a new session (or the form's), then the playground with the
    room's banner."""
    form = await read_form(request, CHOICES_LIMIT)
    code, name = form.get("code"), form.get("name")
    try:
        session, _, _ = await _join(request, pg, code, name, form.get("session") or None)
    except BadRequest as refused:
        room = await pg.rooms.by_code(code) if code else None
        return _join_form(
            request, pg, code=normal_code(code)[:20], room=room, error=refused.message,
            name=name[:200], status=refused.status,
        )  # fmt: skip
    return RedirectResponse(f"/sessions/{session.id}", 303)


# --- JSON API: the host ------------------------------------------------------------------------


def _room_links(pg: Playground, origins: OriginPair, room: Room) -> dict[str, Any]:
    link, warning = join_url(pg, origins, room)
    return {
        "title": room.title,
        "code": room.code,
        "state": room.state,
        "host_key": room.host_key,
        "host_page": f"/rooms/host/{room.host_key}",
        "host_events": f"/rooms/host/{room.host_key}/events",
        "host_api": f"/api/rooms/host/{room.host_key}",
        "view_page": f"/rooms/view/{room.view_key}",
        "join_url": link,
        "join_warning": warning,
        "qr": f"/join/{room.code}/qr.svg",
    }


@router.post("/api/rooms", response_class=JSONResponse)
async def api_create_room(request: Request, origins: Origins, pg: PG) -> JSONResponse:
    """Create a room (``{"title": ...}``): its host key, join code, join URL and pages."""
    doc = await read_json(request, CHOICES_LIMIT)
    if not isinstance(doc, dict):
        raise BadRequest(422, "the body must be a JSON object", "body")
    room = await pg.rooms.create(doc.get("title"))
    return JSONResponse(_room_links(pg, origins, room), status_code=201)


@router.get("/api/rooms/host/{host_key}", response_class=JSONResponse)
async def api_room(room: HostRoom, origins: Origins, pg: PG) -> JSONResponse:
    """The room as its host sees it: attendees, questions, tallies, results (host key)."""
    return JSONResponse({**_room_links(pg, origins, room), **views.host_snapshot(room)})


@router.post("/api/rooms/host/{host_key}/questions", response_class=JSONResponse)
async def api_ask(request: Request, room: HostRoom, origins: Origins, pg: PG) -> JSONResponse:
    """Ask the room: a scenario (``source``: composer share link, lesson or classic) and a
    predict-first question (``kind``); every attendee's banner shows it (host key)."""
    doc = await read_json(request, SCENARIO_LIMIT)
    limits = pg.settings.room_limits
    spec = question_spec(doc, origins, limits.title_length, pg.settings.attacker_port)
    question = await pg.rooms.ask(room, spec)
    room_events.publish(pg)
    return JSONResponse(views.question_host(room, question), status_code=201)


@router.post("/api/rooms/host/{host_key}/questions/{number}/reveal", response_class=JSONResponse)
async def api_reveal(room: HostRoom, number: int, pg: PG) -> JSONResponse:
    """Reveal the answer and tallies; every attendee's browser then sends the scenario (host
    key)."""
    question = await pg.rooms.reveal(room, _question(room, number))
    room_events.publish(pg)
    return JSONResponse(views.question_host(room, question))


@router.post("/api/rooms/host/{host_key}/close", response_class=JSONResponse)
async def api_close(room: HostRoom, pg: PG) -> JSONResponse:
    """Close the room: attendees see it closed, their sessions keep working (host key)."""
    await pg.rooms.close(room)
    room_events.publish(pg)
    return JSONResponse({"state": room.state})


@router.get("/api/rooms/host/{host_key}/results", response_class=JSONResponse)
async def api_results(room: HostRoom, pg: PG) -> JSONResponse:
    """Export the room's results as JSON: questions, answers, what each browser did,
    progress (host key)."""
    doc = export_json(room, await progress(pg, room), [item.slug for item in LESSONS])
    filename = f"room-{room.code}.json"
    return JSONResponse(doc, headers={"content-disposition": f'inline; filename="{filename}"'})


@router.get("/api/rooms/host/{host_key}/results.csv")
async def api_results_csv(room: HostRoom, pg: PG) -> Response:
    """The same as CSV: one row per attendee and question (host key)."""
    return Response(
        export_csv(room, await progress(pg, room)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="room-{room.code}.csv"'},
    )


@router.get("/api/rooms/host/{host_key}/progress", response_class=JSONResponse)
async def api_progress(room: HostRoom, pg: PG) -> JSONResponse:
    """Lesson progress, attendee by lesson: answered right or wrong, sent (host key)."""
    rows = await progress(pg, room)
    return JSONResponse(
        {
            "lessons": [
                {"slug": item.slug, "number": i + 1, "title": item.title}
                for i, item in enumerate(LESSONS)
            ],
            "attendees": [
                {
                    "number": a.number,
                    "name": a.name,
                    "cells": [rows[a.number][item.slug] for item in LESSONS],
                }
                for a in room.attendees.values()
                if not a.left
            ],
        }
    )


@router.get("/api/rooms/host/{host_key}/console", response_class=JSONResponse)
async def api_console(room: HostRoom, pg: PG, attendee: int | None = None) -> JSONResponse:
    """The room console: the API origin's exchanges of the room's runs, aggregated per
    question, of everyone or one attendee (``?attendee=``) (host key)."""
    if attendee is not None and attendee not in room.attendees:
        raise BadRequest(404, f"this room has no attendee {attendee}", "attendee")
    return JSONResponse({"attendee": attendee, "questions": await room_console(pg, room, attendee)})


# --- JSON API: attendees -----------------------------------------------------------------------


@router.post("/api/rooms/join", response_class=JSONResponse)
async def api_join(request: Request, pg: PG) -> JSONResponse:
    """Join a room (``{"code", "name", "session"}``): a new session unless ``session`` names
    a live one; the session's page then shows the room's banner."""
    doc = await read_json(request, CHOICES_LIMIT)
    if not isinstance(doc, dict):
        raise BadRequest(422, "the body must be a JSON object", "body")
    session, room, attendee = await _join(
        request, pg, doc.get("code"), doc.get("name"), doc.get("session")
    )
    return JSONResponse(
        {
            "session": session.id,
            "attendee": attendee.number,
            "name": attendee.name,
            "room": room.title,
            "page": f"/sessions/{session.id}",
            "events": f"/sessions/{session.id}/events",
            "api": f"/api/rooms/attendee/{session.id}",
        },
        status_code=201,
    )


@router.get("/api/rooms/attendee/{session_id}", response_class=JSONResponse)
async def api_attendee(member: Membership, pg: PG) -> JSONResponse:
    """The room as this attendee sees it: the question, their answer, tallies once revealed."""
    room, attendee = member
    return JSONResponse(json.loads(pg.rooms.attendee_state(room, attendee)))


#: The answer route, which a whole room may call at the same instant: the composition root
#: sends it to ``answer`` straight, without the framework's routing and dependencies.
ANSWER_PATH = re.compile(r"/api/rooms/attendee/(?P<session_id>[^/]+)/answer")


async def answer(request: Request, pg: Playground, session_id: str) -> Response:
    """Answer the current question: the route's whole work, with the checks, limits and
    refusals of its dependencies in their order (the session, the room, then the body)."""
    room, attendee = await membership(await current_session(request, session_id, pg), pg)
    doc = await read_json(request, CHOICES_LIMIT)
    if not isinstance(doc, dict):
        raise BadRequest(422, "the body must be a JSON object", "body")
    question = _question(room, _number(doc.get("question")))
    await pg.rooms.saw_browser(room, attendee, *_browser(request))
    await pg.rooms.answer(room, attendee, question, doc.get("choice"))
    room_events.publish(pg)
    # The room as this attendee sees it, already JSON (as their room events carry it).
    state = pg.rooms.attendee_state(room, attendee)
    return Response(state.encode(), media_type="application/json")


@router.post("/api/rooms/attendee/{session_id}/answer", response_class=JSONResponse)
async def api_answer(request: Request, session_id: str, pg: PG) -> Response:
    """Answer the current question (``{"question", "choice"}``), before the reveal."""
    return await answer(request, pg, session_id)


@router.post("/api/rooms/attendee/{session_id}/send", response_class=JSONResponse)
async def api_send(
    request: Request, member: Membership, session: CurrentSession, origins: Origins, pg: PG
) -> JSONResponse:
    """After the reveal: a run of the question's scenario in this session, for the page's
    fetch() (as ``POST /sessions/{id}/runs`` answers); once per attendee and question."""
    room, attendee = member
    doc = await read_json(request, CHOICES_LIMIT)
    if not isinstance(doc, dict):
        raise BadRequest(422, "the body must be a JSON object", "body")
    question = _question(room, _number(doc.get("question")))
    pg.rooms.can_send(room, attendee, question)
    if question.spec.attack is not None:
        return await _send_attack(request, room, attendee, question, session, origins, pg)
    scenario = attendee_scenario(question.spec, origins)
    notes = (f"Room “{room.title}”, question {question.number}: {question.spec.title}",)
    run = await pg.store.start_run(session, scenario, origins.api, browser_profile(request), notes)
    await pg.rooms.saw_browser(room, attendee, *_browser(request))
    await pg.rooms.sent(room, attendee, question, run.id)
    room_events.publish(pg)
    return JSONResponse(
        {
            "run_id": run.id,
            "target": run.target,
            "init": run.fetch_init,
            "card": render.card_html(pg.templates, run, own=True),
            "result": f"/api/rooms/attendee/{session.id}/results/{run.id}",
            "question": question.number,
        },
        status_code=201,
    )


async def _send_attack(
    request: Request,
    room: Room,
    attendee: Attendee,
    question: Question,
    session: Session,
    origins: OriginPair,
    pg: Playground,
) -> JSONResponse:
    """An attack question's send: the round this browser runs from the attacker's page (the
    page opens ``attack.frame``: the victim API's login, then the attacker's page); the
    attacker's report brings the result to the room."""
    run_id, attack = await room_attacks.prepare(
        pg, session, origins, room, question, browser_profile(request)
    )
    await pg.rooms.saw_browser(room, attendee, *_browser(request))
    await pg.rooms.sent(room, attendee, question, run_id)
    room_events.publish(pg)
    return JSONResponse(
        {"run_id": run_id, "attack": attack, "question": question.number}, status_code=201
    )


@router.post("/api/rooms/attendee/{session_id}/results/{run_id}", response_class=JSONResponse)
async def api_result(
    request: Request, member: Membership, session: CurrentSession, run_id: str, pg: PG
) -> JSONResponse:
    """What the page's JavaScript got from the question's fetch(), as
    ``POST /sessions/{id}/runs/{run}/result`` takes it; the host sees it grouped by engine."""
    room, attendee = member
    run = session.runs.get(run_id)
    question = pg.rooms.question_of_run(room, attendee, run_id)
    if run is None or question is None:
        raise BadRequest(404, "no such run of this room in this session", "run")
    if run.browser_result is not None:
        raise BadRequest(409, "this run already has its result", "run")
    doc = await read_json(request, RESULT_LIMIT)
    user_agent = request.headers.get("user-agent", "")
    result = parse_result(doc, run, user_agent)
    if run.browser_result is not None:
        raise BadRequest(409, "this run already has its result", "run")
    diffs = differences(run.prediction, run.exchanges, result)
    await pg.store.finish(run, result, diffs, published=pg.bus.next_id())
    pg.publish_run(run)
    browser, engine = _browser(request)
    await pg.rooms.saw_browser(room, attendee, browser, engine)
    await pg.rooms.record_result(
        room,
        attendee,
        question,
        Result(
            run_id=run.id,
            browser=result.browser,
            engine=engine,
            outcome=result.outcome,
            predicted=run.prediction.outcome,
            agreement=bool(run.agreement),
            differences=run.differences,
            at=time.time(),
        ),
    )
    room_events.publish(pg)
    return JSONResponse(
        {
            "card": render.card_html(pg.templates, run, own=True),
            "agreement": run.agreement,
            "differences": list(run.differences),
        }
    )


@router.post("/api/rooms/attendee/{session_id}/leave", response_class=JSONResponse)
async def api_leave(member: Membership, pg: PG) -> JSONResponse:
    """Leave the room: the banner goes; the session and its runs stay."""
    room, attendee = member
    await pg.rooms.leave(room, attendee)
    room_events.publish(pg)
    return JSONResponse({"left": True})
