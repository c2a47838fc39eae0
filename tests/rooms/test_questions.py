"""app/rooms/questions.py: answers read off the engine for every kind, classics that teach."""

from __future__ import annotations

import pytest

from app.cors import Scenario, predict
from app.cors.engines import ENGINES
from app.rooms.questions import (
    CHECK_CHOICES,
    CLASSICS,
    KINDS,
    PAGE_ORIGIN,
    answer_of,
    document,
    for_page,
    spec_for,
)

PAGE = "http://localhost:8000"
API = "http://localhost:8001"


def scenario(doc: dict[str, object]) -> Scenario:
    return Scenario.from_json(for_page(doc, PAGE), default_origin=PAGE, default_url=API + "/r/x")


def predictions(s: Scenario) -> dict[str, object]:
    return {engine: predict(s, engine) for engine in ENGINES}


@pytest.mark.parametrize("classic", CLASSICS, ids=[c.key for c in CLASSICS])
def test_every_classic_is_a_valid_scenario_whose_answer_is_a_choice(classic: object) -> None:
    s = scenario(classic.scenario)  # type: ignore[attr-defined]
    spec = spec_for(
        "classic",
        classic.title,
        classic.kind,
        s,
        predictions(s),  # type: ignore[attr-defined,arg-type]
        why="-",
    )
    assert spec.expected in {value for value, _ in spec.choices}
    assert set(spec.answers) == set(ENGINES)


def test_each_check_is_named_as_the_engine_names_it() -> None:
    by_key = {c.key: c for c in CLASSICS}
    expected = {
        "custom-header": "allow-headers",
        "preflight-404": "preflight-status",
        "json-post": "preflight-cors-check",
        "credentials-not-allowed": "cors-check",
        "no-allow-origin": "cors-check",
    }
    for key, check in expected.items():
        s = scenario(by_key[key].scenario)
        assert answer_of("check", predict(s, "chromium")) == check, key
    assert {v for v, _ in CHECK_CHOICES} >= set(expected.values())


def test_a_scenario_is_kept_with_the_page_origin_as_a_placeholder() -> None:
    s = scenario({"response": {"headers": [["Access-Control-Allow-Origin", PAGE_ORIGIN]]}})
    doc = document(s)
    assert "origin" not in doc and "url" not in doc
    assert doc["response"]["headers"] == [["Access-Control-Allow-Origin", PAGE_ORIGIN]]
    other = for_page(doc, "http://10.0.0.5:8000")
    assert other["response"]["headers"] == [["Access-Control-Allow-Origin", "http://10.0.0.5:8000"]]


def test_every_kind_answers_from_a_prediction() -> None:
    s = scenario({"request": {"method": "PUT"}})
    p = predict(s, "chromium")
    for kind, (_, choices) in KINDS.items():
        assert answer_of(kind, p) in {v for v, _ in choices}
    with pytest.raises(ValueError):
        answer_of("nonsense", p)
