"""A room as it is kept: its attendees, its questions with their answers and what each
attendee's browser did, and its recent events for streams that resume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.rooms.log import EventLog
from app.rooms.questions import QuestionSpec

RoomState = Literal["open", "closed"]
QuestionState = Literal["asking", "revealed", "closed"]
ENGINE_LABELS = {"chromium": "Chromium", "firefox": "Firefox", "webkit": "WebKit"}


def engine_label(engine: str) -> str:
    return ENGINE_LABELS.get(engine, "Other")


@dataclass(eq=False)
class Attendee:
    """One attendee: a playground session in the room, numbered in the order they joined."""

    number: int
    session_id: str
    name: str
    joined: float
    #: The browser their page last reported (from its User-Agent): "Firefox 140", and its
    #: engine family (chromium, firefox, webkit; "unknown" otherwise).
    browser: str = ""
    engine: str = "unknown"
    #: The sessions whose event streams carry this attendee's room events (their own, and
    #: the sessions their labs keep runs in), and how many of those streams are open.
    stream_ids: tuple[str, ...] = ()
    streams: int = 0
    #: The event id of the last change to what only this attendee sees.
    changed: int = 0
    left: bool = False

    @property
    def connected(self) -> bool:
        return self.streams > 0

    @property
    def profile(self) -> str:
        """The engine profile the attendee's answers are marked against."""
        return self.engine if self.engine in ENGINE_LABELS else "spec"


@dataclass(frozen=True)
class Answer:
    choice: str
    correct: bool
    at: float


@dataclass(frozen=True)
class Result:
    """What one attendee's browser did with a question's scenario."""

    run_id: str
    browser: str
    engine: str
    outcome: str
    predicted: str
    agreement: bool
    differences: tuple[str, ...]
    at: float
    #: For an attack question: whether the attacker's log got the secret, the verdict on the
    #: attempt (stolen, refused, no-cookie, anonymous, read, not-logged-in) and why in words,
    #: and what the victim API recorded (the Origin that arrived, the login cookies it carried,
    #: its status).
    stolen: bool | None = None
    verdict: str | None = None
    reason: str = ""
    recorded: tuple[tuple[str, object], ...] = ()


@dataclass(eq=False)
class Question:
    number: int
    spec: QuestionSpec
    asked: float
    state: QuestionState = "asking"
    revealed: float | None = None
    answers: dict[int, Answer] = field(default_factory=dict)
    #: The run each attendee's browser sent (by attendee number), and its result.
    runs: dict[int, str] = field(default_factory=dict)
    results: dict[int, Result] = field(default_factory=dict)


@dataclass(eq=False)
class Room:
    id: str
    host_key: str
    view_key: str
    code: str
    title: str
    created: float
    touched: float
    host_log: EventLog
    view_log: EventLog
    attendee_log: EventLog
    state: RoomState = "open"
    attendees: dict[int, Attendee] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    #: Kept as attendees join, leave, connect and go away (the store changes them), so a
    #: tally, counted on every answer, never walks the whole room.
    online: int = 0
    gone: int = 0

    @property
    def current(self) -> Question | None:
        return self.questions[-1] if self.questions else None

    def question(self, number: int) -> Question | None:
        return self.questions[number - 1] if 0 < number <= len(self.questions) else None

    @property
    def present(self) -> list[Attendee]:
        """The attendees who have not left, in the order they joined."""
        return [a for a in self.attendees.values() if not a.left]

    @property
    def connected(self) -> int:
        """How many attendees who have not left hold a stream now."""
        return self.online

    @property
    def present_count(self) -> int:
        """How many attendees have not left."""
        return len(self.attendees) - self.gone
