"""The preflight-cache lab: sends to one URL, and the cache rules the cards explain with."""

from __future__ import annotations

import pytest

from app.cors import PROFILES, Scenario, predict
from app.labs import cache
from app.labs.registry import MAX_AGE_LIMIT, MAX_SENDS_PER_URL
from app.runs.errors import BadRequest
from app.runs.store import ExchangeKind, Run, RunStore
from tests.labs.conftest import PAIR, new_session, record, settle, stored

# --- sends to one URL ---------------------------------------------------------------------------


def test_a_new_url_preflights_a_put_with_the_chosen_max_age() -> None:
    made = cache.new_run(
        PAIR, {"max_age": "seconds", "seconds": "30", "credentials": "omit"}, [], run_id="a" * 16
    )
    assert made.id == "a" * 16 and made.url_id == ""
    scenario = made.scenario
    assert scenario.origin == PAIR.page and scenario.url == f"{PAIR.api}/r/{'a' * 16}"
    assert scenario.request.method == "PUT" and scenario.request.credentials == "omit"
    assert scenario.request.headers == (("X-Lab-Send", "1"),)
    assert scenario.preflight_response.status == 204
    assert ("Access-Control-Max-Age", "30") in scenario.preflight_response.headers
    assert ("Access-Control-Allow-Origin", PAIR.page) in scenario.response.headers


@pytest.mark.parametrize(
    ("form", "header"),
    [
        ({}, None),
        ({"max_age": "absent"}, None),
        ({"max_age": "0"}, "0"),
        ({"max_age": "seconds", "seconds": " 7 "}, "7"),
        ({"max_age": "seconds", "seconds": str(MAX_AGE_LIMIT)}, str(MAX_AGE_LIMIT)),
    ],
)
def test_the_max_age_choices(form: dict[str, str], header: str | None) -> None:
    run = Run("a" * 16, "s", cache.new_run(PAIR, form, []).scenario, predict(Scenario()), "t")
    assert cache.max_age_header(run) == header


@pytest.mark.parametrize(
    ("form", "field", "status"),
    [
        ({"max_age": "forever"}, "max_age", 422),
        ({"max_age": "seconds", "seconds": "0"}, "seconds", 422),
        ({"max_age": "seconds", "seconds": "-5"}, "seconds", 422),
        ({"max_age": "seconds", "seconds": str(MAX_AGE_LIMIT + 1)}, "seconds", 422),
        ({"credentials": "sometimes"}, "credentials", 422),
        ({"series": "not-a-url-id"}, "series", 404),
        ({"series": "z" * 22}, "series", 404),
    ],
)
def test_bad_choices_are_refused(form: dict[str, str], field: str, status: int) -> None:
    with pytest.raises(BadRequest) as refused:
        cache.new_run(PAIR, form, [])
    assert (refused.value.field, refused.value.status) == (field, status)


def test_sending_again_reuses_the_first_sends_url_and_answers_and_counts_on() -> None:
    store, session = new_session()
    first = stored(store, session, cache.new_run(PAIR, {"max_age": "0"}, []))
    again = cache.new_run(PAIR, {"series": first.id, "credentials": "include"}, [first])
    assert again.url_id == first.id and again.id != first.id
    assert again.scenario.url == first.target
    assert again.scenario.preflight_response == first.scenario.preflight_response
    assert again.scenario.response == first.scenario.response
    assert again.scenario.request.headers == (("X-Lab-Send", "2"),)
    assert again.scenario.request.credentials == "include"


def test_a_url_takes_a_bounded_number_of_sends() -> None:
    store, session = new_session()
    first = stored(store, session, cache.new_run(PAIR, {}, []))
    for _ in range(MAX_SENDS_PER_URL - 1):
        stored(store, session, cache.new_run(PAIR, {"series": first.id}, session.runs.values()))
    with pytest.raises(BadRequest) as refused:
        cache.new_run(PAIR, {"series": first.id}, session.runs.values())
    assert refused.value.status == 409 and "new URL" in refused.value.message


