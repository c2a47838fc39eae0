"""The harness, in real Firefox, reproduces the shared Firefox truth.

Every one of the 150 shared sample scenarios runs once (one Firefox for the test session);
each becomes a test case comparing the harness's observation with what was recorded from
headless Firefox ESR 153. The truth has no ``blocked_by`` (Firefox has no DevTools names): the
harness's is checked against the name its mapping gives the truth's own console message.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.harness import Harness, shared_harness
from app.harness.firefox import classify_reason, console_reason

from .conftest import load_json

SCENARIOS: list[dict[str, Any]] = load_json("sample-scenarios.json")
TRUTH: dict[str, Any] = load_json("firefox-sample-truth.json")
TRUTH_BY_ID = {result["id"]: result["truth"] for result in TRUTH["results"]}
# The fields the engine is judged on, then what shows that the rewriting maps back correctly
# and that the request arrived as Firefox sent it (scenarios run in file order in one fresh
# session, as the truth was recorded: even the cookie header matches).
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
# Keys the harness adds to a blocked observation that the Firefox truth file does not record.
ADDED = ("blocked_by", "failed_parameter")


@pytest.fixture(scope="module")
def firefox() -> Harness:
    """The process-wide Firefox harness: one browser for the whole test session."""
    return shared_harness("firefox")


@pytest.fixture(scope="module")
def observations(firefox: Harness) -> dict[str, dict[str, Any]]:
    scenarios = [Scenario.from_json(doc) for doc in SCENARIOS]
    observed = firefox.observe(scenarios)
    return {doc["id"]: obs for doc, obs in zip(SCENARIOS, observed, strict=True)}


def expected_blocked_by(truth: dict[str, Any]) -> str | None:
    preflight_stage = truth["preflight"] and not truth["actual_request_sent"]
    for message in truth["console"]:
        reason = console_reason(message)
        if reason is not None:
            name, _ = classify_reason(reason, preflight_stage=preflight_stage)
            if name is not None:
                return name
    return None


@pytest.mark.browser
def test_installed_firefox_is_the_truths_major_version(firefox: Harness) -> None:
    recorded = TRUTH["browser"].split()[1].split(".")[0]
    assert firefox.version.split()[0] == "Firefox"
    assert firefox.version.split()[1].split(".")[0] == recorded


@pytest.mark.browser
@pytest.mark.parametrize("scenario_id", [doc["id"] for doc in SCENARIOS])
def test_observation_matches_firefox_truth(
    observations: dict[str, dict[str, Any]], scenario_id: str
) -> None:
    truth, observed = TRUTH_BY_ID[scenario_id], observations[scenario_id]
    assert {f: observed.get(f) for f in FIELDS} == {f: truth.get(f) for f in FIELDS}
    assert [k for k in observed if k not in ADDED] == list(truth), "same keys, same order"
    if truth["outcome"] == "blocked":
        assert observed["blocked_by"] == expected_blocked_by(truth)
    else:
        assert "blocked_by" not in observed
