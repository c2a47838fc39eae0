"""How much the rooms of one playground hold, named in one place (the README's workshop section
lists them). Past a limit a request is refused with a sentence saying which limit, never a
server error."""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600.0


@dataclass(frozen=True)
class RoomLimits:
    """The limits of the rooms one playground holds."""

    #: Rooms open (or closed but not yet forgotten) at once.
    rooms: int = 20
    #: Attendees who may join one room.
    attendees: int = 500
    #: Questions one room may ask.
    questions: int = 50
    #: Characters of an attendee's display name.
    name_length: int = 40
    #: Characters of a room's title.
    title_length: int = 80
    #: A room nobody used (host or attendee) for this many seconds is forgotten.
    idle_expiry: float = 12 * HOUR
    #: Events kept for the host's and the projector's streams that resume (Last-Event-ID).
    host_replay: int = 4096
    #: Room events kept for the attendees' streams that resume.
    attendee_replay: int = 64
