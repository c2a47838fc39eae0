"""The harness, in real WebKitGTK, reproduces the shared WebKit truth.

Every one of the 150 shared sample scenarios runs once (one WebKitWebDriver and Xvfb for the
test session); each becomes a test case comparing the harness's observation with what was
recorded from WebKitGTK 2.50. WebDriver gives WebKit no console messages and no network
events: ``console`` is empty and ``blocked_by`` null, in the truth and here.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.harness import Harness, shared_harness

from .conftest import load_json

SCENARIOS: list[dict[str, Any]] = load_json("sample-scenarios.json")
TRUTH: dict[str, Any] = load_json("webkit-sample-truth.json")
TRUTH_BY_ID = {result["id"]: result["truth"] for result in TRUTH["results"]}
FIELDS = (
    "preflight",
    "preflight_request",
    "actual_request_sent",
    "outcome",
    "readable_headers",
    "status",
    "error",
    "console",
    "actual_request_headers",
)
# Keys the harness adds to a blocked observation that the WebKit truth file does not record.
ADDED = ("blocked_by", "failed_parameter")


@pytest.fixture(scope="module")
def webkit() -> Harness:
    """The process-wide WebKit harness: one driver and display for the whole test session."""
    return shared_harness("webkit")


@pytest.fixture(scope="module")
def observations(webkit: Harness) -> dict[str, dict[str, Any]]:
    scenarios = [Scenario.from_json(doc) for doc in SCENARIOS]
    observed = webkit.observe(scenarios)
    return {doc["id"]: obs for doc, obs in zip(SCENARIOS, observed, strict=True)}


@pytest.mark.browser
def test_installed_webkit_is_the_truths_minor_version(webkit: Harness) -> None:
    recorded = TRUTH["browser"].split()[1].split(".")[:2]
    assert webkit.version.split()[0] == "WebKitGTK"
    assert webkit.version.split()[1].split(".")[:2] == recorded


@pytest.mark.browser
@pytest.mark.parametrize("scenario_id", [doc["id"] for doc in SCENARIOS])
def test_observation_matches_webkit_truth(
    observations: dict[str, dict[str, Any]], scenario_id: str
) -> None:
    truth, observed = TRUTH_BY_ID[scenario_id], observations[scenario_id]
    assert {f: observed.get(f) for f in FIELDS} == {f: truth.get(f) for f in FIELDS}
    assert [k for k in observed if k not in ADDED] == list(truth), "same keys, same order"
    if truth["outcome"] == "blocked":
        assert (observed["blocked_by"], observed["failed_parameter"]) == (None, None)
