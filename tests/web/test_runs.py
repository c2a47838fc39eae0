"""app/runs/store.py: sessions and runs are bounded (in count and in bytes) and expire."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from app.cors import Scenario, predict
from app.runs.answers import added_readable_headers, framing_headers
from app.runs.errors import BadRequest
from app.runs.store import (
    DEFAULT_MAX_SESSIONS,
    DEFAULT_MAX_UNUSED_SESSIONS,
    DEFAULT_RUNS_PER_SESSION,
    RUN_BUDGET,
    RUN_OVERHEAD,
    SCENARIO_BUDGET,
    SESSION_BUDGET,
    SESSION_OVERHEAD,
    STORE_BUDGET,
    BrowserResult,
    Budgets,
    Exchange,
    RecordedRequest,
    RecordedResponse,
    RunStore,
    is_valid_id,
    new_id,
    worst_case_bytes,
)
from app.runs.validation import MAX_BODY_BYTES, scenario_from_json

PAGE, API = "http://localhost:8000", "http://localhost:8001"


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


# --- sessions in use and unused ---------------------------------------------------------------


def test_new_unused_sessions_never_evict_a_session_in_use() -> None:
    store = RunStore(max_sessions=3, max_unused_sessions=3)
    used = new_id()
    run_id = add(store, used)
    waiting = store.new_session()  # opened the page, did nothing yet
    for _ in range(1000):
        store.new_session()
    assert store.session(used) is not None and store.run(run_id) is not None
    assert store.session(waiting.id) is None  # unused ones make room for each other
    assert store.unused_count == 3 and len(store) == 4


def test_a_session_is_in_use_from_its_first_run_or_answer() -> None:
    store = RunStore(max_sessions=3, max_unused_sessions=1)
    answered = store.new_session()
    assert not store.is_used(answered)
    store.mark_used(answered)  # e.g. a lesson's question answered
    sent = store.new_session()
    add(store, sent.id)
    store.new_session()
    store.new_session()
    assert store.is_used(answered) and store.is_used(sent)
    assert store.session(answered.id) is answered and store.session(sent.id) is sent


# --- byte budgets -----------------------------------------------------------------------------

SMALL = Budgets(
    scenario=8 * 1024, exchange=4 * 1024, exchanges=10 * 1024, result=4 * 1024,
    session=24 * 1024, store=60 * 1024,
)  # fmt: skip


def leg(headers: tuple[tuple[str, str], ...] = ()) -> Exchange:
    request = RecordedRequest("GET", "/r/x", headers, 0)
    return Exchange("actual", request, RecordedResponse(200, (), 0), 0)


def test_the_store_evicts_by_bytes_least_recently_used_sessions_first() -> None:
    clock = Clock()
    store = RunStore(budgets=SMALL, clock=clock)
    sessions = []
    for _ in range(8):
        clock.now += 1
        sid = new_id()
        for _ in range(2):
            add(store, sid)
        sessions.append(sid)
        assert store.size <= SMALL.store
    kept = [store.session(sid) is not None for sid in sessions]
    assert kept == sorted(kept) and not kept[0] and kept[-1]  # the oldest went first
    assert len(store) < 8  # far below the count limit: bytes decided
    assert store.size == sum(s.size for sid in sessions if (s := store.session(sid)))
    assert store.run_count == 2 * sum(kept)


def test_a_session_over_its_budget_lets_its_oldest_runs_go() -> None:
    store = RunStore(budgets=SMALL)
    sid = new_id()
    ids = [add(store, sid) for _ in range(20)]
    session = store.session(sid)
    assert session is not None and session.size <= SMALL.session
    kept = [store.run(i) is not None for i in ids]
    assert kept == sorted(kept) and kept[-1] and not kept[0]


def test_an_oversized_leg_is_cut_down_with_a_note() -> None:
    store = RunStore(budgets=SMALL)
    run = store.run(add(store, new_id()))
    assert run is not None
    before = run.size
    many = tuple((f"X-Many-{i}", "") for i in range(400))
    headers = (("Origin", "http://localhost:8000"), ("Cookie", "c=" + "x" * 20_000), *many)
    assert store.record(run, leg(headers))
    kept = run.exchanges[0]
    assert run.size - before == run.exchanges_size <= SMALL.exchange
    assert kept.request.header("origin") == "http://localhost:8000"
    assert kept.request.header("cookie") == "c=" + "x" * 254 + "..."
    assert "1 header value shortened" in kept.note and "headers left out" in kept.note
    assert kept.to_json()["note"] == kept.note
    # Past the run's budget for legs, a leg is answered and counted but not kept.
    while store.record(run, leg(headers)):
        pass
    assert run.exchanges_size <= SMALL.exchanges and run.exchanges_dropped == 1
    assert run.size <= SMALL.run


def test_a_scenario_or_result_over_its_budget_is_refused() -> None:
    store = RunStore(budgets=SMALL)
    session = store.new_session()
    big = Scenario.from_json({"request": {"method": "POST", "body": "b" * 10_000}})
    with pytest.raises(BadRequest) as refused:
        store.add_run(session, big, predict(big), run_id=new_id(), target="t")
    assert refused.value.status == 413 and "too large to keep" in refused.value.message
    assert store.run_count == 0 and not store.is_used(session)
    run = store.run(add(store, session.id))
    assert run is not None
    result = BrowserResult("allowed", 200, (), (("x", "y" * 5000),), None, None, "UA", "B")
    with pytest.raises(BadRequest):
        store.finish(run, result, ())
    assert run.browser_result is None
    small = BrowserResult("allowed", 200, (), (), "ok", None, "UA", "B")
    store.finish(run, small, ())
    assert run.browser_result is small and store.size == store.session(session.id).size  # type: ignore[union-attr]


def test_the_worst_case_the_limits_allow_stays_under_one_gib() -> None:
    """The most every store budget and count allows at once, by the store's own estimate."""
    worst = worst_case_bytes(DEFAULT_MAX_SESSIONS, DEFAULT_MAX_UNUSED_SESSIONS)
    assert worst == STORE_BUDGET + DEFAULT_MAX_UNUSED_SESSIONS * SESSION_OVERHEAD
    assert worst < 1024**3
    # Without the store's budget, the counts alone would allow far more.
    assert DEFAULT_MAX_SESSIONS * DEFAULT_RUNS_PER_SESSION * RUN_BUDGET > 10 * 1024**3
    assert SESSION_BUDGET >= RUN_BUDGET  # a session always holds its newest run


