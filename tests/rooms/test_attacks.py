"""An attack as a room's question (app/rooms: questions.attack_spec, views.attack_groups, the
findings and the exports): the right answer per engine read off the engine's prediction for the
attacker's request, and the room's results per engine: stolen, refused by CORS, or kept back
by a cookie policy."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from app.attack import ROOM_KEYS, room_scenarios
from app.cors import Scenario, predict
from app.cors.engines import ENGINES
from app.rooms import RoomStore
from app.rooms.export import export_csv, export_json
from app.rooms.model import Result
from app.rooms.questions import ATTACK_PROMPT, QuestionSpec, attack_spec, reads_secret
from app.rooms.views import attack_groups, findings, question_host, result_json

SCENARIOS = {s.id.removeprefix("attack-"): s for _, s in room_scenarios() if s.id}


def spec(key: str) -> QuestionSpec:
    scenario = SCENARIOS[key]
    predictions = {e: predict(scenario, e) for e in ENGINES}
    return attack_spec(
        key, key, scenario, predictions, why="-", engine_notes=(), doc=scenario.to_json()
    )


# The attacker's script gets the secret where CORS lets it read a credentialed answer.
EXPECTED = {
    "reflect-page": "yes",
    "null-sandbox": "yes",
    "prefix-page": "yes",
    "suffix-page": "yes",
    "wildcard-page": "no",  # * never covers a credentialed read
    "allow-list-page": "no",
    "wildcard-anonymous": "no",  # readable, but without cookies: nothing secret
}


@pytest.mark.parametrize("key", sorted(ROOM_KEYS))
def test_the_right_answer_comes_from_the_engine_for_each_attack(key: str) -> None:
    asked = spec(key)
    assert asked.prompt == ATTACK_PROMPT and asked.kind == "attack" and asked.attack == key
    assert [value for value, _ in asked.choices] == ["yes", "no"]
    assert set(asked.answers.values()) == {EXPECTED[key]}, asked.answers
    assert asked.answers.keys() == set(ENGINES)


def test_a_read_without_credentials_never_reads_the_secret() -> None:
    allowed = predict(SCENARIOS["wildcard-anonymous"])
    assert allowed.outcome == "allowed"
    assert reads_secret(allowed, "omit") == "no" and reads_secret(allowed, "include") == "yes"
    assert reads_secret(predict(SCENARIOS["allow-list-page"]), "include") == "no"


def result(engine: str, verdict: str, *, agreement: bool = True) -> Result:
    outcome = "blocked" if verdict == "refused" else "allowed"
    return Result(
        "run", engine.title(), engine, outcome, "allowed", agreement, (), 0.0,
        stolen=verdict == "stolen", verdict=verdict, reason=f"because {verdict}",
        recorded=(("origin", "http://localhost:8002"), ("status", 200)),
    )  # fmt: skip


def room_with(results: list[Result], key: str = "reflect-page") -> tuple[RoomStore, object]:
    counter = itertools.count(1)
    rooms = RoomStore(ids=lambda: next(counter))
    room = rooms.create("r")
    question = rooms.ask(room, spec(key))
    rooms.reveal(room, question)
    for number, found in enumerate(results, 1):
        attendee = rooms.join(room, f"{number:022d}", f"A{number}", engine=found.engine)
        rooms.sent(room, attendee, question, f"run{number}")
        rooms.record_result(room, attendee, question, found)
    return rooms, room


def test_the_results_per_engine_say_stolen_refused_or_kept_back_by_a_cookie_policy() -> None:
    _, room = room_with([
        result("chromium", "stolen"), result("chromium", "no-cookie"),
        result("firefox", "no-cookie"), result("webkit", "stolen", agreement=False),
        result("webkit", "anonymous"),
    ])  # fmt: skip
    question = room.current  # type: ignore[attr-defined]
    groups = {g["engine"]: g for g in attack_groups(question)}
    assert [g["engine"] for g in attack_groups(question)] == ["chromium", "firefox", "webkit"]
    counts = {e: (g["count"], g["stolen"], g["refused"], g["cookie"], g["nothing"], g["matched"])
              for e, g in groups.items()}  # fmt: skip
    assert counts == {
        "chromium": (2, 1, 0, 1, 0, 2),
        "firefox": (1, 0, 0, 1, 0, 1),
        "webkit": (2, 1, 0, 0, 1, 1),
    }
    assert groups["chromium"]["expected"] == "yes"
    said = " ".join(findings(question))
    assert "2 of 5 browsers kept the login cookie back" in said and "not CORS" in said
    assert question_host(room, question)["attack_groups"] == attack_groups(question)  # type: ignore[arg-type]


def test_a_refused_read_is_counted_as_refused_and_a_plain_question_has_no_attack_groups() -> None:
    _, room = room_with([result("firefox", "refused")], "allow-list-page")
    question = room.current  # type: ignore[attr-defined]
    (group,) = attack_groups(question)
    assert (group["refused"], group["expected"]) == (1, "no")
    assert "cookie" not in " ".join(findings(question))
    plain = Result("run", "Firefox", "firefox", "blocked", "blocked", True, (), 0.0)
    assert "verdict" not in result_json(plain)
    doc = result_json(result("firefox", "stolen"))
    assert doc["recorded"] == {"origin": "http://localhost:8002", "status": 200}
    assert (doc["stolen"], doc["verdict"], doc["reason"]) == (True, "stolen", "because stolen")


def test_the_result_event_carries_the_groups_per_engine() -> None:
    rooms, _ = room_with([result("chromium", "stolen")])
    events = [out for out in rooms.drain() if out.event.name in ("result", "results")]
    assert {out.audience for out in events} == {"host", "view"}
    assert all('"attack_groups":[{"engine":"chromium"' in out.event.data for out in events)


def test_the_exports_say_whether_the_secret_was_stolen() -> None:
    _, room = room_with([result("chromium", "stolen"), result("firefox", "no-cookie")])
    rows = list(csv.DictReader(io.StringIO(export_csv(room, {}))))  # type: ignore[arg-type]
    assert [(r["secret_stolen"], r["attack_verdict"]) for r in rows] == [
        ("yes", "stolen"),
        ("no", "no-cookie"),
    ]
    doc = export_json(room, {}, [])  # type: ignore[arg-type]
    assert doc["questions"][0]["attack"] == "reflect-page"
    assert doc["questions"][0]["attack_groups"][1]["cookie"] == 1
    assert doc["attendees"][1]["results"][0]["reason"] == "because no-cookie"


def test_an_attack_scenario_is_one_the_engine_reads() -> None:
    for key, scenario in SCENARIOS.items():
        assert isinstance(scenario, Scenario) and scenario.request.method == "GET", key
