"""app/rooms/store.py: rooms bounded by their named limits, each refusal a sentence; events
stamped, logged for streams that resume, and queued for the web layer."""

from __future__ import annotations

import itertools
import json

import pytest

from app.cors import Scenario, predict
from app.cors.engines import ENGINES
from app.rooms import RoomLimits, RoomStore
from app.rooms.log import EventLog, RoomEvent
from app.rooms.model import Result
from app.rooms.questions import CLASSICS_BY_KEY, for_page, spec_for
from app.runs.errors import BadRequest

PAGE = "http://localhost:8000"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store(**limits: object) -> tuple[RoomStore, Clock]:
    clock = Clock()
    counter = itertools.count(1)
    return RoomStore(RoomLimits(**limits), ids=lambda: next(counter), clock=clock), clock  # type: ignore[arg-type]


def spec(key: str = "custom-header", kind: str | None = None) -> object:
    classic = CLASSICS_BY_KEY[key]
    s = Scenario.from_json(
        for_page(classic.scenario, PAGE),
        default_origin=PAGE,
        default_url="http://localhost:8001/r/x",
    )
    predictions = {e: predict(s, e) for e in ENGINES}
    return spec_for("classic", classic.title, kind or classic.kind, s, predictions, why="-")


def refusal(call: object, *args: object) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.status < 500 and len(caught.value.message) > 10
    return caught.value


def test_a_room_has_three_distinct_keys_and_a_short_readable_code() -> None:
    rooms, _ = store()
    room = rooms.create("CORS 101")
    assert len({room.host_key, room.view_key, room.code}) == 3
    assert len(room.host_key) >= 22 and len(room.code) == 6
    assert not set(room.code) & set("0O1IL")
    assert rooms.by_host_key(room.host_key) is room
    assert rooms.by_code(room.code.lower()) is room
    assert rooms.by_host_key(room.view_key) is None and rooms.by_host_key(room.code) is None


def test_the_number_of_rooms_is_bounded() -> None:
    rooms, _ = store(rooms=2)
    rooms.create("a")
    rooms.create("b")
    assert refusal(rooms.create, "c").status == 429


def test_attendees_per_room_are_bounded_and_numbered_with_a_default_name() -> None:
    rooms, _ = store(attendees=2)
    room = rooms.create("r")
    first = rooms.join(room, "s" * 22, "")
    second = rooms.join(room, "t" * 22, "Grace")
    assert (first.name, second.name) == ("Attendee 1", "Grace")
    assert rooms.join(room, "s" * 22, "again") is first  # joining again is the same attendee
    assert refusal(rooms.join, room, "u" * 22, "x").status == 409


def test_names_and_titles_are_bounded_and_single_line_text() -> None:
    rooms, _ = store(name_length=5, title_length=8)
    assert refusal(rooms.create, "x" * 9).field == "title"
    room = rooms.create("  a\n  b ")
    assert room.title == "a b"
    assert refusal(rooms.join, room, "s" * 22, "abcdef").field == "name"
    assert "U+202E" in refusal(rooms.join, room, "s" * 22, "a\u202eb").message
    assert "U+0000" in refusal(rooms.join, room, "s" * 22, "a\x00").message
    assert refusal(rooms.join, room, "s" * 22, 5).field == "name"


def test_questions_per_room_are_bounded() -> None:
    rooms, _ = store(questions=2)
    room = rooms.create("r")
    rooms.ask(room, spec())
    rooms.ask(room, spec())
    assert refusal(rooms.ask, room, spec()).status == 409
    assert room.questions[0].state == "closed"  # asked over before its reveal


def test_idle_rooms_expire_and_free_their_place() -> None:
    rooms, clock = store(rooms=1, idle_expiry=60)
    room = rooms.create("r")
    rooms.join(room, "s" * 22, "Ada")
    clock.now += 61
    assert rooms.by_host_key(room.host_key) is None
    assert rooms.membership("s" * 22) is None
    rooms.create("next")


def test_answers_reveal_send_and_result() -> None:
    rooms, _ = store()
    room = rooms.create("r")
    ada = rooms.join(room, "s" * 22, "Ada", engine="firefox", browser="Firefox 140")
    question = rooms.ask(room, spec())
    assert refusal(rooms.answer, room, ada, question, "maybe").status == 422
    answer = rooms.answer(room, ada, question, "allow-headers")
    assert answer.correct
    assert refusal(rooms.answer, room, ada, question, "none").status == 409
    assert refusal(rooms.can_send, room, ada, question).status == 409  # not revealed yet
    rooms.reveal(room, question)
    late = rooms.join(room, "t" * 22, "")
    assert refusal(rooms.answer, room, late, question, "none").status == 409
    rooms.sent(room, ada, question, "run1")
    assert refusal(rooms.sent, room, ada, question, "run2").status == 409
    assert rooms.question_of_run(room, ada, "run1") is question
    result = Result("run1", "Firefox 140", "firefox", "blocked", "blocked", True, (), 0.0)
    rooms.record_result(room, ada, question, result)
    assert refusal(rooms.record_result, room, ada, question, result).status == 409


