"""What the browser does with a cross-origin fetch() (placeholder while the engine lands)."""

from __future__ import annotations

from app.cors.profiles import get_profile
from app.cors.scenario import Prediction, Scenario


def predict(scenario: Scenario, browser: str = "chromium") -> Prediction:
    profile = get_profile(browser)
    return Prediction(
        id=scenario.id, browser=profile.name, preflight=False, preflight_reasons=(),
        preflight_request=None, actual_request_sent=True, outcome="allowed", blocked_by=None,
        readable_headers=(), steps=(),
    )
