"""The scenario format: ../shared/scenario-format.md"""

import pytest

from app.cors import Scenario, ScenarioError


def test_defaults_fill_a_minimal_scenario() -> None:
    s = Scenario.from_json({})
    assert s.request.method == "GET" and s.request.credentials == "same-origin"
    assert s.request.mode == "cors" and s.request.body is None
    assert s.preflight_response.status == 200 and s.response.headers == ()


def test_round_trip_keeps_order_and_duplicates() -> None:
    doc = {
        "id": "x",
        "origin": "http://a:1",
        "url": "http://b:2/",
        "request": {"method": "patch", "headers": [["A", "1"], ["A", "2"]],
                    "credentials": "include", "mode": "no-cors", "body": ""},
        "preflight_response": {"status": 204, "headers": [["X", "1"]]},
        "response": {"status": 500, "headers": [["Y", "1"], ["Y", "1"]]},
    }  # fmt: skip
    assert Scenario.from_json(doc).to_json() == doc


@pytest.mark.parametrize(
    ("doc", "field"),
    [([], "scenario"), ({"request": {"method": 1}}, "request.method"),
     ({"request": {"credentials": "all"}}, "request.credentials"),
     ({"request": {"mode": "same-origin"}}, "request.mode"),
     ({"request": {"headers": [["A"]]}}, "request.headers[0]"),
     ({"request": {"headers": "A: 1"}}, "request.headers"),
     ({"request": {"body": 5}}, "request.body"),
     ({"response": {"status": "200"}}, "response.status"),
     ({"preflight_response": {"status": 101}}, "preflight_response.status"),
     ({"response": {"headers": [["A", 1]]}}, "response.headers[0]"), ({"id": 3}, "id")],
)  # fmt: skip
def test_malformed_documents_name_the_field(doc: object, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json(doc)
    assert info.value.field == field
    assert info.value.message