def test_a_closed_room_refuses_joins_answers_and_questions() -> None:
    rooms, _ = store()
    room = rooms.create("r")
    ada = rooms.join(room, "s" * 22, "Ada")
    question = rooms.ask(room, spec())
    rooms.close(room)
    assert refusal(rooms.join, room, "t" * 22, "x").status == 409
    assert refusal(rooms.answer, room, ada, question, "none").status == 409
    assert refusal(rooms.ask, room, spec()).status == 409
    # The closed room is left for another: the session may join an open one.
    other = rooms.create("next")
    assert rooms.join(other, "s" * 22, "Ada").number == 1


def test_a_session_is_in_one_open_room_at_a_time() -> None:
    rooms, _ = store()
    first, second = rooms.create("a"), rooms.create("b")
    rooms.join(first, "s" * 22, "Ada")
    assert refusal(rooms.join, second, "s" * 22, "Ada").status == 409


def test_lab_sessions_carry_the_attendees_room_events_and_presence() -> None:
    rooms, _ = store()
    room = rooms.create("r")
    ada = rooms.join(room, "s" * 22, "Ada", stream_ids=("lab" * 8,))
    assert rooms.membership("lab" * 8) == (room, ada)
    rooms.drain()
    rooms.stream_opened("lab" * 8)
    rooms.stream_opened("s" * 22)
    assert ada.streams == 2 and room.connected == 1
    host = [o.event for o in rooms.drain() if o.audience == "host"]
    assert len(host) == 1 and json.loads(host[0].data)["connected"] is True  # one change
    rooms.stream_closed("s" * 22)
    rooms.stream_closed("lab" * 8)
    assert not ada.connected


def test_every_change_is_stamped_logged_and_queued_in_order() -> None:
    rooms, _ = store()
    room = rooms.create("r")
    ada = rooms.join(room, "s" * 22, "Ada")
    question = rooms.ask(room, spec())
    rooms.answer(room, ada, question, "none")
    out = rooms.drain()
    assert [o.event.id for o in out] == sorted(o.event.id for o in out)
    assert {o.audience for o in out} == {"host", "view", "attendees", "attendee"}
    assert rooms.drain() == []
    host_ids = [o.event.id for o in out if o.audience == "host"]
    assert [e.id for e in room.host_log.since(0) or []] == host_ids
    # The projector never sees a name, nor the split of answers before the reveal.
    for o in out:
        if o.audience == "view":
            assert "Ada" not in o.event.data and "counts" not in o.event.data


def test_a_resuming_attendee_gets_what_it_missed_or_a_snapshot() -> None:
    rooms, _ = store(attendee_replay=2)
    room = rooms.create("r")
    rooms.join(room, "s" * 22, "Ada")
    fresh = rooms.attendee_backlog("s" * 22, None, 99)
    assert [e.name for e in fresh] == ["room"] and json.loads(fresh[0].data)["you"]["name"] == "Ada"
    mark = max(o.event.id for o in rooms.drain())  # the page had every event so far
    question = rooms.ask(room, spec())
    missed = rooms.attendee_backlog("s" * 22, mark, 99)
    assert [json.loads(e.data)["question"]["number"] for e in missed] == [1]
    rooms.reveal(room, question)
    rooms.ask(room, spec())
    rooms.ask(room, spec())  # the buffer keeps two: the first event after `mark` is gone
    (snapshot,) = rooms.attendee_backlog("s" * 22, mark, 99)
    assert json.loads(snapshot.data)["you"] is not None and snapshot.id == 99
    assert rooms.attendee_backlog("x" * 22, None, 99) == []


def test_the_event_log_replays_after_an_id_or_says_it_cannot() -> None:
    log = EventLog(3)
    for i in range(1, 6):
        log.append(RoomEvent("e", "{}", i * 10))
    assert [e.id for e in log.since(20) or []] == [30, 40, 50]
    assert log.since(19) is None and log.since(50) == []


def test_the_counts_a_tally_shows_follow_every_join_leave_and_stream() -> None:
    """The room keeps how many attendees are present and online as they change (a tally on
    every answer reads them); they always equal a count over the attendees."""
    rooms, _ = store()
    room = rooms.create("r")

    def counted() -> tuple[int, int]:
        present = [a for a in room.attendees.values() if not a.left]
        return len(present), sum(1 for a in present if a.connected)

    ada = rooms.join(room, "a" * 22, "Ada", stream_ids=["lab-a" + "x" * 17])
    bob = rooms.join(room, "b" * 22, "Bob")
    steps = [
        lambda: rooms.stream_opened("a" * 22),
        lambda: rooms.stream_opened("lab-a" + "x" * 17),  # a second page of Ada's
        lambda: rooms.stream_opened("b" * 22),
        lambda: rooms.stream_closed("a" * 22),
        lambda: rooms.leave(room, bob),  # online when leaving
        lambda: rooms.stream_closed("b" * 22),  # after leaving: no longer counted anyway
        lambda: rooms.leave(room, bob),  # twice
        lambda: rooms.stream_closed("lab-a" + "x" * 17),
        lambda: rooms.stream_closed("a" * 22),  # more closes than opens
        lambda: rooms.join(room, "b" * 22, "Bob again"),
    ]
    seen = []
    for step in steps:
        step()
        assert (room.present_count, room.connected) == counted()
        seen.append(room.connected)
    assert seen == [1, 1, 2, 2, 1, 1, 1, 0, 0, 0]
    assert ada.left is False and room.present_count == 2
