"""Rooms in memory, bounded (``RoomLimits``) and expiring, behind a small interface.

A room has three keys: the host key (the private host page and every host action), the view
key (the projector: counts and tallies, no names) and a short join code (joining, nothing
else). An attendee is a playground session in the room; the session id is their credential,
as everywhere in the playground.

Every change that someone watches is an event: the store stamps it with an id from ``ids``
(the event bus's, so a room's events and a session's run cards share one order), keeps it in
the room's bounded log for streams that resume, and queues it in ``outbox`` for the web layer
to publish (``drain()``). Nothing here knows about HTTP or the bus.
"""

from __future__ import annotations

import json
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from app.rooms import views
from app.rooms.limits import RoomLimits
from app.rooms.log import EventLog, RoomEvent
from app.rooms.model import Answer, Attendee, Question, Result, Room
from app.runs.errors import BadRequest
from app.runs.store import new_id

Audience = Literal["host", "view", "attendees", "attendee"]

# Join codes: six characters nobody misreads on a projector (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


@dataclass(frozen=True)
class Outgoing:
    """An event for one audience of one room (``attendee``: the one in ``attendee``)."""

    room: Room
    audience: Audience
    event: RoomEvent
    attendee: Attendee | None = None


def _json(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def clean_text(value: object, field: str, limit: int) -> str:
    """A display text (a name or a title): one line, spaces collapsed, at most ``limit``
    characters, no control or format characters; refused with a reason otherwise."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(422, f"{field} must be a string", field)
    text = " ".join(value.split())
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")), None)
    if bad is not None:
        raise BadRequest(
            422, f"{field} holds a control or invisible character (U+{ord(bad):04X})", field
        )
    if len(text) > limit:
        raise BadRequest(422, f"{field} is {len(text)} characters long; at most {limit}", field)
    return text


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(code: str) -> str:
    """A typed join code as stored: upper case, without spaces or dashes."""
    return code.strip().upper().replace(" ", "").replace("-", "")


def too_many_rooms(limits: RoomLimits) -> BadRequest:
    """The refusal of a room past the number of rooms."""
    return BadRequest(
        429,
        f"the playground already holds {limits.rooms} rooms, its limit: close a room you no "
        "longer need, or wait until an idle one is forgotten "
        f"({limits.idle_expiry / 3600:g} hours after its last use)",
        "room",
    )


class RoomStore:
    """Rooms by key and code, and which room each session is in."""

    def __init__(
        self,
        limits: RoomLimits | None = None,
        *,
        ids: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or RoomLimits()
        self.ids = ids
        self.clock = clock
        self._rooms: dict[str, Room] = {}  # by id
        self._by_host: dict[str, Room] = {}
        self._by_view: dict[str, Room] = {}
        self._by_code: dict[str, Room] = {}
        self._by_stream: dict[str, tuple[Room, Attendee]] = {}  # session id -> membership
        self.outbox: list[Outgoing] = []

    def __len__(self) -> int:
        self.expire()
        return len(self._rooms)

    # --- finding rooms --------------------------------------------------------------------------

    def by_host_key(self, key: str) -> Room | None:
        return self._live(self._by_host.get(key))

    def by_view_key(self, key: str) -> Room | None:
        return self._live(self._by_view.get(key))

    def by_code(self, code: str) -> Room | None:
        return self._live(self._by_code.get(normal_code(code)))

    def membership(self, session_id: str) -> tuple[Room, Attendee] | None:
        """The room a session is in (its own id, or the id of a lab session of its own)."""
        found = self._by_stream.get(session_id)
        if found is None or self._live(found[0]) is None:
            return None
        return found

    def _live(self, room: Room | None) -> Room | None:
        if room is None:
            return None
        self.expire()
        return room if room.id in self._rooms else None

    # --- the host -------------------------------------------------------------------------------

    def create(self, title: object) -> Room:
        """A new open room; refused past the number of rooms."""
        clean = clean_text(title, "title", self.limits.title_length) or "Workshop"
        self.expire()
        if len(self._rooms) >= self.limits.rooms:
            raise too_many_rooms(self.limits)
        code = new_code()
        while code in self._by_code:
            code = new_code()
        now = self.clock()
        size = self.limits.host_replay
        room = Room(
            id=new_id(),
            host_key=new_id(),
            view_key=new_id(),
            code=code,
            title=clean,
            created=now,
            touched=now,
            host_log=EventLog(size),
            view_log=EventLog(size),
            attendee_log=EventLog(self.limits.attendee_replay),
        )
        self._rooms[room.id] = room
        self._by_host[room.host_key] = room
        self._by_view[room.view_key] = room
        self._by_code[room.code] = room
        return room

    def ask(self, room: Room, spec: Any) -> Question:
        """Push a question to the room; the one asked before it closes unanswered if it was not
        revealed. Refused in a closed room and past the number of questions."""
        self._open(room)
        if len(room.questions) >= self.limits.questions:
            raise BadRequest(
                409,
                f"this room has asked {self.limits.questions} questions, its limit: start a "
                "new room for more",
                "question",
            )
        before = room.current
        if before is not None and before.state == "asking":
            before.state = "closed"
            self._emit(room, "host", "question", views.question_host(room, before))
        question = Question(len(room.questions) + 1, spec, asked=self.clock())
        room.questions.append(question)
        self._question_changed(room, question)
        return question

    def reveal(self, room: Room, question: Question) -> Question:
        """Show the answer, the tallies and the explanation; every attendee's page then sends
        the scenario from their browser."""
        self._open(room)
        if question is not room.current:
            raise BadRequest(409, "only the room's current question can be revealed", "question")
        if question.state == "revealed":
            return question
        question.state = "revealed"
        question.revealed = self.clock()
        self._question_changed(room, question)
        return question

    def close(self, room: Room) -> None:
        """Close the room: no more joins, answers or sends; attendees are told, and their own
        sessions keep working. The host page and the exports stay until the room expires."""
        if room.state == "closed":
            return
        self._touch(room)
        room.state = "closed"
        meta = views.room_meta(room)
        self._emit(room, "host", "room", meta)
        self._emit(room, "view", "room", meta)
        self._emit(room, "attendees", "room", views.attendee_snapshot(room, None))

    # --- attendees -----------------------------------------------------------------------------

    def join(
        self,
        room: Room,
        session_id: str,
        name: object,
        *,
        browser: str = "",
        engine: str = "unknown",
        stream_ids: Iterable[str] = (),
    ) -> Attendee:
        """Add the session to the room (again the same attendee if it is in already). A
        session leaves a closed room it was in; it cannot be in two open rooms."""
        self._open(room, "this room is closed: ask the instructor for the code of an open one")
        clean = clean_text(name, "name", self.limits.name_length)
        found = self.membership(session_id)
        if found is not None:
            other, attendee = found
            if other is room and not attendee.left:
                self._touch(room)
                return attendee
            if other is not room and other.state == "open" and not attendee.left:
                raise BadRequest(
                    409,
                    f"this session is already in the room “{other.title}”: leave it first",
                    "session",
                )
            self._forget_streams(attendee)
        if len(room.attendees) >= self.limits.attendees:
            raise BadRequest(
                409, f"this room is full: it holds at most {self.limits.attendees} attendees",
                "room",
            )
        self._touch(room)
        number = len(room.attendees) + 1
        attendee = Attendee(
            number=number,
            session_id=session_id,
            name=clean or f"Attendee {number}",
            joined=self.clock(),
            browser=browser,
            engine=engine,
            stream_ids=tuple(dict.fromkeys((session_id, *stream_ids))),
        )
        room.attendees[number] = attendee
        for stream in attendee.stream_ids:
            self._by_stream[stream] = (room, attendee)
        self._attendee_changed(room, attendee)
        return attendee

    def leave(self, room: Room, attendee: Attendee) -> None:
        """The attendee leaves: their page loses the banner; the room keeps their answers."""
        self._touch(room)
        if not attendee.left:
            room.gone += 1
            room.online -= 1 if attendee.connected else 0
        attendee.left = True
        self._forget_streams(attendee)
        self._emit(room, "host", "attendee", views.attendee_row(room, attendee))
        self._emit(room, "view", "room", views.room_meta(room))
        self._personal(room, attendee)

    def saw_browser(self, room: Room, attendee: Attendee, browser: str, engine: str) -> None:
        """The attendee's page reported its browser (on each answer, send and result)."""
        if browser and (browser, engine) != (attendee.browser, attendee.engine):
            attendee.browser, attendee.engine = browser, engine
            self._emit(room, "host", "attendee", views.attendee_row(room, attendee))

    def answer(self, room: Room, attendee: Attendee, question: Question, choice: object) -> Answer:
        """Keep the attendee's first answer to the current question, before it is revealed."""
        self._open(room)
        if question is not room.current or question.state != "asking":
            raise BadRequest(409, "answers to this question are closed", "question")
        valid = [value for value, _ in question.spec.choices]
        if not isinstance(choice, str) or choice not in valid:
            raise BadRequest(422, f"choice must be one of {', '.join(valid)}", "choice")
        existing = question.answers.get(attendee.number)
        if existing is not None:
            raise BadRequest(
                409, f"you already answered “{question.spec.label(existing.choice)}”", "choice"
            )
        self._touch(room)
        kept = Answer(choice, choice == question.spec.answer_for(attendee.profile), self.clock())
        question.answers[attendee.number] = kept
        self._emit(
            room,
            "host",
            "answer",
            {
                "question": question.number,
                "attendee": attendee.number,
                "choice": choice,
                "correct": kept.correct,
                "tally": views.tally(room, question),
            },
        )
        self._emit(room, "view", "tally", views.tally(room, question, split=False))
        self._personal(room, attendee)
        return kept

    def can_send(self, room: Room, attendee: Attendee, question: Question) -> None:
        """Refused unless the attendee's browser may send this question's scenario now: after
        the reveal, once per attendee."""
        self._open(room)
        if question.state != "revealed":
            raise BadRequest(409, "this question is not revealed yet: answer it first", "question")
        if attendee.number in question.runs:
            raise BadRequest(409, "your browser already sent this question's scenario", "question")

    def sent(self, room: Room, attendee: Attendee, question: Question, run_id: str) -> None:
        self.can_send(room, attendee, question)
        self._touch(room)
        question.runs[attendee.number] = run_id
        self._emit(room, "host", "attendee", views.attendee_row(room, attendee))
        self._personal(room, attendee)

    def question_of_run(self, room: Room, attendee: Attendee, run_id: str) -> Question | None:
        return next((q for q in room.questions if q.runs.get(attendee.number) == run_id), None)

    def record_result(
        self, room: Room, attendee: Attendee, question: Question, result: Result
    ) -> None:
        """What the attendee's browser did with the question's scenario (the first report)."""
        if attendee.number in question.results:
            raise BadRequest(409, "this run already has its result", "run")
        self._touch(room)
        question.results[attendee.number] = result
        groups = views.result_groups(question)
        found = views.findings(question)
        by_engine = {"attack_groups": views.attack_groups(question)} if question.spec.attack else {}
        self._emit(
            room,
            "host",
            "result",
            {
                "question": question.number,
                "attendee": attendee.number,
                "result": views.result_json(result),
                "groups": groups,
                "findings": found,
                "sent": len(question.runs),
                "results": len(question.results),
                **by_engine,
            },
        )
        self._emit(
            room,
            "view",
            "results",
            {"question": question.number, "groups": groups, "findings": found, **by_engine},
        )
        self._personal(room, attendee)

    def progress(self, room: Room, attendee: Attendee, lesson: str, cell: dict[str, Any]) -> None:
        """The attendee answered or sent a lesson: the host's progress grid shows the cell
        (``{"answer": "right" | "wrong" | None, "sent": bool}``) as it is now."""
        if attendee.left:
            return
        self._emit(
            room, "host", "progress", {"attendee": attendee.number, "lesson": lesson, **cell}
        )

    # --- live streams --------------------------------------------------------------------------

    def stream_opened(self, session_id: str) -> None:
        """One of the session's pages opened its event stream."""
        self._presence(session_id, +1)

    def stream_closed(self, session_id: str) -> None:
        self._presence(session_id, -1)

    def _presence(self, session_id: str, change: int) -> None:
        found = self.membership(session_id)
        if found is None:
            return
        room, attendee = found
        was = attendee.connected
        attendee.streams = max(0, attendee.streams + change)
        if attendee.connected != was and not attendee.left:
            room.online += 1 if attendee.connected else -1
            self._emit(room, "host", "attendee", views.attendee_row(room, attendee))
            self._emit(room, "view", "room", views.room_meta(room))

    def attendee_backlog(self, session_id: str, since: int | None, upto: int) -> list[RoomEvent]:
        """What a session's stream needs first: nothing if the session is in no room; on a new
        stream, the room as this attendee sees it; on a stream that resumes, the room events it
        missed (or that snapshot when the buffer no longer has them all) and their own latest
        part if it changed."""
        found = self.membership(session_id)
        if found is None:
            return []
        room, attendee = found
        snapshot = RoomEvent("room", _json(views.attendee_snapshot(room, attendee)), upto)
        if since is None:
            return [snapshot]
        missed = room.attendee_log.since(since)
        if missed is None:
            return [snapshot]
        if attendee.changed > since:
            personal = RoomEvent("room", _json(views.attendee_snapshot(room, attendee)), upto)
            return [*missed, personal]
        return missed

    def attendee_state(self, room: Room, attendee: Attendee) -> str:
        """The room as this attendee sees it now (JSON text, as their room events carry it)."""
        return _json(views.attendee_snapshot(room, attendee))

    def host_backlog(
        self, room: Room, since: int | None, upto: int, *, view: bool
    ) -> list[RoomEvent]:
        """What the host's (or, with ``view``, the projector's) stream needs first: a snapshot
        on a new stream, else the events it missed, or a snapshot if some left the buffer."""
        log = room.view_log if view else room.host_log
        missed = None if since is None else log.since(since)
        if missed is not None:
            return missed
        doc = views.view_snapshot(room) if view else views.host_snapshot(room)
        return [RoomEvent("snapshot", _json(doc), upto)]

    # --- upkeep ------------------------------------------------------------------------------

    def drain(self) -> list[Outgoing]:
        """The events queued since the last drain, oldest first (the web layer publishes them)."""
        out, self.outbox = self.outbox, []
        return out

    def expire(self) -> None:
        """Forget every room idle for longer than the idle expiry."""
        now = self.clock()
        for room in [r for r in self._rooms.values() if now - r.touched > self.limits.idle_expiry]:
            self._forget(room)

    def _forget(self, room: Room) -> None:
        self._rooms.pop(room.id, None)
        self._by_host.pop(room.host_key, None)
        self._by_view.pop(room.view_key, None)
        if self._by_code.get(room.code) is room:
            del self._by_code[room.code]
        for attendee in room.attendees.values():
            self._forget_streams(attendee)

    def _forget_streams(self, attendee: Attendee) -> None:
        for stream in attendee.stream_ids:
            found = self._by_stream.get(stream)
            if found is not None and found[1] is attendee:
                del self._by_stream[stream]

    def _open(self, room: Room, message: str = "this room is closed") -> None:
        if room.state != "open":
            raise BadRequest(409, message, "room")

    def _touch(self, room: Room) -> None:
        room.touched = self.clock()

    def _question_changed(self, room: Room, question: Question) -> None:
        self._touch(room)
        self._emit(room, "host", "question", views.question_host(room, question))
        self._emit(room, "view", "question", views.question_view(room, question))
        self._emit(room, "attendees", "room", views.attendee_snapshot(room, None))

    def _attendee_changed(self, room: Room, attendee: Attendee) -> None:
        self._emit(room, "host", "attendee", views.attendee_row(room, attendee))
        self._emit(room, "view", "room", views.room_meta(room))
        self._personal(room, attendee)

    def _personal(self, room: Room, attendee: Attendee) -> None:
        """Tell the attendee's pages what changed for them (their part only: the room and its
        question reach them in broadcasts, and in full when a stream opens)."""
        doc = {"you": views.personal(room, attendee)}
        event = self._emit(room, "attendee", "room", doc, attendee)
        attendee.changed = event.id

    def _emit(
        self,
        room: Room,
        audience: Audience,
        name: str,
        doc: Any,
        attendee: Attendee | None = None,
    ) -> RoomEvent:
        event = RoomEvent(name, _json(doc), self.ids())
        log = {"host": room.host_log, "view": room.view_log, "attendees": room.attendee_log}
        if audience in log:
            log[audience].append(event)
        self.outbox.append(Outgoing(room, audience, event, attendee))
        return event


class RoomBook(Protocol):
    """Rooms as the web layer sees them: what reads or changes the rooms is awaited, so a
    store shared by several processes stands in for the in-memory one. The objects handed
    out are the room as it was read; a change made through the book updates the room,
    attendee and question passed in. Checks and views of a room object stay plain calls."""

    async def by_host_key(self, key: str) -> Room | None: ...
    async def by_view_key(self, key: str) -> Room | None: ...
    async def by_code(self, code: str) -> Room | None: ...
    async def membership(self, session_id: str) -> tuple[Room, Attendee] | None: ...
    async def create(self, title: object) -> Room: ...
    async def ask(self, room: Room, spec: Any) -> Question: ...
    async def reveal(self, room: Room, question: Question) -> Question: ...
    async def close(self, room: Room) -> None: ...

    async def join(
        self,
        room: Room,
        session_id: str,
        name: object,
        *,
        browser: str = "",
        engine: str = "unknown",
        stream_ids: Iterable[str] = (),
    ) -> Attendee: ...

    async def leave(self, room: Room, attendee: Attendee) -> None: ...
    async def saw_browser(
        self, room: Room, attendee: Attendee, browser: str, engine: str
    ) -> None: ...
    async def answer(
        self, room: Room, attendee: Attendee, question: Question, choice: object
    ) -> Answer: ...
    async def sent(
        self, room: Room, attendee: Attendee, question: Question, run_id: str
    ) -> None: ...
    async def record_result(
        self, room: Room, attendee: Attendee, question: Question, result: Result
    ) -> None: ...
    async def progress(
        self, room: Room, attendee: Attendee, lesson: str, cell: dict[str, Any]
    ) -> None: ...
    async def stream_opened(self, session_id: str) -> None: ...
    async def stream_closed(self, session_id: str) -> None: ...
    async def attendee_backlog(
        self, session_id: str, since: int | None, upto: int
    ) -> list[RoomEvent]: ...
    async def count(self) -> int: ...

    def can_send(self, room: Room, attendee: Attendee, question: Question) -> None: ...
    def question_of_run(self, room: Room, attendee: Attendee, run_id: str) -> Question | None: ...
    def attendee_state(self, room: Room, attendee: Attendee) -> str: ...
    def host_backlog(
        self, room: Room, since: int | None, upto: int, *, view: bool
    ) -> list[RoomEvent]: ...
    def drain(self) -> list[Outgoing]: ...


class MemoryRooms:
    """The embedded default: one process's :class:`RoomStore`."""

    def __init__(self, memory: RoomStore) -> None:
        self.memory = memory
        m = memory
        # What needs no awaiting is the store's own.
        self.can_send = m.can_send
        self.question_of_run = m.question_of_run
        self.attendee_state = m.attendee_state
        self.host_backlog = m.host_backlog
        self.drain = m.drain

    async def by_host_key(self, key: str) -> Room | None:
        return self.memory.by_host_key(key)

    async def by_view_key(self, key: str) -> Room | None:
        return self.memory.by_view_key(key)

    async def by_code(self, code: str) -> Room | None:
        return self.memory.by_code(code)

    async def membership(self, session_id: str) -> tuple[Room, Attendee] | None:
        return self.memory.membership(session_id)

    async def create(self, title: object) -> Room:
        return self.memory.create(title)

    async def ask(self, room: Room, spec: Any) -> Question:
        return self.memory.ask(room, spec)

    async def reveal(self, room: Room, question: Question) -> Question:
        return self.memory.reveal(room, question)

    async def close(self, room: Room) -> None:
        self.memory.close(room)

    async def join(
        self,
        room: Room,
        session_id: str,
        name: object,
        *,
        browser: str = "",
        engine: str = "unknown",
        stream_ids: Iterable[str] = (),
    ) -> Attendee:
        return self.memory.join(
            room, session_id, name, browser=browser, engine=engine, stream_ids=stream_ids
        )

    async def leave(self, room: Room, attendee: Attendee) -> None:
        self.memory.leave(room, attendee)

    async def saw_browser(self, room: Room, attendee: Attendee, browser: str, engine: str) -> None:
        self.memory.saw_browser(room, attendee, browser, engine)

    async def answer(
        self, room: Room, attendee: Attendee, question: Question, choice: object
    ) -> Answer:
        return self.memory.answer(room, attendee, question, choice)

    async def sent(self, room: Room, attendee: Attendee, question: Question, run_id: str) -> None:
        self.memory.sent(room, attendee, question, run_id)

    async def record_result(
        self, room: Room, attendee: Attendee, question: Question, result: Result
    ) -> None:
        self.memory.record_result(room, attendee, question, result)

    async def progress(
        self, room: Room, attendee: Attendee, lesson: str, cell: dict[str, Any]
    ) -> None:
        self.memory.progress(room, attendee, lesson, cell)

    async def stream_opened(self, session_id: str) -> None:
        self.memory.stream_opened(session_id)

    async def stream_closed(self, session_id: str) -> None:
        self.memory.stream_closed(session_id)

    async def attendee_backlog(
        self, session_id: str, since: int | None, upto: int
    ) -> list[RoomEvent]:
        return self.memory.attendee_backlog(session_id, since, upto)

    async def count(self) -> int:
        return len(self.memory)
