"""THE KEY TEST: the harness, in each real browser, reproduces that browser's shared truth.

Every one of the 150 shared sample scenarios runs once per browser (one Chromium, one Firefox,
one WebKitWebDriver and Xvfb for the test session); each becomes a test case comparing the
harness's observation with what was recorded from headless Chromium 156, headless Firefox ESR
153 or WebKitGTK 2.50. Scenarios run one at a time in one fresh session, in file order, as the
truth was recorded: even the cookie header matches. A difference here is almost always a
harness bug, not a browser change.

What each truth records of the failed check differs:

- Chromium's has ``blocked_by`` and ``failed_parameter`` (DevTools names), compared exactly;
- Firefox's has neither (Firefox has no DevTools names): the harness's ``blocked_by`` is
  checked against the name its mapping gives the truth's own console message;
- WebKit's has neither: WebDriver gives WebKit no console messages and no network events, so
  ``console`` is empty and ``blocked_by`` and ``failed_parameter`` null, in the truth and here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.cors.scenario import Scenario
from app.generate import scenario_document
from app.harness import Harness
from app.harness.firefox import classify_reason, console_reason

from .conftest import BROWSERS, load_json

SCENARIOS: list[dict[str, Any]] = load_json("sample-scenarios.json")
# The fields the engine is judged on, then what shows that the rewriting maps back correctly
# and that the request arrived as the browser sent it.
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
CHECK = ("blocked_by", "failed_parameter")


def firefox_blocked_by(truth: dict[str, Any]) -> dict[str, Any]:
    """The name Firefox's mapping gives the truth's own console message."""
    preflight_stage = truth["preflight"] and not truth["actual_request_sent"]
    for message in truth["console"]:
        reason = console_reason(message)
        if reason is not None:
            name, _ = classify_reason(reason, preflight_stage=preflight_stage)
            if name is not None:
                return {"blocked_by": name}
    return {"blocked_by": None}


@dataclass(frozen=True)
class Truth:
    """One browser's truth file and how the harness's observations are held against it."""

    file: str
    product: str
    # How much of the version the installed browser shares with the recorded one.
    version_parts: int
    # Fields of a blocked observation compared exactly with the truth (beyond FIELDS).
    recorded: tuple[str, ...]
    # Keys the harness adds to a blocked observation that the truth file does not record.
    added: tuple[str, ...]
    # For a blocked scenario: what the harness's added keys must say.
    blocked: Callable[[dict[str, Any]], dict[str, Any]]

    def load(self) -> tuple[str, dict[str, dict[str, Any]]]:
        doc = load_json(self.file)
        return doc["browser"], {result["id"]: result["truth"] for result in doc["results"]}


TRUTHS: dict[str, Truth] = {
    "chromium": Truth(
        file="chromium-sample-truth.json",
        product="Chromium",
        version_parts=1,
        recorded=CHECK,
        added=(),
        blocked=lambda truth: {},
    ),
    "firefox": Truth(
        file="firefox-sample-truth.json",
        product="Firefox",
        version_parts=1,
        recorded=(),
        added=CHECK,
        blocked=firefox_blocked_by,
    ),
    "webkit": Truth(
        file="webkit-sample-truth.json",
        product="WebKitGTK",
        version_parts=2,
        recorded=(),
        added=CHECK,
        blocked=lambda truth: {"blocked_by": None, "failed_parameter": None},
    ),
}
RECORDED = {browser: TRUTHS[browser].load() for browser in BROWSERS}
CASES = [
    pytest.param(browser, doc["id"], id=f"{browser}-{doc['id']}")
    for browser in BROWSERS
    for doc in SCENARIOS
]


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, dict[str, Any]]]:
    """Observations by browser, then by scenario id: each browser runs the sample once."""
    return {}


@pytest.fixture
def observations(
    runs: dict[str, dict[str, dict[str, Any]]], browser: str, browser_harness: Harness
) -> dict[str, dict[str, Any]]:
    if browser not in runs:
        observed = browser_harness.observe(
            [Scenario.from_json(scenario_document(doc)) for doc in SCENARIOS]
        )
        runs[browser] = {doc["id"]: obs for doc, obs in zip(SCENARIOS, observed, strict=True)}
    return runs[browser]


@pytest.mark.browser
@pytest.mark.parametrize("browser", BROWSERS)
def test_installed_browser_is_the_truths_version(browser: str, browser_harness: Harness) -> None:
    expected = TRUTHS[browser]
    recorded = RECORDED[browser][0].split()[1].split(".")[: expected.version_parts]
    product, version = browser_harness.version.split()
    assert product == expected.product
    assert version.split(".")[: expected.version_parts] == recorded


@pytest.mark.browser
@pytest.mark.parametrize(("browser", "scenario_id"), CASES)
def test_observation_matches_truth(
    observations: dict[str, dict[str, Any]], browser: str, scenario_id: str
) -> None:
    expected = TRUTHS[browser]
    truth, observed = RECORDED[browser][1][scenario_id], observations[scenario_id]
    fields = FIELDS + expected.recorded
    assert {f: observed.get(f) for f in fields} == {f: truth.get(f) for f in fields}
    assert [k for k in observed if k not in expected.added] == list(truth), (
        "same keys in the same order as the truth file"
    )
    if truth["outcome"] == "blocked":
        named = expected.blocked(truth)
        assert {k: observed[k] for k in named} == named
    else:
        assert "blocked_by" not in observed
