"""app/rooms/export.py: every attendee and question in the exports; a spreadsheet never runs
what an attendee typed."""

from __future__ import annotations

import csv
import io
import itertools

from app.cors import Scenario, predict
from app.cors.engines import ENGINES
from app.rooms import RoomStore
from app.rooms.export import CSV_COLUMNS, export_csv, export_json
from app.rooms.model import Result
from app.rooms.questions import CLASSICS_BY_KEY, for_page, spec_for

PAGE = "http://localhost:8000"


def spec() -> object:
    classic = CLASSICS_BY_KEY["custom-header"]
    s = Scenario.from_json(for_page(classic.scenario, PAGE), default_origin=PAGE,
                           default_url="http://localhost:8001/r/x")  # fmt: skip
    return spec_for("classic", classic.title, "check", s, {e: predict(s, e) for e in ENGINES},
                    why="-")  # fmt: skip


def test_the_exports_hold_every_attendee_question_answer_and_result() -> None:
    counter = itertools.count(1)
    rooms = RoomStore(ids=lambda: next(counter))
    room = rooms.create("r")
    ada = rooms.join(room, "a" * 22, "=SUM(A1:A9)", engine="firefox", browser="Firefox 140")
    rooms.join(room, "b" * 22, "@Bob")
    rooms.join(room, "c" * 22, "-Cyd")
    question = rooms.ask(room, spec())
    rooms.answer(room, ada, question, "allow-headers")
    rooms.reveal(room, question)
    rooms.sent(room, ada, question, "run1")
    result = Result("run1", "Firefox 140", "firefox", "blocked", "blocked", True, (), 0.0)
    rooms.record_result(room, ada, question, result)
    progress = {1: {"simple-get": {"answer": "right", "sent": True}}}
    rows = list(csv.DictReader(io.StringIO(export_csv(room, progress))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["name"] for r in rows] == ["'=SUM(A1:A9)", "'@Bob", "'-Cyd"]
    assert rows[0]["correct"] == "yes" and rows[0]["outcome"] == "blocked"
    assert (rows[0]["lessons_right"], rows[0]["lessons_sent"]) == ("1", "1")
    assert rows[1]["answer"] == "" and rows[1]["question"] == "1"
    doc = export_json(room, progress, ["simple-get"])
    assert doc["attendees"][0]["name"] == "=SUM(A1:A9)"  # JSON keeps what was typed
    assert doc["questions"][0]["groups"][0]["engine"] == "firefox"
    assert doc["attendees"][0]["progress"] == progress[1]
