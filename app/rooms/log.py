"""A room's recent events, kept so a stream that reconnects catches up: it names the last
event id it had (``Last-Event-ID`` or ``?since=``) and gets every later event from this bounded
buffer, or, when some of them already left the buffer, a snapshot of the room instead: never a
silent gap."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RoomEvent:
    """One live update: its SSE event name, its JSON text and its event id."""

    name: str
    data: str
    id: int


class EventLog:
    """The newest ``size`` events of one audience, oldest first."""

    def __init__(self, size: int) -> None:
        self._events: deque[RoomEvent] = deque(maxlen=max(size, 1))
        # The id of the newest event that left the buffer (0: none has).
        self.forgotten = 0

    def __len__(self) -> int:
        return len(self._events)

    def append(self, event: RoomEvent) -> None:
        if len(self._events) == self._events.maxlen:
            self.forgotten = self._events[0].id
        self._events.append(event)

    @property
    def last_id(self) -> int:
        return self._events[-1].id if self._events else self.forgotten

    def since(self, last: int) -> list[RoomEvent] | None:
        """Every event after id ``last``, oldest first; None when some of them already left
        the buffer (the stream then needs a snapshot)."""
        if last < self.forgotten:
            return None
        return [event for event in self._events if event.id > last]
