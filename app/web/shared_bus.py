"""The event bus for several processes: events go through Redis pub/sub, so a leg that
reaches one process shows on a page whose stream another process holds.

Each process keeps its own streams' bounded queues (``EventBus``) and listens, on one Redis
connection, to every topic's channel (one pattern, so a new stream never waits for a
subscription). ``publish`` never waits: it queues the event for this process's publisher task
(bounded), which renders and publishes it; every process, this one included, hands what
arrives to its own streams of that topic, in the order published, and ignores the rest.

Event ids must grow across processes (a page resumes from the last id it had): they are
microseconds of the shared clock, made strictly increasing in each process.

When Redis stops answering, the open streams end (their pages reconnect, and meet a 503 until
Redis is back), events published meanwhile are dropped and counted, and the listener
reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.shared import SharedState
from app.shared.connection import FAILURES, text
from app.web.events import Event, EventBus

log = logging.getLogger("cors_playground.events")

# What one process's publisher holds while Redis is slow: past it, events are dropped.
OUTBOX_EVENTS = 10_000
# How many queued events one round trip to Redis carries.
BATCH = 256
RECONNECT_SECONDS = 0.5


@dataclass(frozen=True)
class _Outgoing:
    topic: str
    name: str
    render: Callable[[], str]
    id: int


class RedisBus(EventBus):
    """An ``EventBus`` whose events travel through Redis to every process's streams."""

    def __init__(self, shared: SharedState, **limits: Any) -> None:
        super().__init__(**limits)
        self.shared = shared
        self.redis = shared.client
        self._outbox: asyncio.Queue[_Outgoing] = asyncio.Queue(maxsize=OUTBOX_EVENTS)
        self.dropped = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub: Any = None
        # Whether Redis answered the publisher and the listener last time (an outage is
        # logged once, not on every retry).
        self._publishing = True
        self._listening = True

    def _channel(self, topic: str) -> str:
        return self.shared.key("ev", topic)

    # --- ids -------------------------------------------------------------------------------

    @property
    def last_id(self) -> int:
        return max(self._last_id, int(time.time() * 1_000_000))

    def next_id(self) -> int:
        self._last_id = max(self._last_id + 1, int(time.time() * 1_000_000))
        return self._last_id

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the publisher and the listener (on the running loop)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._publisher(), name="events-publisher"),
                asyncio.create_task(self._listener(), name="events-listener"),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, *FAILURES):
                pass
        self._tasks = []

    # --- publishing --------------------------------------------------------------------------

    def publish(
        self, topic: str, name: str, render: Callable[[], str], event_id: int | None = None
    ) -> int:
        """Queue the event for every process's streams; never waits. Returns 1 when queued."""
        if self.closed:
            return 0
        outgoing = _Outgoing(topic, name, render, self.next_id() if event_id is None else event_id)
        try:
            self._outbox.put_nowait(outgoing)
        except asyncio.QueueFull:
            self.dropped += 1
            return 0
        return 1

    def deliver(self, event_topic: str, event: Event) -> int:
        """Hand an event that came through Redis to this process's streams of its topic."""
        return super().publish(event_topic, event.name, lambda: event.html, event.id)

    async def _publisher(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                await self._send(batch)
                self._publishing = True
            except FAILURES as error:
                self.dropped += len(batch)
                if self._publishing:  # said once an outage
                    log.warning("events not published, Redis is not answering: %s", error)
                self._publishing = False
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _send(self, batch: list[_Outgoing]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for item in batch:
                try:
                    event = Event(item.name, item.render(), item.id)
                except Exception:  # one event that cannot be drawn never stops the others
                    log.exception("event %s on %s not rendered", item.name, item.topic)
                    self.dropped += 1
                    continue
                pipe.publish(self._channel(item.topic), pickle.dumps(event))
            await pipe.execute()

    # --- listening ---------------------------------------------------------------------------

    async def _listener(self) -> None:
        while True:
            try:
                await self._listen()
            except FAILURES as error:
                if self._listening:  # said once an outage
                    log.warning("event stream from Redis lost, reconnecting: %s", error)
                self._listening = False
                self._end_streams()
            if self._pubsub is not None:
                with contextlib.suppress(*FAILURES):
                    await self._pubsub.aclose()
                self._pubsub = None
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        pubsub = self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(self._channel("*"))
        if not self._listening:
            log.warning("event stream from Redis back")
            self._listening = True
        prefix = len(self._channel(""))
        async for message in pubsub.listen():
            if message.get("type") != "pmessage":
                continue
            topic = text(message["channel"])[prefix:]
            if self.has_subscribers(topic):
                event = pickle.loads(message["data"])
                self.deliver(topic, event)

    def _end_streams(self) -> None:
        """End this process's open streams (their pages reconnect when Redis is back)."""
        for subscribers in list(self._topics.values()):
            for sub in list(subscribers):
                sub.end()