def test_series_group_sends_by_url_and_the_latest_sent_comes_first() -> None:
    store, session = new_session()
    a = stored(store, session, cache.new_run(PAIR, {}, []))
    b = stored(store, session, cache.new_run(PAIR, {}, []))
    a2 = stored(store, session, cache.new_run(PAIR, {"series": a.id}, [a, b]))
    b.created, a2.created = 2.0, 3.0
    runs = [a, b, a2]
    assert cache.series_of(runs) == {a.id: [a, a2], b.id: [b]}
    assert cache.series_newest_first(runs) == [[a, a2], [b]]
    a2.created = 1.0
    assert cache.series_newest_first(runs) == [[b], [a, a2]]


def test_a_run_answers_at_an_earlier_runs_url_until_it_is_forgotten() -> None:
    store = RunStore(runs_per_session=2)
    session = store.new_session()
    prediction = predict(Scenario())
    first = store.add_run(session, Scenario(), prediction, run_id="a" * 16, target="t")
    assert store.target(first.id) is first
    again = store.add_run(
        session, Scenario(), prediction, run_id="b" * 16, target="t", url_id=first.id
    )
    assert again.url_id == first.id
    assert store.target(first.id) is again  # the newest run answers there
    assert store.run(first.id) is first  # each run keeps its own id and page
    assert store.target(again.id) is None  # its own id is no URL
    store.add_run(session, Scenario(), prediction, run_id="c" * 16, target="t")  # evicts a
    assert store.run(first.id) is None
    assert store.target(first.id) is again  # forgetting the older run keeps the URL
    store.add_run(session, Scenario(), prediction, run_id="d" * 16, target="t")  # evicts b
    assert store.target(first.id) is None


# --- the cache rules behind the cards -----------------------------------------------------------


def _runs(
    max_age: str | None, sends: list[tuple[str, list[tuple[ExchangeKind, float]]]]
) -> list[Run]:
    """One URL's sends, each with its credentials mode and the legs that arrived (kind, time)."""
    store, session = new_session()
    if max_age is None or max_age == "0":
        form = {"max_age": "absent" if max_age is None else "0"}
    else:
        form = {"max_age": "seconds", "seconds": max_age}
    runs: list[Run] = []
    for credentials, legs in sends:
        series = {"series": runs[0].id} if runs else form
        made = cache.new_run(PAIR, {**series, "credentials": credentials}, runs)
        run = stored(store, session, made)
        for kind, at in legs:
            record(store, run, kind, at=at)
        runs.append(run)
    return runs


def _series(
    max_age: str | None, sends: list[tuple[str, list[tuple[ExchangeKind, float]]]]
) -> cache.CacheSeries:
    return cache.cache_series(_runs(max_age, sends), PROFILES["chromium"], now=100.0)


def test_cache_lifetime_is_max_age_or_the_default_capped_per_engine() -> None:
    for profile in PROFILES.values():
        assert cache.cache_lifetime(None, profile) == profile.max_age_default
        assert cache.cache_lifetime("0", profile) == 0
        huge = cache.cache_lifetime(str(MAX_AGE_LIMIT), profile)
        assert huge == (profile.max_age_cap or MAX_AGE_LIMIT)


def test_a_send_within_max_age_is_a_hit_and_after_it_a_miss() -> None:
    series = _series(
        "2",
        [
            ("omit", [("preflight", 10.0), ("actual", 10.0)]),
            ("omit", [("actual", 11.0)]),
            ("omit", [("preflight", 12.5), ("actual", 12.5)]),
        ],
    )
    observed = {s.number: s.observed for s in series.sends}
    assert observed == {1: "miss", 2: "hit", 3: "miss"}
    third = next(s for s in series.sends if s.number == 3)
    assert "expired 0.5 s before" in third.points[0].text
    assert series.entry is not None
    assert series.entry.number == 3 and series.remaining == 0.0  # long expired at now=100
    assert not any(p.tone == "finding" for s in series.sends for p in s.points)


def test_max_age_zero_never_reuses_and_a_hit_there_is_a_finding() -> None:
    series = _series(
        "0",
        [("omit", [("preflight", 10.0), ("actual", 10.0)]), ("omit", [("actual", 10.1)])],
    )
    second = next(s for s in series.sends if s.number == 2)
    assert second.observed == "hit" and second.points[0].tone == "finding"
    first = next(s for s in series.sends if s.number == 1)
    assert "Max-Age 0" in first.points[0].text


