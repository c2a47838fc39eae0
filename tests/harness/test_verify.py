"""Comparing engine predictions with browser observations, and the verify command."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

import app.cors
from app.cors.scenario import FetchSequence, Scenario
from app.harness import Harness, HarnessError, compare, run_verify
from app.harness import verify as verify_module

ALLOWED_OBS: dict[str, Any] = {
    "preflight": True,
    "actual_request_sent": True,
    "preflight_request": {
        "access-control-request-method": "PUT",
        "access-control-request-headers": "x-a",
    },
    "outcome": "allowed",
    "readable_headers": ["content-type", "x-b"],
    "status": 200,
    "console": [],
}


def prediction(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "p",
        "preflight": True,
        "preflight_request": {
            "method": "OPTIONS",
            "headers": [
                ["Origin", "http://localhost:8701"],
                ["Access-Control-Request-Method", "PUT"],
                ["Access-Control-Request-Headers", "x-a"],
            ],
        },
        "actual_request_sent": True,
        "outcome": "allowed",
        "blocked_by": None,
        "readable_headers": ["x-b", "content-type"],
    }
    doc.update(overrides)
    return doc


def test_agreement_is_an_empty_list() -> None:
    assert compare(prediction(), ALLOWED_OBS) == []


def test_preflight_request_headers_are_compared() -> None:
    predicted = prediction(
        preflight_request={
            "method": "OPTIONS",
            "headers": [["Access-Control-Request-Method", "put"]],
        }
    )
    found = {(d.field, d.predicted, d.observed) for d in compare(predicted, ALLOWED_OBS)}
    assert found == {
        ("access-control-request-method", "put", "PUT"),
        ("access-control-request-headers", None, "x-a"),
    }


def test_outcome_and_blocked_by_differences_without_follow_on_noise() -> None:
    blocked = {
        "preflight": True,
        "actual_request_sent": False,
        "preflight_request": ALLOWED_OBS["preflight_request"],
        "outcome": "blocked",
        "error": "TypeError: Failed to fetch",
        "blocked_by": "HeaderDisallowedByPreflightResponse",
        "failed_parameter": "x-a",
        "console": [],
    }
    fields = [d.field for d in compare(prediction(), blocked)]
    assert fields == ["actual_request_sent", "outcome", "blocked_by"]


def test_preflight_disagreement_is_one_finding() -> None:
    observed = dict(ALLOWED_OBS, preflight=False)
    del observed["preflight_request"]
    assert [d.field for d in compare(prediction(), observed)] == ["preflight"]


def test_readable_headers_compare_as_lowercase_sets() -> None:
    assert compare(prediction(readable_headers=["X-B", "Content-Type"]), ALLOWED_OBS) == []
    (diff,) = compare(prediction(readable_headers=["x-b"]), ALLOWED_OBS)
    assert (diff.field, diff.predicted, diff.observed) == (
        "readable_headers",
        ["x-b"],
        ["content-type", "x-b"],
    )
    assert str(diff) == 'readable_headers: engine ["x-b"], browser ["content-type", "x-b"]'


def test_unknown_browser_exits_2_with_a_message() -> None:
    err = io.StringIO()
    assert run_verify([], browser="netscape", out=io.StringIO(), err=err) == 2
    assert "unknown browser 'netscape'" in err.getvalue()


def test_unavailable_browser_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(browser: str) -> Harness:
        raise HarnessError("no browser here")

    monkeypatch.setattr(verify_module, "shared_harness", unavailable)
    err = io.StringIO()
    assert run_verify([Scenario()], out=io.StringIO(), err=err) == 2
    assert "no browser here" in err.getvalue()


class _Fixed:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def to_json(self) -> dict[str, Any]:
        return self.doc


SIMPLE = Scenario.from_json(
    {
        "id": "simple-get",
        "origin": "http://localhost:8701",
        "url": "http://localhost:8702/t/a",
        "response": {
            "status": 200,
            "headers": [["Access-Control-Allow-Origin", "*"], ["Content-Type", "text/plain"]],
        },
    }
)
SIMPLE_PREDICTION = {
    "id": "simple-get",
    "preflight": False,
    "preflight_request": None,
    "actual_request_sent": True,
    "outcome": "allowed",
    "blocked_by": None,
    "readable_headers": ["content-type"],
}


@pytest.fixture
def use_session_harness(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "shared_harness", lambda browser: harness)


@pytest.mark.browser
@pytest.mark.usefixtures("use_session_harness")
def test_verify_exits_0_when_engine_and_browser_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.cors, "predict", lambda s, browser: _Fixed(SIMPLE_PREDICTION))
    out = io.StringIO()
    assert run_verify([SIMPLE], out=out, err=io.StringIO()) == 0
    assert out.getvalue().endswith(": 1 agree, 0 disagree\n")


@pytest.mark.browser
@pytest.mark.usefixtures("use_session_harness")
def test_verify_reports_each_disagreement_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = dict(SIMPLE_PREDICTION, preflight=True, readable_headers=[])
    monkeypatch.setattr(app.cors, "predict", lambda s, browser: _Fixed(wrong))
    out = io.StringIO()
    assert run_verify([SIMPLE], out=out, err=io.StringIO()) == 1
    text = out.getvalue()
    assert "DISAGREE simple-get: Chromium" in text
    assert "preflight: engine true, browser false" in text
    assert 'readable_headers: engine [], browser ["content-type"]' in text
    assert text.endswith(": 0 agree, 1 disagree\n")


@pytest.mark.browser
@pytest.mark.usefixtures("use_session_harness")
def test_verify_json_report(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(scenario: Scenario, browser: str) -> _Fixed:
        raise ValueError("engine bug")

    monkeypatch.setattr(app.cors, "predict", broken)
    out = io.StringIO()
    assert run_verify([SIMPLE], as_json=True, out=out, err=io.StringIO()) == 1
    report = json.loads(out.getvalue())
    assert report["browser"].startswith("Chromium ")
    assert report["summary"] == {"total": 1, "agree": 0, "disagree": 1}
    (result,) = report["results"]
    assert result["id"] == "simple-get"
    assert result["disagreements"] == [
        {"field": "prediction", "predicted": "ValueError: engine bug", "observed": None}
    ]
    assert result["observation"]["readable_headers"] == ["content-type"]


@pytest.mark.browser
@pytest.mark.usefixtures("use_session_harness")
def test_verify_compares_whole_fetches_and_sequences_leg_by_leg() -> None:
    chain = Scenario.from_json(
        {
            "id": "chain",
            "origin": "http://localhost:8701",
            "url": "http://localhost:8702/t/a",
            "request": {"method": "PUT", "body": "x"},
            "preflight_response": {"status": 204, "headers": [
                ["Access-Control-Allow-Origin", "*"], ["Access-Control-Allow-Methods", "PUT"]]},
            "response": {"status": 307, "headers": [
                ["Access-Control-Allow-Origin", "*"], ["Location", "http://127.0.0.1:8703/t/b"]]},
            "hops": [{"url": "http://127.0.0.1:8703/t/b",
                      "preflight_response": {"status": 204, "headers": [
                          ["Access-Control-Allow-Origin", "*"],
                          ["Access-Control-Allow-Methods", "PUT"]]},
                      "response": {"status": 200, "headers": [
                          ["Access-Control-Allow-Origin", "*"]]}}],
        }
    )  # fmt: skip
    twice = [{"at": 0, "scenario": chain.to_json()}, {"at": 0.5, "scenario": chain.to_json()}]
    cached = FetchSequence.from_json({"id": "cached", "sequence": twice})
    out = io.StringIO()
    assert run_verify([chain, cached], as_json=True, out=out, err=io.StringIO()) == 0
    report = json.loads(out.getvalue())
    first, second = report["results"]
    assert [leg["kind"] for leg in first["observation"]["legs"]] == [
        "preflight", "actual", "preflight", "actual"]  # fmt: skip
    assert first["observation"]["legs"][3]["origin"] == "null"
    assert [o["preflight_cache"] for o in second["observation"]["sequence"]] == ["miss", "hit"]
