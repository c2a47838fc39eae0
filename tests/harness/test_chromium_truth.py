"""THE KEY TEST: the harness, in real Chromium, reproduces the shared Chromium truth.

Every one of the 150 shared sample scenarios runs once (one browser for the session); each
becomes a test case comparing the harness's observation with what was recorded from headless
Chromium 156. A difference here is almost always a harness bug, not a browser change.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.harness import Harness

from .conftest import load_json

SCENARIOS: list[dict[str, Any]] = load_json("sample-scenarios.json")
TRUTH: dict[str, Any] = load_json("chromium-sample-truth.json")
TRUTH_BY_ID = {result["id"]: result["truth"] for result in TRUTH["results"]}
# The fields the engine is judged on, then what shows that the rewriting maps back correctly
# and that the request arrived as Chromium sent it. Scenarios run one at a time in one fresh
# session, in file order, as the truth was recorded: even the cookie header matches.
FIELDS = (
    "preflight",
    "preflight_request",
    "actual_request_sent",
    "outcome",
    "blocked_by",
    "readable_headers",
    "status",
    "error",
    "failed_parameter",
    "console",
    "actual_request_headers",
)


@pytest.fixture(scope="module")
def observations(harness: Harness) -> dict[str, dict[str, Any]]:
    scenarios = [Scenario.from_json(doc) for doc in SCENARIOS]
    observed = harness.observe(scenarios)
    return {doc["id"]: obs for doc, obs in zip(SCENARIOS, observed, strict=True)}


@pytest.mark.browser
def test_installed_chromium_is_the_truths_major_version(harness: Harness) -> None:
    recorded = TRUTH["browser"].split()[1].split(".")[0]
    assert harness.version.split()[1].split(".")[0] == recorded


@pytest.mark.browser
@pytest.mark.parametrize("scenario_id", [doc["id"] for doc in SCENARIOS])
def test_observation_matches_chromium_truth(
    observations: dict[str, dict[str, Any]], scenario_id: str
) -> None:
    truth, observed = TRUTH_BY_ID[scenario_id], observations[scenario_id]
    assert {f: observed.get(f) for f in FIELDS} == {f: truth.get(f) for f in FIELDS}
    assert list(observed) == list(truth), "same keys in the same order as the truth file"
