"""What every handler of both origins shares: the run store, lesson progress, the event bus
and the templates. Built once by ``app.web.app``; handlers reach it through ``deps.PG``."""

from __future__ import annotations

import asyncio

from starlette.templating import Jinja2Templates

from app import resource_dir
from app.attack.store import AttackBook, AttackStore, MemoryAttacks
from app.lessons.progress import MemoryProgress, ProgressBook, ProgressStore
from app.rooms import RoomStore
from app.runs.origins import OriginPair
from app.runs.sessions import MemorySessions, SessionStore
from app.runs.store import Exchange, Run, RunStore
from app.web import render
from app.web.config import Settings
from app.web.events import EventBus, runs_topic


class Playground:
    """The state both origins share (one per process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: SessionStore = MemorySessions(RunStore(
            max_sessions=settings.max_sessions,
            max_unused_sessions=settings.max_unused_sessions,
            runs_per_session=settings.runs_per_session,
            exchanges_per_run=settings.exchanges_per_run,
            session_ttl=settings.session_ttl,
        ))
        self.progress: ProgressBook = MemoryProgress(
            ProgressStore(max_sessions=settings.max_sessions, session_ttl=settings.session_ttl)
        )
        self.attacks: AttackBook = MemoryAttacks(
            AttackStore(max_attacks=settings.max_sessions, ttl=settings.session_ttl)
        )
        self.bus = EventBus(
            queue_size=settings.queue_size,
            queue_bytes=settings.queue_bytes,
            subscribers_per_topic=settings.subscribers_per_topic,
        )
        self.rooms = RoomStore(settings.room_limits, ids=self.bus.next_id)
        self.templates = Jinja2Templates(directory=str(resource_dir("templates")))
        render.setup(self.templates)
        self.static_dir = resource_dir("static")
        self.loop: asyncio.AbstractEventLoop | None = None

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
