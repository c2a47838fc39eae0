"""The engine agrees with each browser's recorded v2 truth: whole fetches and sequences.

``../shared/vectors/v2-sample-scenarios.json`` holds 80 redirect scenarios and 12 cache
sequences; ``v2-<browser>-sample-truth.json`` what headless Chromium 156, Firefox ESR 153 and
WebKitGTK 2.50 did with each (every leg the target saw, ``response.redirected`` and
``response.url``, ``preflight_cache`` per fetch). Each item is one case per browser, compared
on every field ``app.harness.verify.compare_fetch`` knows, with that browser's profile. The
browsers themselves run the same comparison on fresh scenarios in test_browser_agreement.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cors.browser import predict, predict_sequence
from app.cors.scenario import FetchSequence, read_document
from app.generate import scenario_document
from app.harness.firefox import classify_reason, console_reason
from app.harness.verify import Disagreement, compare_fetch

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"
DOCUMENTS: list[dict[str, Any]] = json.loads(
    (VECTORS / "v2-sample-scenarios.json").read_text(encoding="utf-8")
)
BROWSERS = ("chromium", "firefox", "webkit")


def _truth(browser: str) -> dict[str, dict[str, Any]]:
    doc = json.loads((VECTORS / f"v2-{browser}-sample-truth.json").read_text(encoding="utf-8"))
    return {result["id"]: result["truth"] for result in doc["results"]}


TRUTH = {browser: _truth(browser) for browser in BROWSERS}


def firefox_named(observation: dict[str, Any]) -> dict[str, Any]:
    """A Firefox record with ``blocked_by`` named from its console message, as the harness
    names it (the stage is the last leg the target saw)."""
    if observation.get("outcome") != "blocked":
        return observation
    legs = observation.get("legs") or []
    stage = bool(legs) and legs[-1]["kind"] == "preflight"
    for message in observation.get("console", []):
        reason = console_reason(message)
        if reason is not None:
            name, _ = classify_reason(reason, preflight_stage=stage)
            if name is not None:
                return {**observation, "blocked_by": name}
    return {**observation, "blocked_by": None}


def disagreements(doc: dict[str, Any], browser: str) -> list[str]:
    document = read_document(scenario_document(doc))
    truth = TRUTH[browser][doc["id"]]
    named = firefox_named if browser == "firefox" else (lambda o: o)
    found: list[str] = []
    if isinstance(document, FetchSequence):
        predictions = predict_sequence(document, browser).predictions
        assert len(predictions) == len(truth["sequence"])
        for index, (item, prediction, observed) in enumerate(
            zip(document.items, predictions, truth["sequence"], strict=True)
        ):
            found += [
                f"fetch {index + 1}: {d}"
                for d in compare_fetch(
                    item.scenario, prediction.to_json(), named(observed), browser=browser
                )
            ]
        return found
    result: list[Disagreement] = compare_fetch(
        document, predict(document, browser).to_json(), named(truth), browser=browser
    )
    return [str(d) for d in result]


def test_the_sample_holds_redirects_and_sequences() -> None:
    kinds = [isinstance(read_document(scenario_document(doc)), FetchSequence) for doc in DOCUMENTS]
    assert (kinds.count(False), kinds.count(True)) == (80, 12)


@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("doc", DOCUMENTS, ids=[doc["id"] for doc in DOCUMENTS])
def test_engine_agrees_with_the_recorded_browser(doc: dict[str, Any], browser: str) -> None:
    found = disagreements(doc, browser)
    assert not found, "\n".join(found)