def test_an_entry_without_credentials_does_not_cover_include() -> None:
    series = _series(
        None,
        [
            ("omit", [("preflight", 10.0), ("actual", 10.0)]),
            ("include", [("preflight", 10.5), ("actual", 10.5)]),
            ("omit", [("actual", 11.0)]),
        ],
    )
    by_number = {s.number: s for s in series.sends}
    assert "without credentials" in by_number[2].points[0].text
    assert by_number[3].observed == "hit"
    assert "send 2" in by_number[3].points[0].text  # the credentialed entry covers it
    assert not any(p.tone == "finding" for s in series.sends for p in s.points)


def test_a_preflight_while_the_entry_should_live_is_a_finding() -> None:
    series = _series(
        "60",
        [
            ("omit", [("preflight", 10.0), ("actual", 10.0)]),
            ("omit", [("preflight", 20.0), ("actual", 20.0)]),
        ],
    )
    second = next(s for s in series.sends if s.number == 2)
    assert [p.tone for p in second.points][-1] == "finding"
    assert "still live (50.0 s left)" in second.points[-1].text


def test_a_hit_right_at_expiry_is_no_finding_but_well_after_it_is() -> None:
    at_the_edge = _series(
        "2", [("omit", [("preflight", 10.0), ("actual", 10.0)]), ("omit", [("actual", 12.2)])]
    )
    edge = next(s for s in at_the_edge.sends if s.number == 2)
    assert edge.observed == "hit" and edge.points[0].tone == "ok"
    assert "just as it expired" in edge.points[0].text
    late = _series(
        "2", [("omit", [("preflight", 10.0), ("actual", 10.0)]), ("omit", [("actual", 13.0)])]
    )
    assert next(s for s in late.sends if s.number == 2).points[0].tone == "finding"


def test_a_hit_after_the_first_sends_were_forgotten_is_no_finding() -> None:
    runs = _runs(
        None, [("omit", [("preflight", 10.0), ("actual", 10.0)]), ("omit", [("actual", 11.0)])]
    )
    # Drop send 1 as the run store would once the lab holds too many runs.
    forgotten = cache.cache_series(runs[1:], PROFILES["chromium"], now=100.0)
    assert forgotten.sends[0].points[0].tone == "ok"
    assert "no longer kept" in forgotten.sends[0].points[0].text


def test_the_series_counts_down_the_live_entry_and_names_the_cap_that_shortened_it() -> None:
    runs = _runs(str(MAX_AGE_LIMIT), [("include", [("preflight", 10.0), ("actual", 10.0)])])
    chromium = PROFILES["chromium"]
    series = cache.cache_series(runs, chromium, now=20.0)
    assert series.url_id == runs[0].id and series.url == runs[0].target
    assert series.max_age == str(MAX_AGE_LIMIT)
    assert series.lifetime == chromium.max_age_cap == series.capped_at
    assert series.entry is not None and series.entry.credentials
    assert series.remaining == pytest.approx(10.0 + series.lifetime - 20.0)
    assert not series.full
    uncapped = cache.cache_series(_runs("60", [("omit", [])]), chromium, now=0.0)
    assert uncapped.lifetime == 60 and uncapped.capped_at is None


def test_a_send_with_nothing_recorded_is_pending_then_lost() -> None:
    runs = _runs("2", [("omit", [])])
    assert cache.cache_series(runs, PROFILES["spec"], 0.0).sends[0].observed == "pending"
    settle(runs[0], "blocked")
    send = cache.cache_series(runs, PROFILES["spec"], 0.0).sends[0]
    assert send.observed == "lost" and send.points == ()
    assert cache.cache_series(runs, PROFILES["spec"], 0.0).entry is None


def test_the_sends_are_newest_first_and_a_full_url_says_so() -> None:
    series = _series("2", [("omit", [("actual", 10.0 + i)]) for i in range(MAX_SENDS_PER_URL)])
    assert [s.number for s in series.sends] == list(range(MAX_SENDS_PER_URL, 0, -1))
    assert series.full
