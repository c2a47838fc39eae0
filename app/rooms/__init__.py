"""Workshop rooms: an instructor asks the room predict-first questions about a scenario,
watches the answers arrive, reveals, and every attendee's own browser sends the scenario for
real; the results come back grouped by engine.

Pure Python over the engine and the run store (no web framework): the room store with its
limits, the questions and their answers per engine, tallies and results, and the exports. The
web layer is app/web/site/rooms.py and app/web/room_events.py.
"""

from app.rooms.limits import RoomLimits
from app.rooms.log import EventLog, RoomEvent
from app.rooms.model import Answer, Attendee, Question, Result, Room
from app.rooms.questions import CLASSICS, CLASSICS_BY_KEY, KINDS, QuestionSpec, spec_for
from app.rooms.store import Outgoing, RoomStore

__all__ = [
    "CLASSICS",
    "CLASSICS_BY_KEY",
    "KINDS",
    "Answer",
    "Attendee",
    "EventLog",
    "Outgoing",
    "Question",
    "QuestionSpec",
    "Result",
    "Room",
    "RoomEvent",
    "RoomLimits",
    "RoomStore",
    "spec_for",
]
