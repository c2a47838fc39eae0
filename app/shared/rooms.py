"""Workshop rooms on Redis: the ``RoomBook`` of ``app.rooms.store`` for several processes,
with the same rules and limits.

Each change runs the in-memory store's own code (``RoomStore``) on the room as Redis holds
it, under the room's lock, then keeps the room and publishes what it queued: the rules live
in one place. Keys (under the playground's prefix), each expiring with the room:

- ``room:<id>``: the room (attendees, questions, answers, results), without its event logs;
- ``room-log:<id>:<audience>``: the host's, projector's and attendees' replay buffers
  (lists, trimmed to their size);
- ``room-host:<key>``, ``room-view:<key>``, ``room-code:<code>``: the room a key or code opens;
- ``room-member:<session>``: the room and attendee number a session (or a lab session of
  its own) is in;
- ``rooms``: every room by its last use (a sorted set), for the number of rooms and expiry.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from app.rooms.limits import RoomLimits
from app.rooms.log import EventLog, RoomEvent
from app.rooms.model import Answer, Attendee, Question, Result, Room
from app.rooms.store import Outgoing, RoomStore, new_code, normal_code, too_many_rooms
from app.runs.errors import BadRequest
from app.shared.connection import SharedState, dumps, loads, text

T = TypeVar("T")
LOGS = ("host", "view", "attendees")
# A room's keys outlive its idle expiry a little, so expiring it can still read who was in.
MARGIN = 3600.0
GONE = "this room expired or never existed"


class RedisRooms:
    """Rooms shared by every process on one Redis."""

    def __init__(
        self,
        shared: SharedState,
        limits: RoomLimits | None = None,
        *,
        ids: Callable[[], int],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shared = shared
        self.redis = shared.client
        self.limits = limits or RoomLimits()
        self.ids = ids
        self.clock = clock
        self.ttl_ms = int((self.limits.idle_expiry + MARGIN) * 1000)
        self.outbox: list[Outgoing] = []
        # The checks and views of a room object are the in-memory store's.
        self._rules = RoomStore(self.limits, ids=ids, clock=clock)
        self.can_send = self._rules.can_send
        self.question_of_run = self._rules.question_of_run
        self.attendee_state = self._rules.attendee_state
        self.host_backlog = self._rules.host_backlog

    def drain(self) -> list[Outgoing]:
        out, self.outbox = self.outbox, []
        return out

    # --- keys and failures ---------------------------------------------------------------------

    def _k(self, *parts: str) -> str:
        return self.shared.key(*parts)

    def _log_key(self, room_id: str, audience: str) -> str:
        return self._k("room-log", room_id, audience)

    def _log_size(self, audience: str) -> int:
        return self.limits.attendee_replay if audience == "attendees" else self.limits.host_replay


    # --- reading -------------------------------------------------------------------------------

    async def _room(self, room_id: str | None, logs: Iterable[str] = ()) -> Room | None:
        if room_id is None:
            return None
        room: Room | None = loads(await self.redis.get(self._k("room", room_id)))
        if room is None or self.clock() - room.touched > self.limits.idle_expiry:
            return None
        for audience in logs:
            setattr(room, _log_attribute(audience), await self._log(room_id, audience))
        return room

    async def _log(self, room_id: str, audience: str) -> EventLog:
        size = self._log_size(audience)
        log = EventLog(size)
        values = await self.redis.lrange(self._log_key(room_id, audience), 0, -1)
        events: list[RoomEvent] = [loads(v) for v in values]
        if len(events) >= size and events:
            log.forgotten = events[0].id - 1  # some may have left the buffer before it
        for event in events:
            log.append(event)
        return log

    async def _by(self, kind: str, key: str, logs: Iterable[str]) -> Room | None:
        async def work() -> Room | None:
            found = await self.redis.get(self._k(kind, key))
            return await self._room(None if found is None else text(found), logs)

        return await self.shared.call(work)

    async def by_host_key(self, key: str) -> Room | None:
        return await self._by("room-host", key, ("host",))

    async def by_view_key(self, key: str) -> Room | None:
        return await self._by("room-view", key, ("view",))

    async def by_code(self, code: str) -> Room | None:
        return await self._by("room-code", normal_code(code), ())

    async def _member(self, session_id: str) -> tuple[str, int] | None:
        key = self._k("room-member", session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pexpire(key, self.ttl_ms)
            found, _ = await pipe.execute()
        if found is None:
            return None
        room_id, _, number = text(found).partition(" ")
        return room_id, int(number)

    async def membership(
        self, session_id: str, logs: Iterable[str] = ()
    ) -> tuple[Room, Attendee] | None:
        async def work() -> tuple[Room, Attendee] | None:
            member = await self._member(session_id)
            room = None if member is None else await self._room(member[0], logs)
            if member is None or room is None or member[1] not in room.attendees:
                return None
            return room, room.attendees[member[1]]

        return await self.shared.call(work)

    async def attendee_backlog(
        self, session_id: str, since: int | None, upto: int
    ) -> list[RoomEvent]:
        found = await self.membership(session_id, ("attendees",))
        if found is None:
            return []
        room, attendee = found
        scratch = RoomStore(self.limits, ids=self.ids, clock=self.clock)
        scratch._rooms[room.id] = room
        scratch._by_stream[session_id] = (room, attendee)
        return scratch.attendee_backlog(session_id, since, upto)

    async def count(self) -> int:
        async def work() -> int:
            await self._expire()
            return int(await self.redis.zcard(self._k("rooms")))

        return await self.shared.call(work)

    # --- changing ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _changing(
        self, room: Room, streams: Iterable[str] = ()
    ) -> AsyncIterator[tuple[RoomStore, Room]]:
        """The in-memory rules on the room as Redis holds it (with the memberships of
        ``streams``), under its lock; the room, its new events and memberships kept after."""
        async with self.shared.locked("room", room.id):
            fresh = await self._room(room.id)
            if fresh is None:
                raise BadRequest(404, GONE, "room")
            scratch = RoomStore(self.limits, ids=self.ids, clock=self.clock)
            scratch._rooms[fresh.id] = fresh
            for stream in streams:
                member = await self._member(stream)
                if member is None:
                    continue
                other = fresh if member[0] == fresh.id else await self._room(member[0])
                if other is not None and member[1] in other.attendees:
                    scratch._rooms[other.id] = other
                    scratch._by_stream[stream] = (other, other.attendees[member[1]])
            before = {s: (r.id, a.number) for s, (r, a) in scratch._by_stream.items()}
            yield scratch, fresh
            await self._keep(scratch, fresh, before)
        _adopt(room, fresh)

    async def _keep(
        self, scratch: RoomStore, fresh: Room, before: dict[str, tuple[str, int]]
    ) -> None:
        after = {s: (r.id, a.number) for s, (r, a) in scratch._by_stream.items()}
        outgoing = scratch.drain()
        for audience in LOGS:
            setattr(fresh, _log_attribute(audience), EventLog(0))  # kept as lists
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._k("room", fresh.id), dumps(fresh), px=self.ttl_ms)
            pipe.zadd(self._k("rooms"), {fresh.id: fresh.touched})
            for kind, key in (
                ("room-host", fresh.host_key), ("room-view", fresh.view_key),
                ("room-code", fresh.code),
            ):  # fmt: skip
                pipe.pexpire(self._k(kind, key), self.ttl_ms)
            for stream in before.keys() - after.keys():
                pipe.delete(self._k("room-member", stream))
            for stream, (room_id, number) in after.items():
                if before.get(stream) != (room_id, number):
                    pipe.set(self._k("room-member", stream), f"{room_id} {number}", px=self.ttl_ms)
            for out in outgoing:
                if out.audience in LOGS:
                    key = self._log_key(fresh.id, out.audience)
                    pipe.rpush(key, dumps(out.event))
                    pipe.ltrim(key, -self._log_size(out.audience), -1)
                    pipe.pexpire(key, self.ttl_ms)
            await pipe.execute()
        self.outbox.extend(outgoing)

    async def _change(
        self,
        room: Room,
        work: Callable[[RoomStore, Room], T],
        *,
        attendee: Attendee | None = None,
        question: Question | None = None,
        streams: Iterable[str] = (),
    ) -> T:
        """``work(rules, room)`` on the room as Redis holds it; the ``attendee`` and
        ``question`` passed in are brought up to date as well."""

        async def run() -> T:
            async with self._changing(room, streams) as (scratch, fresh):
                result = work(scratch, fresh)
            if attendee is not None and attendee.number in room.attendees:
                attendee.__dict__.update(room.attendees[attendee.number].__dict__)
            if question is not None and (now := room.question(question.number)) is not None:
                question.__dict__.update(now.__dict__)
            return result

        return await self.shared.call(run)

    async def create(self, title: object) -> Room:
        async def work() -> Room:
            await self._expire()
            if int(await self.redis.zcard(self._k("rooms"))) >= self.limits.rooms:
                raise too_many_rooms(self.limits)
            scratch = RoomStore(self.limits, ids=self.ids, clock=self.clock)
            room = scratch.create(title)
            while not await self.redis.set(
                self._k("room-code", room.code), room.id, nx=True, px=self.ttl_ms
            ):
                room.code = new_code()
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(self._k("room-host", room.host_key), room.id, px=self.ttl_ms)
                pipe.set(self._k("room-view", room.view_key), room.id, px=self.ttl_ms)
                await pipe.execute()
            await self._keep(scratch, room, {})
            return room

        return await self.shared.call(work)

    async def ask(self, room: Room, spec: Any) -> Question:
        return await self._change(room, lambda rules, fresh: rules.ask(fresh, spec))

    async def reveal(self, room: Room, question: Question) -> Question:
        return await self._change(
            room, lambda rules, fresh: rules.reveal(fresh, _question(fresh, question)),
            question=question,
        )  # fmt: skip

    async def close(self, room: Room) -> None:
        await self._change(room, lambda rules, fresh: rules.close(fresh))

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
        streams = (session_id, *stream_ids)

        def work(rules: RoomStore, fresh: Room) -> Attendee:
            found = rules._by_stream.get(session_id)
            if found is not None:  # the streams of that membership, to move or keep
                for stream in found[1].stream_ids:
                    rules._by_stream.setdefault(stream, found)
            return rules.join(
                fresh, session_id, name, browser=browser, engine=engine, stream_ids=stream_ids
            )

        return await self._change(room, work, streams=streams)

    async def leave(self, room: Room, attendee: Attendee) -> None:
        await self._change(
            room, lambda rules, fresh: rules.leave(fresh, _attendee(fresh, attendee)),
            attendee=attendee, streams=attendee.stream_ids,
        )  # fmt: skip

    async def saw_browser(self, room: Room, attendee: Attendee, browser: str, engine: str) -> None:
        if not browser or (browser, engine) == (attendee.browser, attendee.engine):
            return  # nothing to change (the store would do nothing either)
        await self._change(
            room,
            lambda rules, fresh: rules.saw_browser(
                fresh, _attendee(fresh, attendee), browser, engine
            ),
            attendee=attendee,
        )

    async def answer(
        self, room: Room, attendee: Attendee, question: Question, choice: object
    ) -> Answer:
        return await self._change(
            room,
            lambda rules, fresh: rules.answer(
                fresh, _attendee(fresh, attendee), _question(fresh, question), choice
            ),
            attendee=attendee, question=question,
        )  # fmt: skip

    async def sent(self, room: Room, attendee: Attendee, question: Question, run_id: str) -> None:
        await self._change(
            room,
            lambda rules, fresh: rules.sent(
                fresh, _attendee(fresh, attendee), _question(fresh, question), run_id
            ),
            attendee=attendee, question=question,
        )  # fmt: skip

    async def record_result(
        self, room: Room, attendee: Attendee, question: Question, result: Result
    ) -> None:
        await self._change(
            room,
            lambda rules, fresh: rules.record_result(
                fresh, _attendee(fresh, attendee), _question(fresh, question), result
            ),
            attendee=attendee, question=question,
        )  # fmt: skip

    async def progress(
        self, room: Room, attendee: Attendee, lesson: str, cell: dict[str, Any]
    ) -> None:
        await self._change(
            room,
            lambda rules, fresh: rules.progress(fresh, _attendee(fresh, attendee), lesson, cell),
        )

    async def stream_opened(self, session_id: str) -> None:
        await self._presence(session_id, opened=True)

    async def stream_closed(self, session_id: str) -> None:
        await self._presence(session_id, opened=False)

    async def _presence(self, session_id: str, *, opened: bool) -> None:
        found = await self.membership(session_id)
        if found is None:
            return

        def work(rules: RoomStore, fresh: Room) -> None:
            if opened:
                rules.stream_opened(session_id)
            else:
                rules.stream_closed(session_id)

        await self._change(found[0], work, streams=(session_id,))

    # --- upkeep --------------------------------------------------------------------------------

    async def _expire(self) -> None:
        """Forget the rooms idle past the idle expiry, and who was in them."""
        horizon = self.clock() - self.limits.idle_expiry
        for found in await self.redis.zrangebyscore(self._k("rooms"), "-inf", horizon):
            room_id = text(found)
            room: Room | None = loads(await self.redis.get(self._k("room", room_id)))
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self._k("rooms"), room_id)
                pipe.delete(self._k("room", room_id))
                for audience in LOGS:
                    pipe.delete(self._log_key(room_id, audience))
                if room is not None:
                    pipe.delete(self._k("room-host", room.host_key))
                    pipe.delete(self._k("room-view", room.view_key))
                    pipe.delete(self._k("room-code", room.code))
                await pipe.execute()
            streams = [s for a in (room.attendees.values() if room else ()) for s in a.stream_ids]
            for stream in streams:  # unless the session is in another room since
                member = await self._member(stream)
                if member is not None and member[0] == room_id:
                    await self.redis.delete(self._k("room-member", stream))


def _log_attribute(audience: str) -> str:
    return {"host": "host_log", "view": "view_log", "attendees": "attendee_log"}[audience]


def _attendee(room: Room, attendee: Attendee) -> Attendee:
    found = room.attendees.get(attendee.number)
    if found is None:
        raise BadRequest(404, "no such attendee in this room", "attendee")
    return found


def _question(room: Room, question: Question) -> Question:
    found = room.question(question.number)
    if found is None:
        raise BadRequest(404, "no such question in this room", "question")
    return found


def _adopt(room: Room, fresh: Room) -> None:
    """Bring the caller's room object up to date (its logs stay as they were read)."""
    logs = {name: getattr(room, name) for name in ("host_log", "view_log", "attendee_log")}
    room.__dict__.update(fresh.__dict__)
    room.__dict__.update(logs)
