"""Console message templates against what real Chromium and Firefox printed, and MDN pages.

Truth: the shared sample (``../shared/vectors/*-sample-truth.json``, 150 scenarios) and
``console-truth.json`` beside this file (every failed check the sample does not reach, recorded
here with ``python -m tests.fix.record_console``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cors import Scenario, predict
from app.fix.messages import (
    BLOCKED_BY_NAMES,
    MDN_ERRORS,
    MDN_PAGES,
    chromium_console,
    console_messages,
    firefox_console,
    mdn_url,
)
from app.generate import scenario_document

HERE = Path(__file__).parent
VECTORS = HERE.parents[1] / ".." / "shared" / "vectors"
RENDER = {"chromium": chromium_console, "firefox": firefox_console}


def _cases() -> list[Any]:
    cases = []
    if (VECTORS / "sample-scenarios.json").exists():
        scenarios = {
            s["id"]: s for s in json.loads((VECTORS / "sample-scenarios.json").read_text("utf-8"))
        }
        for browser in RENDER:
            truth = json.loads((VECTORS / f"{browser}-sample-truth.json").read_text("utf-8"))
            for result in truth["results"]:
                cases.append(
                    pytest.param(
                        browser,
                        scenarios[result["id"]],
                        result["truth"],
                        id=f"sample-{browser}-{result['id']}",
                    )
                )
    recorded = json.loads((HERE / "console-truth.json").read_text("utf-8"))
    scenarios = {s["id"]: s for s in recorded["scenarios"]}
    for browser in RENDER:
        for result in recorded[browser]["results"]:
            cases.append(
                pytest.param(
                    browser, scenarios[result["id"]], result, id=f"{browser}-{result['id']}"
                )
            )
    return cases


@pytest.mark.parametrize(("browser", "doc", "truth"), _cases())
def test_the_console_template_prints_what_the_browser_printed(
    browser: str, doc: dict[str, Any], truth: dict[str, Any]
) -> None:
    scenario = Scenario.from_json(scenario_document(doc))
    prediction = predict(scenario, browser)
    assert prediction.outcome == truth["outcome"]
    assert list(RENDER[browser](scenario, prediction)) == truth["console"]


def test_the_recorded_truth_reaches_every_failed_check_in_chromium() -> None:
    recorded = json.loads((HERE / "console-truth.json").read_text("utf-8"))
    names = {r["blocked_by"] for r in recorded["chromium"]["results"]}
    # InvalidAllowOriginValue (both stages) is reached by the shared sample: s42-0000, s42-0003.
    assert set(BLOCKED_BY_NAMES) - names == {
        "InvalidAllowOriginValue",
        "PreflightInvalidAllowOriginValue",
    }


@pytest.mark.parametrize("name", BLOCKED_BY_NAMES)
def test_every_failed_check_has_an_mdn_page(name: str) -> None:
    url = mdn_url(name)
    assert url is not None
    assert url.startswith(MDN_ERRORS)
    assert url.removeprefix(MDN_ERRORS).startswith("CORS")


def test_the_preflight_and_the_response_stage_share_a_page() -> None:
    for name, page in MDN_PAGES.items():
        if name.startswith("Preflight") and name.removeprefix("Preflight") in MDN_PAGES:
            assert MDN_PAGES[name.removeprefix("Preflight")] == page


def test_mdn_spells_the_credentials_page_its_own_way() -> None:
    assert mdn_url("InvalidAllowCredentials") == MDN_ERRORS + "CORSMIssingAllowCredentials"
    assert mdn_url(None) is None
    assert mdn_url("SomethingElse") is None


def test_the_engine_names_no_check_without_an_mdn_page() -> None:
    from app.generate import edge_cases, generate

    for doc in generate(400, seed=3) + edge_cases():
        scenario = Scenario.from_json(scenario_document(doc))
        for browser in ("chromium", "firefox", "webkit", "spec"):
            blocked = predict(scenario, browser).blocked_by
            assert blocked is None or blocked in MDN_PAGES, (doc["id"], browser, blocked)


def test_allowed_requests_print_nothing() -> None:
    scenario = Scenario.from_json(
        {
            "origin": "http://a.test",
            "url": "http://b.test/x",
            "response": {"headers": [["Access-Control-Allow-Origin", "*"]]},
        }
    )
    prediction = predict(scenario)
    assert chromium_console(scenario, prediction) == ()
    assert firefox_console(scenario, prediction) == ()


def test_each_browser_gets_its_own_prediction_and_webkit_is_not_quoted() -> None:
    scenario = Scenario.from_json(
        {
            "origin": "http://a.test",
            "url": "http://b.test/x",
            "response": {"headers": [["Access-Control-Allow-Origin", "http://a.test, http://c"]]},
        }
    )
    predictions = {b: predict(scenario, b) for b in ("chromium", "firefox", "webkit", "spec")}
    found = {m.browser: m for m in console_messages(scenario, predictions)}
    assert set(found) == {"chromium", "firefox", "webkit"}
    assert "contains multiple values" in found["chromium"].lines[0]
    # Firefox names one wrong line a mismatch, quoting it.
    assert "does not match ‘http://a.test, http://c’" in found["firefox"].lines[0]
    assert found["webkit"].lines == ()
    assert "cannot record" in found["webkit"].note
