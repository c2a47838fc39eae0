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


@pytest.mark.parametrize(
    ("doc", "field", "meant"),
    [({"reqest": {}}, "reqest", "request"),
     ({"preflight_respnse": {"status": 204}}, "preflight_respnse", "preflight_response"),
     ({"request": {"metod": "PUT"}}, "request.metod", "method"),
     ({"request": {"header": []}}, "request.header", "headers"),
     ({"response": {"Status": 200}}, "response.Status", "status"),
     ({"preflight_response": {"headrs": []}}, "preflight_response.headrs", "headers"),
     ({"Origin": "http://a.test"}, "Origin", "origin")],
)  # fmt: skip
def test_an_unknown_key_is_an_error_suggesting_the_key_meant(
    doc: object, field: str, meant: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json(doc)
    assert info.value.field == field
    assert f"unknown key '{field.rsplit('.', 1)[-1]}'" in info.value.message
    assert f"(did you mean '{meant}'?)" in info.value.message


def test_an_unknown_key_with_no_close_match_lists_the_keys() -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json({"mutations": []})
    assert info.value.field == "mutations"
    assert "did you mean" not in info.value.message
    assert "id, origin, url, request, preflight_response, response" in info.value.message


@pytest.mark.parametrize(("doc", "field"), [({"hops": [{"url": "http://a.test/", "respnse": {}}]},
                                             "hops[0].respnse"),
                                            ({"request": {"redirekt": "follow"}},
                                             "request.redirekt")])  # fmt: skip
def test_version_2_keys_are_read_and_misspelled_ones_refused(doc: object, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json(doc)
    assert info.value.field == field and "did you mean" in info.value.message


@pytest.mark.parametrize(
    ("origin", "words", "meant"),
    [("localhost:8000", "no scheme", "http://localhost:8000"),
     ("http://localhost:8000/", "has a path", "http://localhost:8000"),
     ("http://localhost:8000/app", "has a path", "http://localhost:8000"),
     ("HTTP://LocalHost:8000", "capital letters", "http://localhost:8000"),
     ("http://localhost:80", "default port", "http://localhost"),
     ("https://a.example:443", "default port", "https://a.example"),
     ("http://user@a.example", "user info", "http://a.example"),
     ("http://bücher.example", "not ASCII", "http://xn--bcher-kva.example"),
     (" http://a.example", "spaces", "http://a.example"),
     ("file:///tmp/x", "scheme 'file'", None),
     ("ws://a.example", "scheme 'ws'", None),
     ("http://a.example:99999", "no valid host and port", None),
     ("http://a b", "no valid host and port", None),
     ("http://", "no valid host and port", None),
     ("", "empty", None)],
)  # fmt: skip
def test_an_origin_that_is_not_serialized_is_an_error_saying_what_was_expected(
    origin: str, words: str, meant: str | None
) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json({"origin": origin})
    assert info.value.field == "origin"
    assert words in info.value.message
    assert "an origin is http:// or https://, a host and an optional :port" in info.value.message
    if meant:
        assert f"(did you mean '{meant}'?)" in info.value.message
    else:
        assert "did you mean" not in info.value.message


@pytest.mark.parametrize(
    "origin",
    ["null", "http://localhost:8000", "https://a.example", "http://127.0.0.1:1",
     "http://[::1]:8000", "http://xn--bcher-kva.example:8080"],
)  # fmt: skip
def test_serialized_origins_and_null_are_accepted(origin: str) -> None:
    assert Scenario.from_json({"origin": origin}).origin == origin