def fresh(text: str) -> str:
    """A new string object (not one shared with a constant), as a request's parser makes."""
    return text.encode().decode()


def largest_scenario_doc() -> dict[str, Any]:
    """A scenario at validation's limits, shaped to make the largest prediction found: an
    astral character makes every character of the body take 4 bytes."""

    def rows(name: str, value: str) -> list[list[str]]:
        return [[fresh(name if i == 0 else f"{name}-{i:02d}"), fresh(value)] for i in range(32)]

    return {
        "id": fresh("\U0001f600" * 30),
        "request": {"method": "PUT", "headers": rows("X-Row", "v" * 480), "credentials": "include",
                    "body": fresh("\U0001f600" + "b" * (MAX_BODY_BYTES - 536))},
        "preflight_response": {"status": 204, "headers": [
            [fresh("Access-Control-Allow-Origin"), fresh("v" * 480)] for _ in range(32)]},
        "response": {"headers": [
            [fresh("Access-Control-Expose-Headers"), fresh(",".join(["h" * 14] * 32))]
            for _ in range(32)]},
    }  # fmt: skip


def typical_scenario_doc() -> dict[str, Any]:
    return {
        "request": {"method": "PUT", "headers": [["Content-Type", "application/json"]],
                    "body": '{"hello": "cors"}'},
        "preflight_response": {"status": 204, "headers": [
            ["Access-Control-Allow-Origin", "http://localhost:8000"],
            ["Access-Control-Allow-Methods", "PUT"]]},
    }  # fmt: skip


def checked(doc: dict[str, Any]) -> Scenario:
    found = scenario_from_json(doc, default_origin=PAGE, default_url=API)
    assert found.scenario is not None, found.errors
    return found.scenario


def test_every_valid_scenario_fits_the_scenario_budget() -> None:
    store = RunStore()
    run = store.start_run(store.new_session(), checked(largest_scenario_doc()), API, "chromium")
    assert run.size - RUN_OVERHEAD <= SCENARIO_BUDGET


@pytest.mark.parametrize("make, legs", [(typical_scenario_doc, 2), (largest_scenario_doc, 16)])
def test_the_estimate_is_at_least_the_memory_a_run_takes(
    make: Callable[[], dict[str, Any]], legs: int
) -> None:
    """footprint() never undercounts: measured with tracemalloc, for a typical run and for a
    run at validation's limits (so the worst case above bounds memory, not only an estimate)."""
    store = RunStore()
    session = store.new_session()
    store.mark_used(session)
    predict(checked(make()))  # the engine's caches warm outside the measurement
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run = store.start_run(session, checked(make()), API, "chromium")
        for _ in range(legs):
            headers = tuple(
                (fresh(f"sec-header-{i}"), fresh(f"value {i} " + "v" * 40)) for i in range(16)
            )
            request = RecordedRequest("PUT", fresh(f"/r/{run.id}"), headers, 17)
            store.record(run, Exchange("actual", request, RecordedResponse(200, (), 0), 0))
        store.finish(run, BrowserResult("allowed", 200, (), (), "ok", None, "UA", "B"), ())
        gc.collect()
        taken = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(run.exchanges) == legs
    assert taken <= run.size


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
