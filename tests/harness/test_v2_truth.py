"""The harness, in each real browser, reproduces that browser's shared v2 truth: whole fetches.

The 80 redirect scenarios and 12 cache sequences of ``v2-sample-scenarios.json`` run once per
browser in one session (sequences on their timelines, Firefox's origins warmed up first, as
the truth was recorded); each becomes a case comparing what the target saw (every leg: its
declared URL, the URL as it arrived, kind, method, Origin, Access-Control-Request-Method and
-Headers, whether a body came) and what the page read (outcome, response.redirected,
response.url, readable headers, and each fetch's preflight_cache) with the recorded truth.
Chromium's truth also names the failed check as DevTools does. A difference here is almost
always a harness bug (the target, the origin rewriting, the page's fetch loop).
"""

from __future__ import annotations

from typing import Any

import pytest

from app.cors.scenario import read_document
from app.generate import scenario_document
from app.harness import Harness

from .conftest import BROWSERS, load_json

DOCUMENTS: list[dict[str, Any]] = load_json("v2-sample-scenarios.json")
RECORDED = {
    browser: {r["id"]: r["truth"] for r in load_json(f"v2-{browser}-sample-truth.json")["results"]}
    for browser in BROWSERS
}
FIELDS = ("preflight", "actual_request_sent", "outcome", "redirected", "response_url")
LEG_FIELDS = ("url", "wire_url", "kind", "method", "origin", "acrm", "acrh", "body")
CASES = [
    pytest.param(browser, doc["id"], id=f"{browser}-{doc['id']}")
    for browser in BROWSERS
    for doc in DOCUMENTS
]


def shape(observation: dict[str, Any], browser: str) -> dict[str, Any]:
    """The compared part of an observation (the harness's or the truth file's)."""
    doc: dict[str, Any] = {f: observation.get(f) for f in FIELDS}
    doc["readable_headers"] = sorted(observation.get("readable_headers") or [])
    doc["legs"] = [{f: leg.get(f) for f in LEG_FIELDS} for leg in observation.get("legs", [])]
    if "preflight_cache" in observation:
        doc["preflight_cache"] = observation["preflight_cache"]
    if browser == "chromium" and observation.get("outcome") == "blocked":
        doc["blocked_by"] = observation.get("blocked_by")
    return doc


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, dict[str, Any]]]:
    """Observations by browser, then by document id: each browser runs the sample once."""
    return {}


@pytest.fixture
def observations(
    runs: dict[str, dict[str, dict[str, Any]]], browser: str, browser_harness: Harness
) -> dict[str, dict[str, Any]]:
    if browser not in runs:
        observed = browser_harness.observe_documents(
            [read_document(scenario_document(d)) for d in DOCUMENTS]
        )
        runs[browser] = {doc["id"]: obs for doc, obs in zip(DOCUMENTS, observed, strict=True)}
    return runs[browser]


@pytest.mark.browser
@pytest.mark.parametrize(("browser", "document_id"), CASES)
def test_observation_matches_v2_truth(
    observations: dict[str, dict[str, Any]], browser: str, document_id: str
) -> None:
    observed, truth = observations[document_id], RECORDED[browser][document_id]
    if "sequence" in truth:
        assert [shape(o, browser) for o in observed["sequence"]] == [
            shape(t, browser) for t in truth["sequence"]
        ]
    else:
        assert shape(observed, browser) == shape(truth, browser)
