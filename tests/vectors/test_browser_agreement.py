"""The engine agrees with real Chromium, Firefox and WebKit on every field, for every scenario.

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

from app.cors import Scenario, predict
from app.generate import edge_cases, fuzz, generate, scenario_document
from app.harness.verify import compare, observe

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
