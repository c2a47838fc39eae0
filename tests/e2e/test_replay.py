"""Replay the shared Chromium truth through the live app, as a learner's share links would.

Each scenario is opened as ``/?s=<scenario>&run=1`` in one browsing context, in the file's
order (cookies set by one scenario's response reach the later ones, as when the truth was
recorded). What the app observed (``GET /api/runs/<id>``: the legs the API origin received and
what the page's JavaScript got) must equal the truth, and the engine must agree with the
browser. The first ``REPLAY_COUNT`` scenarios run by default; ``CORS_REPLAY_ALL=1`` runs all.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import httpx
import pytest

from app.harness.rewrite import OriginMap
from app.web.server import BackgroundServer
from tests.e2e.conftest import VECTORS

pytestmark = pytest.mark.browser

REPLAY_COUNT = 60
PAGE_ORIGIN = "http://localhost:8701"
TARGET_ORIGIN = "http://localhost:8702"
# What the app can observe itself; blocked_by and console messages come from DevTools.
OBSERVED_KEYS = (
    "preflight",
    "actual_request_sent",
    "preflight_request",
    "actual_request_headers",
    "outcome",
    "error",
    "readable_headers",
    "status",
)


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def rewrite(scenario: dict[str, Any], origins: OriginMap) -> dict[str, Any]:
    """The scenario with its origins moved onto the live ports, in every value."""
    doc = {key: scenario[key] for key in ("id", "request", "preflight_response", "response")}

    def headers(pairs: list[list[str]]) -> list[list[str]]:
        return [[name, origins.to_real(value)] for name, value in pairs]

    doc["request"] = {**doc["request"], "headers": headers(doc["request"]["headers"])}
    for part in ("preflight_response", "response"):
        doc[part] = {**doc[part], "headers": headers(doc[part]["headers"])}
    return doc


def share_link(scenario: dict[str, Any]) -> str:
    raw = json.dumps(scenario, separators=(",", ":")).encode()
    return "/?s=" + base64.urlsafe_b64encode(raw).decode().rstrip("=") + "&run=1"


def test_share_links_replay_the_chromium_truth(context: Any, live: BackgroundServer) -> None:
    scenarios = load("sample-scenarios.json")
    truth = {item["id"]: item["truth"] for item in load("chromium-sample-truth.json")["results"]}
    count = len(scenarios) if os.environ.get("CORS_REPLAY_ALL") else REPLAY_COUNT
    origins = OriginMap(((PAGE_ORIGIN, live.site_url), (TARGET_ORIGIN, live.api_url)))
    page = context.new_page()
    failures: list[str] = []
    with httpx.Client(timeout=10) as client:
        for scenario in scenarios[:count]:
            page.goto(live.site_url + share_link(rewrite(scenario, origins)))
            card = page.locator("#runs .run[data-state='done']").first
            card.wait_for()
            run = client.get(f"{live.site_url}/api/runs/{card.get_attribute('data-run-id')}")
            observed = run.json()["observed"]
            if "error" in observed:
                observed["error"] = origins.to_scenario(observed["error"])
            expected = truth[scenario["id"]]
            got = {key: observed[key] for key in OBSERVED_KEYS if key in observed}
            want = {key: expected[key] for key in OBSERVED_KEYS if key in expected}
            if got != want:
                failures.append(f"{scenario['id']}: observed {got}, truth {want}")
            if run.json()["agreement"] is not True:
                failures.append(f"{scenario['id']}: disagreement {run.json()['differences']}")
    assert not failures, "\n".join(failures)
