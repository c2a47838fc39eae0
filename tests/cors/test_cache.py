"""The CORS-preflight cache: https://fetch.spec.whatwg.org/#cors-preflight-cache"""

from __future__ import annotations

from typing import Any

import pytest

from app.cors import get_profile
from app.cors.browser import predict_sequence
from app.cors.cache import preflight_max_age
from app.cors.scenario import FetchSequence, Scenario, ScenarioError

PAGE = "http://localhost:8000"
URL = "http://localhost:8001/r/c"


def fetch(
    method: str = "PUT",
    headers: list[tuple[str, str]] | None = None,
    *,
    credentials: str = "same-origin",
    allow_methods: str = "PUT",
    allow_headers: str | None = None,
    max_age: str | None = None,
    url: str = URL,
) -> dict[str, Any]:
    answer = [("Access-Control-Allow-Origin", PAGE), ("Access-Control-Allow-Credentials", "true"),
              ("Access-Control-Allow-Methods", allow_methods)]  # fmt: skip
    if allow_headers is not None:
        answer.append(("Access-Control-Allow-Headers", allow_headers))
    if max_age is not None:
        answer.append(("Access-Control-Max-Age", max_age))
    return {
        "origin": PAGE,
        "url": url,
        "request": {"method": method, "headers": headers or [], "credentials": credentials},
        "preflight_response": {"status": 204, "headers": answer},
        "response": {"status": 200, "headers": answer[:2]},
    }


def cache_results(*items: tuple[float, dict[str, Any]], browser: str = "spec") -> list[Any]:
    doc = {"sequence": [{"at": at, "scenario": s} for at, s in items]}
    return [p.preflight_cache for p in predict_sequence(FetchSequence.from_json(doc), browser)
            .predictions]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 5), ("3", 3), ("0", 0), ("-1", 5), ("abc", 5), (" 7 ", 7), ("3, 4", 5), ("1e3", 5)],
)
def test_max_age_parses_delta_seconds_else_the_default(value: str | None, seconds: int) -> None:
    headers = [] if value is None else [("Access-Control-Max-Age", value)]
    assert preflight_max_age(headers, get_profile("spec")).seconds == seconds


@pytest.mark.parametrize(("browser", "cap"), [("chromium", 7200), ("firefox", 86400),
                                              ("webkit", 600)])  # fmt: skip
def test_each_browser_caps_max_age(browser: str, cap: int) -> None:
    assert (
        preflight_max_age([("Access-Control-Max-Age", "999999")], get_profile(browser)).seconds
        == cap
    )


def test_a_second_fetch_within_max_age_hits_and_after_it_misses() -> None:
    assert cache_results((0, fetch(max_age="2")), (1, fetch()), (3, fetch())) == [
        "miss", "hit", "miss"]  # fmt: skip


def test_the_default_is_five_seconds_and_zero_caches_nothing() -> None:
    assert cache_results((0, fetch()), (4, fetch())) == ["miss", "hit"]
    assert cache_results((0, fetch(max_age="0")), (0, fetch())) == ["miss", "miss"]


def test_no_preflight_needed_is_null() -> None:
    assert cache_results((0, fetch("GET")))[0] is None


def test_an_entry_covers_each_allowed_method_and_header_name() -> None:
    first = fetch(allow_methods="PUT, DELETE", allow_headers="x-a, x-b")
    assert cache_results((0, first), (1, fetch("DELETE", [("X-B", "1")]))) == ["miss", "hit"]
    assert cache_results((0, first), (1, fetch("PATCH")))[1] == "miss"


def test_an_entry_is_per_url_and_origin() -> None:
    assert cache_results((0, fetch()), (1, fetch(url=URL + "2"))) == ["miss", "miss"]


def test_credentials_entries_serve_every_mode_but_not_the_reverse() -> None:
    include, plain = fetch(credentials="include"), fetch()
    assert cache_results((0, include), (1, plain)) == ["miss", "hit"]
    assert cache_results((0, plain), (1, include)) == ["miss", "miss"]
    # Deviation (firefox): an entry serves only its own credentials mode.
    assert cache_results((0, include), (1, plain), browser="firefox") == ["miss", "miss"]


def test_a_wildcard_covers_any_method_without_credentials() -> None:
    star = fetch(allow_methods="*", allow_headers="*")
    later = fetch("DELETE", [("X-Z", "1")])
    assert cache_results((0, star), (1, later)) == ["miss", "hit"]
    # Deviation (firefox): a cached * covers nothing.
    assert cache_results((0, star), (1, later), browser="firefox") == ["miss", "miss"]


def test_a_failed_preflight_clears_the_entry() -> None:
    ok = fetch("patch", allow_methods="patch, DELETE")
    refused = fetch("PATCH", allow_methods="patch, DELETE")
    assert cache_results((0, ok), (0.3, refused), (0.6, ok)) == ["miss", "miss", "miss"]
    # Deviation (webkit): the entry survives the failure.
    assert cache_results((0, ok), (0.3, refused), (0.6, ok), browser="webkit") == [
        "miss", "miss", "hit"]  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"sequence": []}, "sequence"),
        ({"sequence": [{"at": 0, "scenario": {}}] * 21}, "sequence"),
        ({"sequence": [{"at": 2, "scenario": {}}, {"at": 1, "scenario": {}}]}, "sequence[1].at"),
        ({"sequence": [{"at": -1, "scenario": {}}]}, "sequence[0].at"),
        ({"sequence": [{"at": True, "scenario": {}}]}, "sequence[0].at"),
        ({"sequence": [{"at": 0, "scenario": {"sequence": []}}]}, "sequence[0].scenario.sequence"),
    ],
)  # fmt: skip
def test_a_bad_sequence_is_refused_naming_the_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        FetchSequence.from_json(doc)
    assert caught.value.field == field


def test_a_scenario_is_never_a_sequence() -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_json({"sequence": [{"at": 0, "scenario": {}}]})
    assert caught.value.field == "sequence" and "one fetch" in caught.value.message
