"""What every handler of both origins shares: the run store, lesson progress, the event bus
and the templates. Built once by ``app.web.app``; handlers reach it through ``deps.PG``."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.templating import Jinja2Templates

from app import resource_dir
from app.attack.store import AttackBook, AttackStore, MemoryAttacks
from app.lessons.progress import MemoryProgress, ProgressBook, ProgressStore
from app.rooms.store import MemoryRooms, RoomBook, RoomStore
from app.runs.origins import OriginPair
from app.runs.sessions import MemorySessions, SessionStore
from app.runs.store import Exchange, Run, RunStore
from app.shared import SharedState, connect
from app.shared.documents import RedisAttacks, RedisProgress
from app.shared.rooms import RedisRooms
from app.shared.sessions import RedisSessions
from app.web import render
from app.web.config import Settings
from app.web.events import EventBus, runs_topic
from app.web.shared_bus import RedisBus

#: The least time between two cards sent for legs counted past a run's limit.
COUNT_EVENT_SECONDS = 0.25


class Playground:
    """The state both origins share (one per process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.shared: SharedState | None = None
        limits: dict[str, Any] = {
            "queue_size": settings.queue_size,
            "queue_bytes": settings.queue_bytes,
            "subscribers_per_topic": settings.subscribers_per_topic,
        }
        sessions: dict[str, Any] = {
            "max_sessions": settings.max_sessions,
            "max_unused_sessions": settings.max_unused_sessions,
            "runs_per_session": settings.runs_per_session,
            "exchanges_per_run": settings.exchanges_per_run,
            "session_ttl": settings.session_ttl,
        }
        self.store: SessionStore
        self.progress: ProgressBook
        self.attacks: AttackBook
        self.bus: EventBus
        self.rooms: RoomBook
        if settings.redis_url:
            shared = self.shared = connect(settings.redis_url, settings.redis_prefix)
            self.store = RedisSessions(shared, **sessions)
            self.progress = RedisProgress(
                shared, max_sessions=settings.max_sessions, session_ttl=settings.session_ttl
            )
            self.attacks = RedisAttacks(
                shared, max_attacks=settings.max_sessions, ttl=settings.session_ttl
            )
            self.bus = RedisBus(shared, **limits)
            self.rooms = RedisRooms(shared, settings.room_limits, ids=self.bus.next_id)
        else:
            self.store = MemorySessions(RunStore(**sessions))
            self.progress = MemoryProgress(
                ProgressStore(max_sessions=settings.max_sessions, session_ttl=settings.session_ttl)
            )
            self.attacks = MemoryAttacks(
                AttackStore(max_attacks=settings.max_sessions, ttl=settings.session_ttl)
            )
            self.bus = EventBus(**limits)
            self.rooms = MemoryRooms(RoomStore(settings.room_limits, ids=self.bus.next_id))
        self.templates = Jinja2Templates(directory=str(resource_dir("templates")))
        render.setup(self.templates)
        self.static_dir = resource_dir("static")
        self.loop: asyncio.AbstractEventLoop | None = None
        # Runs whose counted legs wait for their card (publish_count): a run at most once
        # per COUNT_EVENT_SECONDS.
        self._counted: dict[str, Run] = {}

    async def start(self) -> None:
        """At startup, on the server's loop: with Redis, check that it answers (a clear
        error otherwise) and start the shared event bus."""
        self.loop = asyncio.get_running_loop()
        # Beside the start, not before it (about 90 ms): done long before a first leg arrives.
        self.loop.run_in_executor(None, render.warm, self.templates, render.LIVE_TEMPLATES)
        if self.shared is not None:
            await self.shared.ping()
        if isinstance(self.bus, RedisBus):
            self.bus.start()

    async def stop(self) -> None:
        if isinstance(self.bus, RedisBus):
            await self.bus.stop()
        if self.shared is not None:
            await self.shared.close()

    def page_host(self, host: str | None) -> str:
        return self.settings.page_host(host)

    def origins(self, host: str | None) -> OriginPair:
        return self.settings.origins(host)

    def api_origin(self, host: str | None) -> str:
        """The API origin for a page loaded from ``host`` (localhost pairs with localhost)."""
        return self.origins(host).api

    def site_origin(self, host: str | None) -> str:
        return self.origins(host).page

    def publish_run(self, run: Run) -> None:
        """Send the run's card, as it is now, to the pages of its session (with the event id
        the store stamped the run's latest change with)."""
        topic = runs_topic(run.session_id)
        self.bus.publish(
            topic, "run", lambda: render.card_html(self.templates, run, own=True), run.published
        )

    def publish_count(self, run: Run) -> None:
        """A leg past the run's limit is answered and only counted: send the card that counts
        it at most once every ``COUNT_EVENT_SECONDS`` per run (the latest count, once legs
        stop coming), not once per leg. A page that loops fetch() to its run would otherwise
        have the whole card drawn for every request (about 3.5 ms each)."""
        pending = self._counted.get(run.id)
        self._counted[run.id] = run  # the newest copy has the latest count and event id
        if pending is None:
            asyncio.get_running_loop().call_later(
                COUNT_EVENT_SECONDS, lambda: self.publish_run(self._counted.pop(run.id))
            )

    def publish_leg(self, run: Run, exchange: Exchange) -> None:
        """Send the leg that just arrived (not the whole card) to the pages of its session; a
        page that reconnects later gets the whole card of every run that changed."""
        topic = runs_topic(run.session_id)
        self.bus.publish(
            topic, "leg", lambda: render.leg_html(self.templates, run, exchange), run.published
        )

    def close_streams(self) -> None:
        """End every open event stream; safe to call from any thread or a signal handler."""
        loop = self.loop
        if loop is None or loop.is_closed():
            self.bus.close()
            return
        try:
            loop.call_soon_threadsafe(self.bus.close)
        except RuntimeError:  # loop already stopped
            self.bus.close()
