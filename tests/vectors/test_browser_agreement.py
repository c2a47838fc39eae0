"""The engine agrees with real Chromium, Firefox and WebKit on every field, for every scenario
and every whole fetch (redirect chains, preflight-cache sequences).

Truth comes from the browsers at test time (app.harness runs each scenario in the real
engine against a target answering exactly the declared headers): the shared sample, a seeded
generator that reaches every rule, and hand-picked edges where checks collide. Each browser is
compared with its own profile. A disagreement is a bug in the engine or a deviation to record
in app/cors/profiles.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cors import FetchSequence, Scenario, predict, predict_sequence, read_document
from app.generate import edge_cases, fuzz, generate, scenario_document
from app.generate_fetches import (
    edge_chains,
    edge_fetches,
    edge_sequences,
    fuzz_fetches,
    fuzz_sequences,
    generate_fetches,
    generate_sequences,
)
from app.harness.session import shared_harness
from app.harness.verify import compare, compare_fetch, observe

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SAMPLE = json.loads((SHARED / "vectors" / "sample-scenarios.json").read_text(encoding="utf-8"))
# Inputs only (what the page sends and the server answers); the browsers supply the truth.
BOUNDARY = json.loads((Path(__file__).parent / "boundary-scenarios.json").read_text("utf-8"))
GENERATED_COUNT = 600
FUZZ_COUNT = 500
DOCUMENTS: list[dict[str, Any]] = [
    *SAMPLE,
    *generate(GENERATED_COUNT, seed=1),
    *fuzz(FUZZ_COUNT, seed=1),
    *edge_cases(),
    *BOUNDARY,
]
SCENARIOS = {doc["id"]: Scenario.from_json(scenario_document(doc)) for doc in DOCUMENTS}


BROWSERS = ("chromium", "firefox", "webkit")
_truth: dict[str, dict[str, dict[str, Any]]] = {}


def truth(browser: str) -> dict[str, dict[str, Any]]:
    """What the real browser did with every scenario, run once per browser and module."""
    if browser not in _truth:
        observations = observe(list(SCENARIOS.values()), browser)
        _truth[browser] = dict(zip(SCENARIOS, observations, strict=True))
    return _truth[browser]


def test_the_corpus_reaches_every_outcome_and_named_failure() -> None:
    predictions = [predict(s) for s in SCENARIOS.values()]
    assert {p.outcome for p in predictions} == {"allowed", "blocked", "opaque", "error"}
    named = {p.blocked_by for p in predictions if p.blocked_by}
    for error in [
        "MissingAllowOriginHeader", "MultipleAllowOriginValues", "InvalidAllowOriginValue",
        "AllowOriginMismatch", "WildcardOriginNotAllowed", "InvalidAllowCredentials",
        "PreflightInvalidStatus", "PreflightWildcardOriginNotAllowed",
        "PreflightDisallowedRedirect", "PreflightMissingAllowOriginHeader",
        "PreflightMultipleAllowOriginValues", "PreflightAllowOriginMismatch",
        "PreflightInvalidAllowCredentials", "MethodDisallowedByPreflightResponse",
        "HeaderDisallowedByPreflightResponse", "InvalidAllowMethodsPreflightResponse",
        "InvalidAllowHeadersPreflightResponse",
    ]:  # fmt: skip
        assert error in named, error


@pytest.mark.browser
@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("scenario_id", list(SCENARIOS))
def test_engine_agrees_with_the_browser(scenario_id: str, browser: str) -> None:
    prediction = predict(SCENARIOS[scenario_id], browser)
    observation = truth(browser)[scenario_id]
    disagreements = compare(prediction.to_json(), observation, browser=browser)
    assert not disagreements, "\n".join([*map(str, disagreements), *observation.get("console", [])])


# --- whole fetches: redirect chains and preflight-cache sequences (v2) ------------------------

V2_SAMPLE = json.loads((SHARED / "vectors" / "v2-sample-scenarios.json").read_text("utf-8"))
# A few hundred per engine: the shared sample, structured chains, random graphs, hand-picked
# edges and cache sequences, generated and fuzzed with seeds of their own. More by hand with
# app.generate_fetches and `cors-playground verify`.
V2_DOCUMENTS: list[dict[str, Any]] = [
    *V2_SAMPLE,
    *generate_fetches(150, seed=11),
    *fuzz_fetches(100, seed=12),
    *edge_fetches(),
    *edge_chains(),
    *generate_sequences(26, seed=13),
    *fuzz_sequences(16, seed=14),
    *edge_sequences(),
]
WHOLE = {doc["id"]: read_document(scenario_document(doc)) for doc in V2_DOCUMENTS}
_whole: dict[str, dict[str, dict[str, Any]]] = {}


def whole_truth(browser: str) -> dict[str, dict[str, Any]]:
    """What the real browser did with every whole fetch and sequence, once per browser."""
    if browser not in _whole:
        harness = shared_harness(browser)
        observations = harness.observe_documents(list(WHOLE.values()))
        _whole[browser] = dict(zip(WHOLE, observations, strict=True))
    return _whole[browser]


def test_the_whole_fetch_corpus_reaches_every_outcome_and_redirect_rule() -> None:
    outcomes: set[str] = set()
    checks: set[str] = set()
    caches: set[str | None] = set()
    for document in WHOLE.values():
        if isinstance(document, FetchSequence):
            predictions = list(predict_sequence(document, "spec").predictions)
        else:
            predictions = [predict(document, "spec")]
        for p in predictions:
            outcomes.add(p.outcome)
            checks |= {s.check for s in p.steps}
            caches.add(p.preflight_cache)
    assert outcomes == {"allowed", "blocked", "opaque", "opaqueredirect", "error"}
    assert {"redirect", "redirect-mode", "preflight-cache"} <= checks
    assert {None, "miss", "hit"} <= caches


@pytest.mark.browser
@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("document_id", list(WHOLE))
def test_engine_agrees_with_the_browser_on_whole_fetches(document_id: str, browser: str) -> None:
    """Every leg, response.redirected and response.url, and for a sequence every fetch with
    its preflight_cache."""
    document = WHOLE[document_id]
    observation = whole_truth(browser)[document_id]
    found: list[str] = []
    if isinstance(document, FetchSequence):
        predictions = predict_sequence(document, browser).predictions
        for index, (item, prediction, observed) in enumerate(
            zip(document.items, predictions, observation["sequence"], strict=True)
        ):
            found += [
                f"fetch {index + 1}: {d}"
                for d in compare_fetch(
                    item.scenario, prediction.to_json(), observed, browser=browser
                )
            ]
    else:
        prediction = predict(document, browser).to_json()
        found = [str(d) for d in compare_fetch(document, prediction, observation, browser=browser)]
    assert not found, "\n".join([*found, *observation.get("console", [])])
