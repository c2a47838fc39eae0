"""app/web/runs.py: sessions and runs are bounded and expire."""

from __future__ import annotations

from app.cors import Scenario, predict
from app.runs.answers import added_readable_headers, framing_headers
from app.runs.store import (
    Exchange,
    RecordedRequest,
    RecordedResponse,
    RunStore,
    is_valid_id,
    new_id,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def add(store: RunStore, session_id: str) -> str:
    session = store.session(session_id, create=True)
    assert session is not None
    scenario = Scenario()
    run = store.add_run(session, scenario, predict(scenario), run_id=new_id(), target="t")
    return run.id


def test_ids_are_unguessable_and_checked() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(is_valid_id(i) and len(i) >= 22 for i in ids)
    assert not is_valid_id("../etc") and not is_valid_id("short")


def test_runs_per_session_are_bounded_oldest_first() -> None:
    store = RunStore(runs_per_session=3)
    sid = new_id()
    ids = [add(store, sid) for _ in range(5)]
    assert [store.run(i) is not None for i in ids] == [False, False, True, True, True]
    assert store.run_count == 3


def test_sessions_are_bounded_least_recently_used_first() -> None:
    store = RunStore(max_sessions=2)
    a, b, c = new_id(), new_id(), new_id()
    run_a = add(store, a)
    add(store, b)
    store.session(a)  # a is used again; b is now the oldest
    add(store, c)
    assert store.session(b) is None and store.session(a) is not None
    assert store.run(run_a) is not None and len(store) == 2


def test_idle_sessions_expire_with_their_runs() -> None:
    clock = Clock()
    store = RunStore(session_ttl=60, clock=clock)
    sid = new_id()
    run_id = add(store, sid)
    clock.now = 61
    assert store.run(run_id) is None and store.session(sid) is None and store.run_count == 0


def test_exchanges_per_run_are_bounded() -> None:
    store = RunStore(exchanges_per_run=2)
    run = store.run(add(store, new_id()))
    assert run is not None
    exchange = Exchange(
        "actual", RecordedRequest("GET", "/", (), 0), RecordedResponse(200, (), 0), 0
    )
    assert [store.record(run, exchange) for _ in range(3)] == [True, True, False]
    assert len(run.exchanges) == 2 and run.exchanges_dropped == 1


def test_unknown_or_malformed_sessions_are_not_created_implicitly() -> None:
    store = RunStore()
    assert store.session(new_id()) is None
    assert store.session("not valid!", create=True) is None


# --- what the API origin adds to an answer, and what JavaScript can read of it ---------------

ALLOWED = {
    "origin": "http://localhost:8000",
    "url": "http://localhost:8001/r/x",
    "response": {"headers": [["Access-Control-Allow-Origin", "http://localhost:8000"],
                             ["Content-Type", "text/plain"], ["X-Hidden", "1"]]},
}  # fmt: skip


def test_content_length_is_added_for_framing_and_never_without_a_body() -> None:
    assert framing_headers(200, 77) == (("Content-Length", "77"),)
    assert framing_headers(204, 0) == framing_headers(304, 0) == ()


def test_javascript_also_reads_the_content_length_the_api_origin_adds() -> None:
    scenario = Scenario.from_json(ALLOWED)
    prediction = predict(scenario)
    # The engine decides over the declared headers, exactly: Content-Length is not one of them.
    assert prediction.readable_headers == ("content-type",)
    assert added_readable_headers(scenario, prediction) == ("content-length",)
    for browser in ("firefox", "webkit", "spec"):
        assert added_readable_headers(scenario, predict(scenario, browser)) == ("content-length",)


def test_nothing_is_added_without_a_body_or_when_javascript_reads_nothing() -> None:
    no_body = Scenario.from_json({**ALLOWED, "response": {**ALLOWED["response"], "status": 204}})
    assert added_readable_headers(no_body, predict(no_body)) == ()
    blocked = Scenario.from_json({**ALLOWED, "response": {"headers": []}})
    assert added_readable_headers(blocked, predict(blocked)) == ()
